"""The question and feedback store, on SQLite and PostgreSQL: masking, gaps, reasons, retention, export, the old JSONL file."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import pytest
from store_helpers import Clock, clock, db_url, store, store_settings  # noqa: F401 (fixtures)

from chatbot.errors import StoreError
from chatbot.settings import Settings
from chatbot.store import open_store
from chatbot.store.feedback import COMMENT_LIMIT, REASONS

PLANTED = "my name is Budi Santoso, NIK 3201234567890001, call 0812-3456-7890. Can I get a tattoo with HIV?"
INJECTIONS = ["'; DROP TABLE questions; --", "Robert'); DELETE FROM feedback WHERE ('1'='1", "\" OR 1=1 --", "1; SELECT pg_sleep(5)"]


def dislike(store, question: str = "How is CMV transmitted?", language: str = "en") -> dict:
    return store.feedback.feedback(liked=False, question=question, language=language, chunk_ids=["doc#0001"], answer="answer [1]")


def test_question_and_feedback_are_stored_masked(store):
    asked = store.feedback.question(question=PLANTED, language="en", abstained=True, urgent=False)
    rated = dislike(store, PLANTED)
    assert asked["question"] == rated["question"] == \
        "my name is [NAME], NIK [NIK], call [PHONE]. Can I get a tattoo with HIV?"
    stored = list(store.feedback.export())
    assert [r["kind"] for r in stored] == ["question", "feedback"]
    assert stored[0] == asked and stored[1] == rated
    assert set(asked) == {"kind", "id", "time", "question", "language", "abstained", "urgent", "chunk_ids"}  # nothing else personal
    assert asked["chunk_ids"] == []  # the passages its answer quoted: none here
    assert rated["chunk_ids"] == ["doc#0001"] and rated["answer"] == "answer [1]"
    assert "Budi" not in json.dumps(stored) and "3201234567890001" not in json.dumps(stored)


def test_question_logging_switched_off_keeps_only_feedback(store_settings):
    from dataclasses import replace

    store = open_store(replace(store_settings, log_questions=False))
    assert store.feedback.question(question="How is CMV transmitted?", language="en", abstained=True, urgent=False) is None
    dislike(store)
    assert store.feedback.counts() == {"questions": 0, "feedback": 1}
    store.close()


def test_settings_follow_environment(tmp_path):
    settings = Settings.from_env(env={"CHATBOT_LOG_QUESTIONS": "false", "CHATBOT_RETENTION_DAYS": "30", "CHATBOT_SESSION_MINUTES": "15",
                                      "CHATBOT_DATABASE_URL": "postgresql://u:p@db/chatbot"})
    assert (settings.log_questions, settings.retention_days, settings.session_minutes) == (False, 30, 15)
    assert settings.database_url == "postgresql://u:p@db/chatbot"
    with pytest.raises(ValueError, match="retention_days must be at least 1"):
        Settings.from_env(env={"CHATBOT_RETENTION_DAYS": "0"})


def test_gaps_newest_first_with_reasons_filters_and_pages(store, clock):
    store.feedback.question(question="answered", language="en", abstained=False, urgent=False)
    for n in range(5):
        clock.advance(minutes=1)
        store.feedback.question(question=f"not covered {n}", language="id" if n % 2 else "en", abstained=True, urgent=False)
        clock.advance(minutes=1)
        rated = dislike(store, f"disliked {n}", language="en")
        store.feedback.explain(rated["id"], REASONS[n % len(REASONS)], f"comment {n}")
    store.feedback.feedback(liked=True, question="liked", language="en", chunk_ids=[], answer="a")
    everything = store.feedback.gaps(page_size=50)
    assert everything.total == 10 and [r["question"] for r in everything.rows][:3] == ["disliked 4", "not covered 4", "disliked 3"]
    assert [r["reason"] for r in everything.rows][:2] == [REASONS[0], "abstained"]
    assert everything.rows[0]["comment"] == "comment 4"
    pages = [store.feedback.gaps(page=p, page_size=3) for p in (1, 2, 3, 4)]
    assert [len(p.rows) for p in pages] == [3, 3, 3, 1] and pages[0].pages == 4
    assert [r["question"] for p in pages for r in p.rows] == [r["question"] for r in everything.rows]
    assert [r["question"] for r in store.feedback.gaps(language="id").rows] == ["not covered 3", "not covered 1"]
    assert {r["kind"] for r in store.feedback.gaps(reason="abstained").rows} == {"question"}
    assert store.feedback.gaps(reason="thumbs_down").total == 5
    assert [r["question"] for r in store.feedback.gaps(reason="wrong_language").rows] == ["disliked 1"]
    assert store.feedback.gaps(page=99).rows == ()
    with pytest.raises(StoreError, match="unknown reason filter"):
        store.feedback.gaps(reason="' OR 1=1 --")


def test_reason_and_comment_of_a_thumbs_down(store):
    rated = dislike(store)
    result = store.feedback.explain(rated["id"], "wrong_or_unsafe", "Nama saya Siti, WA 081234567890, jawabannya salah")
    assert result == {"reason": "wrong_or_unsafe", "comment": "Nama saya [NAME], WA [PHONE], jawabannya salah", "shortened": False}
    row = store.feedback.gaps().rows[0]
    assert (row["reason"], row["comment"]) == ("wrong_or_unsafe", "Nama saya [NAME], WA [PHONE], jawabannya salah")
    assert store.feedback.explain(rated["id"], None, "") == {"reason": None, "comment": None, "shortened": False}
    with pytest.raises(StoreError, match="unknown reason"):
        store.feedback.explain(rated["id"], "rude", "")


def test_only_an_existing_dislike_can_be_explained(store):
    liked = store.feedback.feedback(liked=True, question="q", language="en", chunk_ids=[], answer="a")
    assert store.feedback.explain(liked["id"], "wrong_language", "x") is None
    assert store.feedback.explain(10_000, "wrong_language", "x") is None


def test_a_huge_comment_is_masked_and_shortened(store):
    rated = dislike(store)
    huge = ("my number is 0812-3456-7890 and this is wrong. " * 3000)[:100_000]
    result = store.feedback.explain(rated["id"], "not_answered", huge)
    assert result["shortened"] and len(result["comment"]) == COMMENT_LIMIT and "0812" not in result["comment"]


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_sql_injection_strings_are_stored_as_text(store, hostile):
    store.feedback.question(question=hostile, language="en", abstained=True, urgent=False)
    rated = dislike(store, hostile)
    store.feedback.explain(rated["id"], "not_answered", hostile)
    rows = {r["kind"]: r for r in store.feedback.gaps().rows}
    assert rows["question"]["question"] == rows["feedback"]["question"] == rows["feedback"]["comment"] == hostile
    assert store.feedback.counts() == {"questions": 1, "feedback": 1}


def test_retention_deletes_old_records_and_is_audited(store_settings):
    from dataclasses import replace

    clock = Clock()
    store = open_store(replace(store_settings, retention_days=30), clock=clock)
    store.feedback.question(question="old", language="en", abstained=True, urgent=False)
    dislike(store, "old dislike")
    clock.advance(days=20)
    store.feedback.question(question="recent", language="en", abstained=True, urgent=False)
    clock.advance(days=11)
    assert store.feedback.purge_expired() == {"questions": 1, "feedback": 1}
    assert [r["question"] for r in store.feedback.export()] == ["recent"]
    entry = store.audit.recent().rows[0]
    assert (entry["actor"], entry["action"]) == ("system", "purge") and "1 questions, 1 feedback" in entry["detail"]
    store.close()
    reopened = open_store(replace(store_settings, retention_days=5), clock=clock)  # the retention applies at start
    assert reopened.feedback.counts() == {"questions": 0, "feedback": 0}
    reopened.close()


def test_purge_before_a_date_is_audited_with_who(store, clock):
    store.feedback.question(question="before", language="en", abstained=False, urgent=False)
    clock.advance(days=2)
    dislike(store, "after")
    deleted = store.feedback.purge(clock() - timedelta(days=1), "cli:nurse")
    assert deleted == {"questions": 1, "feedback": 0}
    assert [r["question"] for r in store.feedback.export()] == ["after"]
    entry = store.audit.recent().rows[0]
    assert (entry["actor"], entry["action"]) == ("cli:nurse", "delete")


def test_old_jsonl_file_is_imported_once_masked_and_kept_as_backup(store_settings):
    data = store_settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [{"kind": "question", "time": now, "question": PLANTED, "language": "en", "abstained": True, "urgent": False},
             {"kind": "feedback", "time": now, "liked": False, "question": "Nama saya Siti", "language": "id",
              "chunk_ids": ["a#1"], "answer": "jawaban"}]
    raw = "".join(json.dumps(r) + "\n" for r in lines) + '{"kind": "feedback", "ques'  # a torn last line
    (data / "feedback.jsonl").write_text(raw, encoding="utf-8")
    store = open_store(store_settings)
    records = list(store.feedback.export())
    assert [r["question"] for r in records] == ["my name is [NAME], NIK [NIK], call [PHONE]. Can I get a tattoo with HIV?",
                                                "Nama saya [NAME]"]
    assert not (data / "feedback.jsonl").exists() and (data / "feedback.jsonl.imported").read_text(encoding="utf-8") == raw
    store.close()
    (data / "feedback.jsonl").write_text(raw, encoding="utf-8")  # the same file back again: not imported twice
    store = open_store(store_settings)
    assert store.feedback.counts() == {"questions": 1, "feedback": 1}
    store.close()


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    store = open_store(Settings.from_env(env={}, data_dir=tmp_path / "new" / "data"))  # a missing folder is created
    store.feedback.question(question="q", language="en", abstained=False, urgent=False)
    path = tmp_path / "new" / "data" / "chatbot.db"
    assert (path.stat().st_mode & 0o077) == 0
    with store.db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_unusable_data_folder_gives_a_clear_message(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the database file .*CHATBOT_DATA_DIR"):
        open_store(Settings.from_env(env={}, data_dir=blocker / "data"))


def test_read_only_data_folder_gives_a_clear_message(tmp_path):
    """Run as an ordinary user (root writes anywhere): a read-only folder must give one clear line."""
    import subprocess
    import sys

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    tmp_path.chmod(0o755)
    tmp_path.parent.chmod(0o755)
    code = ("from chatbot.settings import Settings\nfrom chatbot.store import open_store\nfrom chatbot.errors import StoreError\n"
            f"try:\n    open_store(Settings.from_env(env={{}}, data_dir={str(folder)!r}))\nexcept StoreError as e:\n    print(e)\n")
    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    done = subprocess.run([*user, sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr
    assert "cannot create the database file" in done.stdout and "writable" in done.stdout
