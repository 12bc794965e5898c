"""The local feedback and question store: one append-only JSONL file under `data_dir`.

Each record is one JSON object on one line, written with a single `os.write` on an
O_APPEND descriptor and then fsync'ed, so a crash loses at most the line in flight and
never damages earlier lines. Readers skip a line that does not parse (a torn last line).
Nothing personal beyond the question itself is stored: no address, no session, no browser.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("chatbot")
FILENAME = "feedback.jsonl"
GAP_COLUMNS = ("time", "reason", "language", "question")


def now() -> str:
    """UTC time to the second, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """Likes, dislikes and (when switched on) asked questions, one JSON line each."""

    def __init__(self, data_dir: Path | str, log_questions: bool = True) -> None:
        self.path = Path(data_dir) / FILENAME
        self.log_questions = log_questions
        self._lock = threading.Lock()
        self._checked = False

    @classmethod
    def from_settings(cls, settings) -> "FeedbackStore":
        """The store under `settings.data_dir`, logging questions only if `settings.log_questions`."""
        return cls(settings.data_dir, log_questions=settings.log_questions)

    def append(self, record: dict) -> None:
        """Write one record as one line: a single write on an O_APPEND descriptor, then fsync."""
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if not self._checked:
                    line = self._after_torn_line(fd) + line
                    self._checked = True
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
                os.fsync(fd)
            finally:
                os.close(fd)

    def _after_torn_line(self, fd: int) -> bytes:
        """A newline if an earlier crash left the file ending mid-line, so the torn part stays apart."""
        size = os.fstat(fd).st_size
        if size == 0:
            return b""
        with open(self.path, "rb") as f:
            f.seek(size - 1)
            return b"" if f.read(1) == b"\n" else b"\n"

    def feedback(self, *, liked: bool, question: str, language: str, chunk_ids: Sequence[str], answer: str) -> dict:
        """Store a like (True) or dislike (False) on an answer; returns the record."""
        record = {"kind": "feedback", "time": now(), "liked": bool(liked), "question": question,
                  "language": language, "chunk_ids": list(chunk_ids), "answer": answer}
        self.append(record)
        return record

    def question(self, *, question: str, language: str, abstained: bool, urgent: bool) -> dict | None:
        """Log an asked question, unless question logging is switched off (then nothing is written)."""
        if not self.log_questions:
            return None
        record = {"kind": "question", "time": now(), "question": question, "language": language,
                  "abstained": bool(abstained), "urgent": bool(urgent)}
        self.append(record)
        return record

    def records(self) -> Iterator[dict]:
        """Every complete record, oldest first; lines that do not parse (a torn last line) are skipped."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for n, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                log.warning("%s:%d: skipped an incomplete record", self.path, n)
                continue
            if isinstance(record, dict):
                yield record

    def gaps(self, limit: int = 50) -> list[list[str]]:
        """Recent content gaps, newest first: questions that abstained or got a thumbs-down."""
        rows = []
        for r in self.records():
            if r.get("kind") == "question" and r.get("abstained"):
                reason = "abstained"
            elif r.get("kind") == "feedback" and r.get("liked") is False:
                reason = "thumbs-down"
            else:
                continue
            rows.append([str(r.get("time", "")), reason, str(r.get("language", "")), str(r.get("question", ""))])
        return rows[::-1][:limit]
