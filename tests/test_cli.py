"""The `chatbot` command, run as a user runs it: help texts, errors, and the JSON contract."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PASSAGE_KEYS = {"chunk_id", "doc_id", "title", "section", "language", "text", "score"}
ANSWER_KEYS = {"question", "language", "answer", "abstained", "urgent", "quotes", "passages"}


def chatbot_exe() -> str:
    exe = Path(sys.executable).with_name("chatbot")  # the venv's console script
    return str(exe) if exe.exists() else shutil.which("chatbot") or "chatbot"


def run(env: dict[str, str], *args: str | bytes, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `chatbot ARGS...`; bytes arguments reach the program as raw argv bytes."""
    exe = chatbot_exe()
    argv = [exe.encode() if args and isinstance(args[0], bytes) else exe, *args]
    return subprocess.run(argv, env=env, capture_output=True, timeout=timeout)


def out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.decode("utf-8")


def err(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode("utf-8", "replace")


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, err(proc))
    message = err(proc).strip()
    assert "Traceback" not in message and message.count("\n") == 0, message
    assert message.startswith("error: ")
    return message


@pytest.fixture(scope="module")
def plain_env(tmp_path_factory) -> dict[str, str]:
    """No CHATBOT_* settings from the shell, no network for model hubs, data written to a temp folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(HF_HUB_OFFLINE="1", CHATBOT_DATA_DIR=str(tmp_path_factory.mktemp("data")))
    return env


@pytest.fixture(scope="module")
def env(plain_env, tmp_path_factory) -> dict[str, str]:
    """As plain_env, with abstention switched off (the hashing embedder's similarities mean little),
    so that the JSON contract can be checked on answers that have passages."""
    return {**plain_env, "CHATBOT_ABSTAIN_Z": "-1000", "CHATBOT_ABSTAIN_TOPIC": "0"}


@pytest.fixture(scope="module")
def cli_index(env, tmp_path_factory) -> str:
    """`chatbot build --index TMP --model hashing` of the seed corpus."""
    index = str(tmp_path_factory.mktemp("cli") / "index")
    proc = run(env, "build", "--index", index, "--model", "hashing")
    assert proc.returncode == 0, err(proc)
    assert "built (3 documents" in out(proc) and "hashing-256" in out(proc)
    return index


def ask_json(env, index: str, *args) -> subprocess.CompletedProcess:
    return run(env, "ask", *args, "--index", index, "--model", "hashing", "--json")


# --- help -------------------------------------------------------------------------------------


def test_top_level_help_lists_the_commands(env):
    proc = run(env, "--help")
    assert proc.returncode == 0
    text = out(proc)
    assert "medical FAQ chatbot" in text and "English and Bahasa Indonesia" in text
    for command in ("build", "ask", "serve", "clean"):
        assert command in text
    assert 'chatbot ask "How is CMV transmitted?"' in text  # an example to copy


@pytest.mark.parametrize("command,phrases", [
    ("build", ["Clean, chunk and embed the corpus", "--force", "--index", "--corpus", "--model", "minilm-st", "CHATBOT_MODEL_CACHE"]),
    ("ask", ["Answer a question", "English or Bahasa Indonesia", "--batch", "--json", "--lang", "--k"]),
    ("serve", ["chat web app", "--port", "--host"]),
    ("clean", ["lines of a corpus file that cleaning removes", "file"]),
])
def test_each_command_has_help(env, command, phrases):
    proc = run(env, command, "--help")
    assert proc.returncode == 0, err(proc)
    text = " ".join(out(proc).split())  # argparse wraps lines
    assert f"usage: chatbot {command}" in text
    for phrase in phrases:
        assert phrase in text, phrase


def test_no_command_is_a_usage_error(env):
    proc = run(env)
    assert proc.returncode == 2 and "Traceback" not in err(proc)
    assert "usage: chatbot" in err(proc)


# --- ask: errors ------------------------------------------------------------------------------


def test_ask_without_question_or_batch_is_a_one_line_error(env):
    message = assert_one_line_error(run(env, "ask"))
    assert "--batch" in message and "chatbot ask" in message


def test_ask_with_both_question_and_batch_is_refused(env, tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"question": "x"}\n', encoding="utf-8")
    assert_one_line_error(run(env, "ask", "What is CMV?", "--batch", str(batch)))


def test_ask_against_a_missing_index_says_to_build(env, tmp_path):
    missing = tmp_path / "no-index-here"
    message = assert_one_line_error(run(env, "ask", "What is CMV?", "--index", str(missing), "--model", "hashing"))
    assert "chatbot build" in message and str(missing) in message
    assert not missing.exists()  # a non-default index is never built behind the user's back


def test_ask_with_a_missing_batch_file_is_a_one_line_error(env, cli_index, tmp_path):
    message = assert_one_line_error(ask_json(env, cli_index, "--batch", str(tmp_path / "nope.jsonl")))
    assert "nope.jsonl" in message


def test_bad_setting_variable_is_a_one_line_error(env, cli_index):
    message = assert_one_line_error(run({**env, "CHATBOT_K": "lots"}, "ask", "What is CMV?", "--index", cli_index))
    assert "CHATBOT_K" in message


# --- ask: the JSON contract -------------------------------------------------------------------


def test_ask_json_prints_one_object_with_the_documented_keys(env, cli_index):
    proc = ask_json(env, cli_index, "Is there a vaccine for CMV?")
    assert proc.returncode == 0, err(proc)
    lines = out(proc).strip().split("\n")
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert set(answer) == ANSWER_KEYS
    assert answer["question"] == "Is there a vaccine for CMV?" and answer["language"] == "en"
    assert isinstance(answer["abstained"], bool) and isinstance(answer["urgent"], bool)
    assert answer["passages"] and all(set(p) == PASSAGE_KEYS for p in answer["passages"])
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True)
    assert "no commercially available vaccine" in answer["passages"][0]["text"]
    assert answer["quotes"] and all(set(q) == {"text", "items", "passage", "language", "translation"} for q in answer["quotes"])
    for q in answer["quotes"]:  # each quote is verbatim in the passage it cites, and in the plain-text answer
        passage = answer["passages"][q["passage"] - 1]
        assert q["text"] in passage["text"] and q["language"] == passage["language"] and q["translation"] is None
        assert f"{q['text']} [{q['passage']}]" in answer["answer"]


def test_ask_k_limits_the_passages(env, cli_index):
    proc = ask_json(env, cli_index, "How is CMV transmitted?", "--k", "2")
    assert proc.returncode == 0, err(proc)
    assert len(json.loads(out(proc))["passages"]) == 2


def test_ask_lang_sets_the_reply_language(env, cli_index):
    proc = ask_json(env, cli_index, "Is there a vaccine for CMV?", "--lang", "id")
    assert json.loads(out(proc))["language"] == "id"


def test_batch_keeps_order_and_ids_and_reports_bad_lines(env, cli_index, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "q-en", "question": "Is there a vaccine for CMV?"}),
        '{"id": "broken", "question": ',
        json.dumps({"id": "q-id", "question": "Apakah ada vaksin untuk CMV?"}),
    ]) + "\n", encoding="utf-8")
    proc = ask_json(env, cli_index, "--batch", str(batch))
    assert proc.returncode == 0, err(proc)
    rows = [json.loads(line) for line in out(proc).strip().split("\n")]
    assert [r["id"] for r in rows] == ["q-en", "line-2", "q-id"]
    assert set(rows[0]) == ANSWER_KEYS | {"id"} and set(rows[2]) == ANSWER_KEYS | {"id"}
    assert "error" in rows[1] and f"{batch}:2" in rows[1]["error"]
    assert "error" not in rows[0] and "error" not in rows[2]
    assert (rows[0]["language"], rows[2]["language"]) == ("en", "id")


def test_uncalibrated_model_does_not_always_abstain(plain_env, cli_index):
    proc = ask_json(plain_env, cli_index, "Is there a vaccine for CMV?")
    assert proc.returncode == 0, err(proc)
    answer = json.loads(out(proc))
    assert answer["abstained"] is False and answer["passages"]


def test_undecodable_bytes_in_the_question_do_not_crash(env, cli_index):
    proc = run(env, b"ask", b"Is there a vaccine for CMV\xff\xfe?", b"--index", cli_index.encode(),
               b"--model", b"hashing", b"--json")
    assert proc.returncode == 0, err(proc)
    answer = json.loads(out(proc))
    assert set(answer) == ANSWER_KEYS
    assert "vaccine for CMV" in answer["question"]
    assert "\ufffd" not in answer["question"] and "\udcff" not in answer["question"]


def test_readable_output_shows_the_passages(env, cli_index):
    proc = run(env, "ask", "Is there a vaccine for CMV?", "--index", cli_index, "--model", "hashing")
    assert proc.returncode == 0, err(proc)
    assert "Passages:" in out(proc) and "no commercially available vaccine" in out(proc)


# --- build and clean --------------------------------------------------------------------------


def test_second_build_reports_up_to_date(env, cli_index):
    proc = run(env, "build", "--index", cli_index, "--model", "hashing")
    assert proc.returncode == 0, err(proc)
    assert "already up to date" in out(proc)


def test_build_of_a_missing_corpus_is_a_one_line_error(env, tmp_path):
    message = assert_one_line_error(run(env, "build", "--index", str(tmp_path / "i"), "--corpus", str(tmp_path / "none"), "--model", "hashing"))
    assert "does not exist" in message


def test_clean_lists_the_sponsor_line(env, corpus_dir):
    proc = run(env, "clean", str(corpus_dir / "cmv-nec-preemies.md"))
    assert proc.returncode == 0, err(proc)
    lines = out(proc).splitlines()
    assert "cmv-nec-preemies: removed by 'sponsor advert': Healthcare data growth can be overwhelming scale effortlessly with TrueNAS by Esdebe." in lines
    assert any("Thank you to our Sponsor Esdebe" in line for line in lines)
    assert not any("Being born too early" in line for line in lines)  # content is not listed


def test_clean_of_a_missing_file_is_a_one_line_error(env, tmp_path):
    message = assert_one_line_error(run(env, "clean", str(tmp_path / "missing.md")))
    assert "missing.md" in message
