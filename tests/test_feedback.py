"""The append-only feedback and question store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from chatbot.store.feedback import FILENAME, FeedbackStore
from chatbot.settings import Settings


def feedback(store: FeedbackStore, n: int = 0, liked: bool = True) -> dict:
    return store.feedback(liked=liked, question=f"question {n}", language="en", chunk_ids=[f"doc#{n:04d}"], answer=f"answer {n} [1]")


def test_append_and_read_back(tmp_path):
    store = FeedbackStore(tmp_path / "data")
    like = feedback(store, 1)
    asked = store.question(question="Apakah ada vaksin untuk CMV?", language="id", abstained=False, urgent=False)
    assert list(store.records()) == [like, asked]
    assert set(like) == {"kind", "time", "liked", "question", "language", "chunk_ids", "answer"}
    assert set(asked) == {"kind", "time", "question", "language", "abstained", "urgent"}  # nothing else personal
    lines = (tmp_path / "data" / FILENAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [like, asked]


def test_file_is_private_to_its_owner(tmp_path):
    store = FeedbackStore(tmp_path)
    feedback(store)
    assert (store.path.stat().st_mode & 0o077) == 0


def test_torn_last_line_is_skipped(tmp_path):
    store = FeedbackStore(tmp_path)
    first = feedback(store, 1)
    with open(store.path, "ab") as f:
        f.write(b'{"kind": "feedback", "question": "torn')
    assert list(store.records()) == [first]


def test_append_after_a_torn_line_keeps_the_new_record(tmp_path):
    store = FeedbackStore(tmp_path)
    first = feedback(store, 1)
    with open(store.path, "ab") as f:
        f.write(b'{"kind": "feedback", "ques')
    later = feedback(FeedbackStore(tmp_path), 2)  # a new process after the crash
    assert list(FeedbackStore(tmp_path).records()) == [first, later]


def test_question_logging_switched_off_writes_nothing(tmp_path):
    settings = Settings.from_env(env={}, data_dir=tmp_path / "data", log_questions=False)
    store = FeedbackStore.from_settings(settings)
    assert store.question(question="How is CMV transmitted?", language="en", abstained=True, urgent=False) is None
    assert not (tmp_path / "data").exists()
    assert list(store.records()) == []


def test_logging_switch_follows_environment(tmp_path):
    settings = Settings.from_env(env={"CHATBOT_LOG_QUESTIONS": "false", "CHATBOT_DATA_DIR": str(tmp_path)})
    assert FeedbackStore.from_settings(settings).log_questions is False


def test_gaps_are_abstentions_and_thumbs_down_newest_first(tmp_path):
    store = FeedbackStore(tmp_path)
    store.question(question="answered", language="en", abstained=False, urgent=False)
    store.question(question="not covered", language="id", abstained=True, urgent=False)
    feedback(store, 1, liked=True)
    feedback(store, 2, liked=False)
    rows = store.gaps()
    assert [(r[1], r[2], r[3]) for r in rows] == [("thumbs-down", "en", "question 2"), ("abstained", "id", "not covered")]
    assert store.gaps(limit=1) == rows[:1]


def test_concurrent_appends_never_interleave(tmp_path):
    store = FeedbackStore(tmp_path)
    threads = [threading.Thread(target=lambda t=t: [feedback(store, t * 100 + i) for i in range(25)]) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = list(store.records())
    assert len(records) == 100 and len({r["question"] for r in records}) == 100


WRITER = textwrap.dedent("""
    import sys
    from chatbot.store.feedback import FeedbackStore
    store = FeedbackStore(sys.argv[1])
    n = 0
    while True:
        store.feedback(liked=n % 2 == 0, question="q" * 500 + str(n), language="en", chunk_ids=["c"] * 20, answer="a" * 3000)
        n += 1
        if n == 20:
            print("ready", flush=True)
""")


def test_kill_9_loses_at_most_the_line_in_flight(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, cwd=Path(__file__).parent.parent)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    raw = (tmp_path / FILENAME).read_bytes().split(b"\n")
    complete = raw[:-1]  # everything before the last newline must be whole records
    assert len(complete) >= 20
    for n, line in enumerate(complete):
        record = json.loads(line)
        assert record["question"] == "q" * 500 + str(n) and len(record["answer"]) == 3000
    assert len(list(FeedbackStore(tmp_path).records())) == len(complete)
