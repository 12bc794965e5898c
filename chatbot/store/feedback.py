"""Questions and feedback, masked before they are stored; the content gaps staff read; retention.

Everything a patient typed (the question, a feedback comment) goes through `privacy.mask` first.
No address, session or browser detail is stored with it. Records older than the retention period
are deleted automatically (at open, then at most once an hour while writing).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..errors import StoreError
from .audit import Audit
from .db import Database, Page, iso, utcnow
from .privacy import mask

log = logging.getLogger("chatbot")
REASONS = ("not_answered", "wrong_language", "hard_to_understand", "wrong_or_unsafe")  # why a thumbs-down
GAP_FILTERS = ("abstained", "thumbs_down", *REASONS)  # what the staff can filter the gaps by
COMMENT_LIMIT = 1000  # characters of a feedback comment kept (after masking)
TEXT_LIMIT = 10_000  # characters of a question or answer kept
PURGE_EVERY = 3600.0  # seconds between automatic retention purges of one process


class FeedbackStore:
    """Asked questions (when logging is on), likes and dislikes with reasons, in the database."""

    def __init__(self, db: Database, *, log_questions: bool = True, retention_days: int = 90,
                 clock: Callable[[], datetime] = utcnow, audit: Audit | None = None) -> None:
        self.db, self.log_questions, self.retention_days, self.clock = db, log_questions, retention_days, clock
        self.audit = audit or Audit(db, clock=clock)
        self._purged = float("-inf")

    def question(self, *, question: str, language: str, abstained: bool, urgent: bool,
                 chunk_ids: Sequence[str] = ()) -> dict | None:
        """Store an asked question (masked) with the passages its answer quoted, unless question logging is switched off."""
        if not self.log_questions:
            return None
        from .schema import questions

        row = {"created_at": self.clock(), "question": mask(str(question))[:TEXT_LIMIT], "language": str(language)[:8],
               "abstained": bool(abstained), "urgent": bool(urgent),
               "chunk_ids": json.dumps([str(c) for c in chunk_ids][:50]) if chunk_ids else None}
        with self.db.write() as conn:
            row["id"] = conn.execute(questions.insert().values(**row)).inserted_primary_key[0]
        self._maybe_purge()
        return _question_record(row)

    def feedback(self, *, liked: bool, question: str, language: str, chunk_ids: Sequence[str], answer: str) -> dict:
        """Store a like (True) or dislike (False) on an answer, with its question (masked), language and passages."""
        from .schema import feedback

        row = {"created_at": self.clock(), "liked": bool(liked), "reason": None, "comment": None,
               "question": mask(str(question))[:TEXT_LIMIT], "language": str(language)[:8],
               "chunk_ids": json.dumps([str(c) for c in chunk_ids]), "answer": str(answer)[:TEXT_LIMIT]}
        with self.db.write() as conn:
            row["id"] = conn.execute(feedback.insert().values(**row)).inserted_primary_key[0]
        self._maybe_purge()
        return _feedback_record(row)

    def explain(self, feedback_id: int, reason: str | None, comment: str = "") -> dict | None:
        """Add why a thumbs-down was given: a REASONS code and/or a comment (masked, cut to COMMENT_LIMIT).

        Returns {"reason", "comment", "shortened"}, or None when there is no such dislike.
        """
        from sqlalchemy import and_

        from .schema import feedback

        if reason not in (None, "", *REASONS):
            raise StoreError(f"unknown reason {reason!r}: use one of {', '.join(REASONS)}")
        raw = " ".join(str(comment or "").split())  # cut before masking: a 100,000-character comment costs no more than a short one
        masked = mask(raw[: COMMENT_LIMIT + 200])
        kept = masked[:COMMENT_LIMIT] or None
        values = {"reason": reason or None, "comment": kept}
        with self.db.write() as conn:
            done = conn.execute(feedback.update().where(and_(feedback.c.id == int(feedback_id), feedback.c.liked.is_(False)))
                                .values(**values))
        if done.rowcount == 0:
            return None
        return values | {"shortened": len(raw) > COMMENT_LIMIT or len(masked) > COMMENT_LIMIT}

    def gaps(self, *, language: str | None = None, reason: str | None = None, page: int = 1, page_size: int = 50) -> Page:
        """Content gaps, newest first: questions the sources could not answer and answers that got a thumbs-down.

        `language` ("en"/"id") and `reason` (one of GAP_FILTERS) narrow the list. Each side is read in index
        order and cut at page * page_size rows, so a year of questions costs no more than the page asked for.
        """
        page, page_size = Page.clamp(page, page_size)
        parts, counts = _gap_queries(language, reason, page * page_size)
        if not parts:
            return Page((), 0, page, page_size)
        from sqlalchemy import select, union_all

        both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        query = select(both).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(page_size).offset((page - 1) * page_size)
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
            total = sum(conn.execute(c).scalar_one() for c in counts)
        return Page(tuple(_gap_row(r) for r in rows), total, page, page_size)

    def quoted(self, limit: int = 20_000) -> list[tuple[str, list[str]]]:
        """(reply language, quoted passage ids) of the most recent answers that quoted something: the
        logged questions, or the rated answers when question logging is off."""
        from sqlalchemy import select

        from .schema import feedback, questions

        table = questions if self.log_questions else feedback
        query = (select(table.c.language, table.c.chunk_ids).where(table.c.chunk_ids.is_not(None))
                 .order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [(lang, ids) for lang, raw in rows if (ids := _id_list(raw))]

    def gap_questions(self, limit: int = 1000) -> list[dict]:
        """The most recent content gaps (abstained questions and thumbs-downs), newest first, for grouping."""
        from sqlalchemy import select, union_all

        parts, _ = _gap_queries(None, None, limit)
        both = union_all(*parts).subquery()
        query = select(both).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            return [_gap_row(r) for r in conn.execute(query).mappings()]

    def counts(self) -> dict[str, int]:
        """How many question and feedback records are stored."""
        from sqlalchemy import func, select

        from .schema import feedback, questions

        with self.db.read() as conn:
            return {"questions": conn.execute(select(func.count()).select_from(questions)).scalar_one(),
                    "feedback": conn.execute(select(func.count()).select_from(feedback)).scalar_one()}

    def export(self) -> Iterator[dict]:
        """Every question and feedback record, oldest first within each kind (for the clinic's own records)."""
        from sqlalchemy import select

        from .schema import feedback, questions

        for table, record in ((questions, _question_record), (feedback, _feedback_record)):
            with self.db.read() as conn:
                result = conn.execution_options(yield_per=1000).execute(select(table).order_by(table.c.created_at, table.c.id))
                for row in result.mappings():
                    yield record(dict(row))

    def purge(self, before: datetime, actor: str, action: str = "delete") -> dict[str, int]:
        """Delete question and feedback records older than `before` (naive UTC); audited as `actor`."""
        from .schema import feedback, questions

        with self.db.write() as conn:
            deleted = {name: conn.execute(t.delete().where(t.c.created_at < before)).rowcount
                       for name, t in (("questions", questions), ("feedback", feedback))}
        if any(deleted.values()) or action != "purge":
            self.audit.record(actor, action, f"records before {iso(before)}: {deleted['questions']} questions, "
                                             f"{deleted['feedback']} feedback")
        return deleted

    def purge_expired(self) -> dict[str, int]:
        """Apply the retention period now (CHATBOT_RETENTION_DAYS)."""
        self._purged = time.monotonic()
        return self.purge(self.clock() - timedelta(days=self.retention_days), "system", action="purge")

    def _maybe_purge(self) -> None:
        if time.monotonic() - self._purged < PURGE_EVERY:
            return
        try:
            self.purge_expired()
        except StoreError:  # the record itself is written; retention is tried again within the hour
            log.exception("retention purge failed")


def _gap_queries(language: str | None, reason: str | None, limit: int) -> tuple[list[Any], list[Any]]:
    """The two sides of the gaps list (abstained questions, dislikes) and their counts, under the filters."""
    from sqlalchemy import Text, cast, func, literal, null, select

    from .schema import feedback, questions

    if reason not in (None, "", *GAP_FILTERS):
        raise StoreError(f"unknown reason filter {reason!r}: use one of {', '.join(GAP_FILTERS)}")
    parts, counts = [], []
    if reason in (None, "", "abstained"):
        where = [questions.c.abstained.is_(True)] + ([questions.c.language == language] if language else [])
        parts.append(select(questions.c.id, questions.c.created_at, literal("question").label("kind"),
                            literal("abstained").label("reason"), questions.c.language, questions.c.question,
                            cast(null(), Text).label("comment"))
                     .where(*where).order_by(questions.c.created_at.desc(), questions.c.id.desc()).limit(limit))
        counts.append(select(func.count()).select_from(questions).where(*where))
    if reason != "abstained":
        where = [feedback.c.liked.is_(False)] + ([feedback.c.language == language] if language else [])
        where += [feedback.c.reason == reason] if reason in REASONS else []
        parts.append(select(feedback.c.id, feedback.c.created_at, literal("feedback").label("kind"),
                            func.coalesce(feedback.c.reason, "thumbs_down").label("reason"), feedback.c.language,
                            feedback.c.question, feedback.c.comment)
                     .where(*where).order_by(feedback.c.created_at.desc(), feedback.c.id.desc()).limit(limit))
        counts.append(select(func.count()).select_from(feedback).where(*where))
    return [p.subquery().select() for p in parts], counts


def _gap_row(row: Any) -> dict:
    return {"kind": row["kind"], "id": row["id"], "time": iso(row["created_at"]), "reason": row["reason"],
            "language": row["language"], "question": row["question"], "comment": row["comment"] or ""}


def _question_record(row: dict) -> dict:
    return {"kind": "question", "id": row["id"], "time": iso(row["created_at"]), "question": row["question"],
            "language": row["language"], "abstained": bool(row["abstained"]), "urgent": bool(row["urgent"]),
            "chunk_ids": _id_list(row.get("chunk_ids"))}


def _id_list(raw: str | None) -> list[str]:
    """A stored JSON list of passage ids ([] for NULL or anything unreadable)."""
    try:
        ids = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def _feedback_record(row: dict) -> dict:
    return {"kind": "feedback", "id": row["id"], "time": iso(row["created_at"]), "liked": bool(row["liked"]),
            "reason": row["reason"], "comment": row["comment"], "question": row["question"], "language": row["language"],
            "chunk_ids": json.loads(row["chunk_ids"]), "answer": row["answer"]}
