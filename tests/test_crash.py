"""Crash safety with real processes: `chatbot build` killed with SIGKILL at any moment leaves
either the previous index or the complete new one, and a full chat queue answers politely.

(Store writes killed mid-stream, on SQLite and PostgreSQL, are covered by test_store_crash.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from ui_helpers import message_text, served

from chatbot.embeddings import load_embedders
from chatbot.index.directory import MANIFEST, load_index, read_manifest
from chatbot.index.build import build
from chatbot.settings import Settings
from evaluation.load_test import close_all

REPO = Path(__file__).resolve().parent.parent
CHATBOT = [sys.executable, "-m", "chatbot"]
BIG_RECORDS = 1000  # a hashing-model build of this many records takes a few seconds
DELAYS = (0.0, 0.4, 0.7, 0.85, 0.97)  # kill moments, as fractions of a full build (0.0: at 0.2 s)
QUESTION = "How is CMV transmitted?"
TOPICS = "virus infection blood anemia platelets baby mother treatment fever marrow transfusion saliva".split()

# `chatbot build`, but the process SIGKILLs itself at one named step of the directory swap.
KILL_AT_STEP = textwrap.dedent("""
    import os, shutil, signal, sys
    from pathlib import Path
    from chatbot.cli import main

    step, name = sys.argv[1], Path(sys.argv[2]).name
    real_rename, real_rmtree, real_unlink = os.rename, shutil.rmtree, os.unlink
    swapped, removed = [], []

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def rename(src, dst):
        if step == "before-first-rename" and Path(src).name == name:
            die()
        if step == "between-renames" and Path(dst).name == name:
            die()
        real_rename(src, dst)
        if Path(dst).name == name:
            swapped.append(True)

    def rmtree(path, *args, **kwargs):
        if step == "before-removing-old" and swapped and Path(path).name == f".{name}.old":
            die()
        return real_rmtree(path, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        if swapped:  # after the swap only the previous index's files are deleted
            removed.append(path)
            if step == "while-removing-old" and len(removed) == 2:
                die()
        return real_unlink(path, *args, **kwargs)

    os.rename, shutil.rmtree, os.unlink = rename, rmtree, unlink
    sys.exit(main(sys.argv[3:]))
""")


@dataclass(frozen=True)
class Corpora:
    """The seed corpus (the index before) and two generated ones (the index after), with the
    file checksums and counts of an index built from each."""

    root: Path
    small: Path
    medium: Path
    big: Path
    refs: dict[str, dict]  # name -> {"files": ..., "counts": ...}
    old_index: Path  # a pristine index of the seed corpus, copied into place before each run
    build_seconds: float  # wall time of a full `chatbot build` of `big`


def cli_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return env | {"CHATBOT_DATA_DIR": str(tmp / "data"), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}


def run(args: list[str], tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=cli_env(tmp), cwd=tmp, timeout=timeout)


def build_cmd(index: Path, corpus: Path, force: bool = True) -> list[str]:
    return [*CHATBOT, "build", "--index", str(index), "--corpus", str(corpus), "--model", "hashing", *(["--force"] if force else [])]


def write_records(folder: Path, n: int) -> Path:
    """A JSONL collection of `n` short English records."""
    folder.mkdir()
    with open(folder / "records.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(f"Sentence {j} of record {i} is about {TOPICS[(i + j) % len(TOPICS)]} and CMV." for j in range(5))
            fh.write(json.dumps({"id": f"rec-{i:05d}", "title": f"Record {i}", "language": "en", "text": text}) + "\n")
    return folder


def reference(index: Path) -> dict:
    manifest = read_manifest(index)
    return {"files": manifest["files"], "counts": manifest["counts"]}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> Corpora:
    root = tmp_path_factory.mktemp("crash")
    small, medium, big = REPO / "corpus", write_records(root / "medium", 40), write_records(root / "big", BIG_RECORDS)
    refs = {}
    for name, corpus in (("old", small), ("medium", medium)):
        settings = Settings.from_env(env={}, index_dir=root / f"ref-{name}", corpus=(corpus,), model="hashing")
        build(settings, progress=lambda _: None)
        refs[name] = reference(root / f"ref-{name}")
    started = time.perf_counter()
    done = run(build_cmd(root / "ref-big", big), root)
    build_seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    refs["big"] = reference(root / "ref-big")
    assert refs["big"]["counts"] == {"documents": BIG_RECORDS, "chunks": BIG_RECORDS, "headings": BIG_RECORDS}
    return Corpora(root, small, medium, big, refs, root / "ref-old", build_seconds)


def fresh_old_index(corpora: Corpora, tmp_path: Path) -> Path:
    index = tmp_path / "X"
    shutil.copytree(corpora.old_index, index)
    return index


def leftovers(index: Path) -> list[str]:
    return sorted(p.name for p in index.parent.glob(f".{index.name}.building-*"))


def whole_index(index: Path, corpora: Corpora) -> str:
    """Which complete index `index` holds ("old", "medium" or "big"); fails on anything else."""
    manifest = read_manifest(index)  # recovers an interrupted swap first
    loaded = load_index(index, load_embedders("hashing"))  # checksums, counts and the model verified
    assert {p.name for p in index.iterdir()} == set(manifest["files"]) | {MANIFEST}, "files from two builds are mixed"
    assert len(loaded.chunks) == manifest["counts"]["chunks"]
    found = [name for name, ref in corpora.refs.items() if ref == {"files": manifest["files"], "counts": manifest["counts"]}]
    assert len(found) == 1, f"{index} is neither the old nor the new index: counts {manifest['counts']}"
    return found[0]


def assert_answers(index: Path, tmp: Path) -> None:
    """`chatbot ask --json` on the index exits 0 with passages."""
    done = run([*CHATBOT, "ask", "--index", str(index), "--model", "hashing", "--json", QUESTION], tmp)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["passages"] and not answer["abstained"], answer


def assert_next_build_is_clean(index: Path, corpus: Path, corpora: Corpora, expected: str, tmp: Path) -> None:
    """A normal build after the crash succeeds, gives the new index and leaves no staging folder."""
    done = run(build_cmd(index, corpus, force=False), tmp)
    assert done.returncode == 0, done.stderr
    assert whole_index(index, corpora) == expected
    assert leftovers(index) == []


def killed_build(step: str, index: Path, corpus: Path, tmp: Path) -> subprocess.CompletedProcess:
    """`chatbot build --force` of `corpus` into `index`, SIGKILLed at `step` of the swap."""
    return run([sys.executable, "-c", KILL_AT_STEP, step, str(index), *build_cmd(index, corpus)[len(CHATBOT):]], tmp)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


# --- kill -9 during `chatbot build` ---------------------------------------------------------------


@pytest.mark.parametrize("fraction", DELAYS)
def test_build_killed_at_any_moment_leaves_old_or_new_index(corpora, tmp_path, fraction):
    index = fresh_old_index(corpora, tmp_path)
    delay = max(0.2, fraction * corpora.build_seconds)
    proc = subprocess.Popen(build_cmd(index, corpora.big), env=cli_env(tmp_path), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(delay)
    finally:
        kill(proc)
    outcome = whole_index(index, corpora)
    assert outcome in ("old", "big")
    if fraction == 0.0:
        assert outcome == "old", "a build killed after 0.2 s cannot have finished"
    assert_answers(index, tmp_path)
    assert_next_build_is_clean(index, corpora.big, corpora, "big", tmp_path)


def test_build_killed_once_its_manifest_is_written(corpora, tmp_path):
    """The last moments of a build: everything written to the staging folder, swap about to start."""
    index = fresh_old_index(corpora, tmp_path)
    proc = subprocess.Popen(build_cmd(index, corpora.big), env=cli_env(tmp_path), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if any((p / MANIFEST).exists() for p in tmp_path.glob(".X.building-*")):
                break
            time.sleep(0.001)
    finally:
        kill(proc)
    assert whole_index(index, corpora) in ("old", "big")
    assert_answers(index, tmp_path)
    assert_next_build_is_clean(index, corpora.big, corpora, "big", tmp_path)


@pytest.mark.parametrize("step, expected", [("before-first-rename", "old"), ("between-renames", "old"),
                                            ("before-removing-old", "medium"), ("while-removing-old", "medium")])
def test_build_killed_at_each_step_of_the_swap(corpora, tmp_path, step, expected):
    index = fresh_old_index(corpora, tmp_path)
    done = killed_build(step, index, corpora.medium, tmp_path)
    assert done.returncode == -signal.SIGKILL, f"the build was not killed at {step}: {done.stderr}"
    if step == "between-renames":  # the real thing: no index folder, the previous one aside
        assert not index.exists() and (tmp_path / ".X.old" / MANIFEST).exists()
    assert_answers(index, tmp_path)  # a fresh process, as after a power cut
    assert whole_index(index, corpora) == expected
    assert_next_build_is_clean(index, corpora.medium, corpora, "medium", tmp_path)


@pytest.mark.parametrize("reader", ["read_manifest", "chatbot ask"])
def test_state_between_the_two_renames_is_recovered(corpora, tmp_path, reader):
    """A crash between the renames leaves no index folder, the previous one as `.X.old` and
    the complete new one in its staging folder: readers get the previous one back."""
    index = tmp_path / "X"
    shutil.copytree(corpora.old_index, tmp_path / ".X.old")
    shutil.copytree(corpora.root / "ref-medium", tmp_path / ".X.building-99999")
    if reader == "read_manifest":
        assert read_manifest(index)["counts"] == corpora.refs["old"]["counts"]
    else:
        assert_answers(index, tmp_path)
    assert index.is_dir() and not (tmp_path / ".X.old").exists()
    assert whole_index(index, corpora) == "old"
    assert_next_build_is_clean(index, corpora.medium, corpora, "medium", tmp_path)


def test_forced_rebuild_after_an_interrupted_swap_never_loses_both_indexes(corpora, tmp_path):
    """Two crashes in a row: the first between the renames (only `.X.old` is left), then a
    `build --force` killed just before it renames its new index into place."""
    index = fresh_old_index(corpora, tmp_path)
    first = killed_build("between-renames", index, corpora.medium, tmp_path)
    assert first.returncode == -signal.SIGKILL and not index.exists() and (tmp_path / ".X.old").is_dir()
    second = killed_build("between-renames", index, corpora.medium, tmp_path)
    assert second.returncode == -signal.SIGKILL
    assert whole_index(index, corpora) in ("old", "medium"), "no index is left after two interrupted builds"


def test_reader_between_the_two_renames_does_not_break_the_swap(corpora, tmp_path, monkeypatch):
    """A server process checking its index (read_manifest) while a build sits between its two
    renames must not mistake the live swap for a crash: it waits, then sees the new index."""
    import chatbot.index.directory as index_module

    index = fresh_old_index(corpora, tmp_path)
    real_rename = os.rename
    readers: list[subprocess.Popen] = []
    code = "import sys; from chatbot.index.directory import read_manifest; print(read_manifest(sys.argv[1])['counts']['documents'])"

    def rename_with_a_reader_in_between(src, dst):
        real_rename(src, dst)
        if Path(src) == index:  # the old index just moved aside; another process looks now
            readers.append(subprocess.Popen([sys.executable, "-c", code, str(index)], stdout=subprocess.PIPE, text=True))
            time.sleep(1.0)  # let it reach the lock before the swap completes

    monkeypatch.setattr(index_module.os, "rename", rename_with_a_reader_in_between)
    settings = Settings.from_env(env={}, index_dir=index, corpus=(corpora.medium,), model="hashing")
    build(settings, force=True, progress=lambda _: None)
    monkeypatch.undo()
    assert whole_index(index, corpora) == "medium"
    assert len(readers) == 1
    out, _ = readers[0].communicate(timeout=60)
    assert readers[0].returncode == 0
    assert int(out.strip()) == json.loads((index / "manifest.json").read_text())["counts"]["documents"]


# --- a full chat queue -------------------------------------------------------------------------


def ask_all_at_once(url: str, n: int) -> list[tuple[str, object]]:
    """`n` clients send one chat question at the same moment; ("ok", messages) or (error type, text) each."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(n)]
    start, results = threading.Barrier(n), [("not run", "")] * n

    def one(i: int) -> None:
        start.wait(timeout=60)
        try:
            messages, _ = clients[i].submit("Can CMV cause anemia and low platelets at the same time?", "auto", [],
                                            api_name="/chat").result(timeout=120)
            results[i] = ("ok", messages)
        except Exception as exc:  # what a client of a full queue sees is the point of the test
            results[i] = (type(exc).__name__, str(exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
    finally:
        close_all(clients)
    return results


def test_full_queue_answers_politely(corpora, tmp_path):
    from gradio_client import Client

    args = ["--index", str(corpora.old_index), "--model", "hashing", "--host", "127.0.0.1"]
    with served(tmp_path, args, {"CHATBOT_QUEUE_SIZE": "1"}) as server:
        url, proc = server.url, server.process
        results = ask_all_at_once(url, 12)
        assert any(kind != "ok" for kind, _ in results), "12 simultaneous questions never filled a queue of 1"
        assert any(kind == "ok" for kind, _ in results)
        for kind, got in results:
            if kind == "ok":
                assert message_text(got[1]).startswith("**Here is what our sources say:**"), got
            else:
                assert kind == "QueueError" and "try again" in str(got).lower(), (kind, got)
        assert proc.poll() is None, "the server died under load"
        with urllib.request.urlopen(url + "health", timeout=10) as r:
            assert r.status == 200 and json.loads(r.read())["status"] == "ok"
        client = Client(url, verbose=False)
        messages, _ = client.predict("Apakah ada vaksin untuk CMV?", "auto", [], api_name="/chat")
        close_all([client])
        assert message_text(messages[1]).startswith("**Berikut informasi dari sumber kami:**")
