"""The store under crashes and concurrent writers, on SQLite and PostgreSQL.

- `kill -9` of a process writing records as fast as it can loses at most the record in flight.
- Two processes writing at once lose nothing.
- Two `chatbot serve` processes sharing one database, asked questions at the same time, lose nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from store_helpers import db_url  # noqa: F401 (fixture)
from ui_helpers import CHATBOT, ROOT, served

from evaluation.load_test import close_all

from chatbot.settings import Settings
from chatbot.store import open_store

WRITER = textwrap.dedent("""
    import sys
    from chatbot.settings import Settings
    from chatbot.store import open_store
    store = open_store(Settings.from_env())
    tag, count = sys.argv[1], int(sys.argv[2])
    n = 0
    while count < 0 or n < count:
        store.feedback.feedback(liked=n % 2 == 0, question=f"{tag} " + "q" * 500 + f" {n}", language="en",
                                chunk_ids=["c"] * 20, answer="a" * 3000)
        print(n, flush=True)  # committed
        n += 1
""")


def env_for(db_url: str, data_dir: Path) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return base | {"CHATBOT_DATA_DIR": str(data_dir), "CHATBOT_DATABASE_URL": db_url, "HF_HUB_OFFLINE": "1"}


def stored(env: dict) -> list[dict]:
    store = open_store(Settings.from_env(env=env))
    try:
        return list(store.feedback.export())
    finally:
        store.close()


def number(record: dict) -> tuple[str, int]:
    tag, _, n = record["question"].split(" ")
    return tag, int(n)


def test_kill_9_during_writes_loses_at_most_the_record_in_flight(db_url, tmp_path):
    env = env_for(db_url, tmp_path / "data")
    open_store(Settings.from_env(env=env)).close()  # migrated before the writer starts
    proc = subprocess.Popen([sys.executable, "-c", WRITER, "w", "-1"], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    committed = []
    try:
        for line in proc.stdout:
            committed.append(int(line))
            if len(committed) == 40:
                break
        time.sleep(0.2)  # well inside the stream of writes
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    committed += [int(line) for line in proc.stdout.read().split()]  # printed before the kill, not yet read
    records = stored(env)
    numbers = sorted(number(r)[1] for r in records)
    assert numbers == list(range(len(numbers))), "a record other than the last is missing"
    assert set(committed) <= set(numbers), "a record reported as written was lost"
    assert len(numbers) - len(committed) <= 1, "more than the record in flight differs"
    assert all(len(r["answer"]) == 3000 and r["chunk_ids"] == ["c"] * 20 for r in records)
    assert len(numbers) >= 40


def test_two_writer_processes_at_once_lose_nothing(db_url, tmp_path):
    env = env_for(db_url, tmp_path / "data")
    open_store(Settings.from_env(env=env)).close()
    per_writer = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, tag, str(per_writer)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT) for tag in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    records = [number(r) for r in stored(env)]
    assert sorted(records) == sorted((tag, n) for tag in ("a", "b") for n in range(per_writer))


@pytest.fixture(scope="module")
def hashing_index(tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("crash-index") / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")} | {"HF_HUB_OFFLINE": "1"}
    done = subprocess.run([*CHATBOT, "build", "--index", str(index), "--corpus", str(ROOT / "corpus"), "--model", "hashing"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return index


def test_two_servers_sharing_one_database_lose_no_question(db_url, tmp_path, hashing_index):
    from gradio_client import Client

    shared = {"CHATBOT_DATABASE_URL": db_url, "CHATBOT_LOG_QUESTIONS": "true"}
    if not db_url:  # both servers use the same SQLite file
        shared["CHATBOT_DATA_DIR"] = str(tmp_path / "shared-data")
    args = ["--index", str(hashing_index), "--corpus", str(ROOT / "corpus"), "--model", "hashing"]
    per_client, answered, errors = 15, [], []
    lock = threading.Lock()

    def ask_many(url: str, tag: str) -> None:
        client = Client(url, verbose=False)
        try:
            for n in range(per_client):
                client.predict(f"How is CMV transmitted? ({tag} {n})", "auto", [], api_name="/chat")
                with lock:
                    answered.append(f"{tag} {n}")
        except Exception as exc:  # counted and reported below
            errors.append(repr(exc))
        finally:
            close_all([client])

    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir(), second.mkdir()
    with served(first, args, shared) as one, served(second, args, shared) as two:
        threads = [threading.Thread(target=ask_many, args=(server.url, f"{name}{k}"))
                   for name, server in (("one", one), ("two", two)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        env = one.env
    assert errors == [] and len(answered) == 4 * per_client
    questions = [r["question"] for r in stored(env) if r["kind"] == "question"]
    assert sorted(questions) == sorted(f"How is CMV transmitted? ({tag})" for tag in answered)

