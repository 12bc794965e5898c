"""`chatbot staff ...` and `chatbot data ...` as a user runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import db_url  # noqa: F401 (fixture)

from chatbot.settings import Settings
from chatbot.store import open_store

CHATBOT = [sys.executable, "-m", "chatbot"]


def run(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*CHATBOT, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    message = proc.stderr.strip()
    assert proc.returncode == 2 and "Traceback" not in message and message.count("\n") == 0, (proc.returncode, message)
    assert message.startswith("error: ")
    return message


@pytest.fixture
def env(db_url, tmp_path) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return base | {"CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_DATABASE_URL": db_url, "HF_HUB_OFFLINE": "1"}


def store_of(env: dict):
    return open_store(Settings.from_env(env=env))


@pytest.mark.parametrize("args,phrases", [
    (["staff"], ["staff area (/staff)", "argon2", "add", "remove", "list"]),
    (["staff", "add"], ["asked twice on a terminal", "first line of standard input", "at least 8 characters"]),
    (["staff", "remove"], ["Delete a staff account", "logged out"]),
    (["staff", "list"], ["List the staff accounts"]),
    (["data"], ["masked", "CHATBOT_RETENTION_DAYS", "export", "purge"]),
    (["data", "export"], ["one JSON object a line", "--out", "audit trail"]),
    (["data", "purge"], ["--before", "YYYY-MM-DD", "audit trail"]),
])
def test_store_commands_have_help(args, phrases):
    proc = subprocess.run([*CHATBOT, *args, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert f"usage: chatbot {' '.join(args)}" in text
    for phrase in phrases:
        assert phrase in text, phrase


def test_staff_accounts_from_the_command_line(env):
    assert "no staff accounts yet: create one with chatbot staff add NAME" in run(env, "staff", "list").stderr
    added = run(env, "staff", "add", "nurse.ani", stdin="a long enough password\n")
    assert added.returncode == 0 and "staff account 'nurse.ani' created" in added.stdout, added.stderr
    assert run(env, "staff", "list").stdout.startswith("nurse.ani\tcreated ")
    store = store_of(env)
    assert store.accounts.login("nurse.ani", "a long enough password", "127.0.0.1").name == "nurse.ani"
    store.close()
    assert "already exists" in one_line_error(run(env, "staff", "add", "nurse.ani", stdin="another password\n"))
    assert run(env, "staff", "remove", "nurse.ani").returncode == 0
    assert "no staff account named 'nurse.ani'" in one_line_error(run(env, "staff", "remove", "nurse.ani"))
    trail = [(r["action"], r["detail"]) for r in reversed(store_of(env).audit.recent().rows)]
    assert [a for a, _ in trail] == ["staff_add", "login", "staff_remove"]


@pytest.mark.parametrize("name,password,expected", [
    ("x'; DROP TABLE staff; --", "a long enough password", "invalid staff name"),
    ("admin' OR '1'='1", "a long enough password", "invalid staff name"),
    ("bob", "short", "8 to 1024 characters"),
    ("bob", "", "8 to 1024 characters"),
])
def test_bad_names_and_passwords_are_refused_in_one_line(env, name, password, expected):
    assert expected in one_line_error(run(env, "staff", "add", name, stdin=password + "\n"))
    assert run(env, "staff", "list").stdout == ""


def test_data_export_and_purge(env, tmp_path):
    store = store_of(env)
    store.feedback.question(question="my name is Budi, is CMV dangerous?", language="en", abstained=True, urgent=False)
    store.feedback.feedback(liked=False, question="Nama saya Siti", language="id", chunk_ids=["a#1"], answer="jawaban")
    store.close()
    out = tmp_path / "records.jsonl"
    exported = run(env, "data", "export", "--out", str(out))
    assert exported.returncode == 0 and "exported 2 records" in exported.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in records] == ["my name is [NAME], is CMV dangerous?", "Nama saya [NAME]"]
    assert (out.stat().st_mode & 0o077) == 0
    to_stdout = run(env, "data", "export")
    assert [json.loads(line) for line in to_stdout.stdout.splitlines()] == records
    assert "is not a date" in one_line_error(run(env, "data", "purge", "--before", "31/01/2026"))
    purged = run(env, "data", "purge", "--before", "2999-01-01")
    assert purged.returncode == 0 and "deleted 1 questions and 1 feedback records" in purged.stdout
    assert store_of(env).feedback.counts() == {"questions": 0, "feedback": 0}
    actions = [(r["actor"].startswith("cli:"), r["action"]) for r in store_of(env).audit.recent().rows]
    assert actions[:3] == [(True, "delete"), (True, "export"), (True, "export")]


def test_unusable_data_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")} | {"CHATBOT_DATA_DIR": str(blocker / "data")}
    assert "cannot create the database file" in one_line_error(run(env, "staff", "list"))
    bad_url = env | {"CHATBOT_DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none"}
    message = one_line_error(run(bad_url, "data", "export"))
    assert "cannot open the database" in message and "CHATBOT_DATABASE_URL" in message and ":x@" not in message
    assert Path(blocker).read_text() == "x"
