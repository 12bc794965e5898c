"""Verified translations of passages: written by staff, marked reviewed with a name and a date.

A translation belongs to the passage *text* (its SHA-256) and a target language, so it survives
every rebuild that leaves the passage unchanged, wherever the passage moves. When the passage
changes or disappears, `reconcile` flags the translation "needs review" (it is no longer shown:
answers look translations up by the hash of the passage they quote) and attaches it to whatever
passage now stands in the same place, so staff see the old translation beside the new text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..errors import TranslationError
from ..records import passage_hash
from .audit import Audit
from .db import Database, iso, utcnow

REVIEWED, NEEDS_REVIEW = "reviewed", "needs_review"
NOTES = ("new", "edited", "source_changed", "source_removed")  # why a translation needs review
TEXT_LIMIT = 20_000  # characters of one translation (a passage is at most a few hundred words)
LANGUAGES = ("en", "id")


@dataclass(frozen=True)
class Passage:
    """The passage a translation is of, as the index holds it now."""

    chunk_id: str
    doc_id: str
    position: int
    text: str
    language: str

    @property
    def hash(self) -> str:
        return passage_hash(self.text)


class TranslationStore:
    """Reads and writes the translations table; every change is audited with the staff name."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow, audit: Audit | None = None) -> None:
        self.db, self.clock = db, clock
        self.audit = audit or Audit(db, clock=clock)

    def save(self, passage: Passage, language: str, text: str, user: str, reviewed: bool,
             alignment: Sequence[dict] = ()) -> dict:
        """Write (or rewrite) the translation of `passage` into `language`; `reviewed` marks it
        reviewed by `user` today, otherwise it waits for review. Returns the stored record."""
        from .schema import translations as t

        text = _checked(passage, language, text)
        now, current = self.clock(), self.find(passage, language)
        values = {"chunk_id": passage.chunk_id, "doc_id": passage.doc_id, "position": int(passage.position),
                  "source_hash": passage.hash, "source_text": passage.text, "source_language": passage.language,
                  "language": language, "text": text, "alignment": json.dumps(list(alignment), ensure_ascii=False),
                  "updated_by": user, "updated_at": now, "status": REVIEWED if reviewed else NEEDS_REVIEW,
                  "note": "" if reviewed else ("edited" if current else "new"),
                  "reviewer": user if reviewed else None, "reviewed_at": now if reviewed else None}
        with self.db.write() as conn:
            if current is None:
                conn.execute(t.insert().values(author=user, created_at=now, **values))
            else:
                # a flagged row of an earlier version of this passage: the row becomes this passage's (re-keyed)
                conn.execute(t.delete().where(t.c.source_hash == passage.hash, t.c.language == language, t.c.id != current["id"]))
                conn.execute(t.update().where(t.c.id == current["id"]).values(**values))
        self.audit.record(user, "translation_review" if reviewed else "translation_save",
                          f"{passage.chunk_id} -> {language} ({len(text)} characters)")
        return self.find(passage, language) or {}

    def find(self, passage: Passage, language: str) -> dict | None:
        """The translation of this passage text, else a flagged one of an earlier text in its place."""
        from sqlalchemy import or_, select

        from .schema import translations as t

        attached = or_(t.c.chunk_id == passage.chunk_id, (t.c.doc_id == passage.doc_id) & (t.c.position == passage.position))
        query = select(t).where(t.c.language == language, or_(t.c.source_hash == passage.hash, attached))
        with self.db.read() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        rows.sort(key=lambda r: (r["source_hash"] != passage.hash, r["chunk_id"] != passage.chunk_id, -r["id"]))
        return _record(rows[0], passage.hash) if rows else None

    def for_document(self, doc_id: str) -> list[dict]:
        """Every translation filed under a document, by position."""
        from sqlalchemy import select

        from .schema import translations as t

        with self.db.read() as conn:
            rows = conn.execute(select(t).where(t.c.doc_id == doc_id).order_by(t.c.position, t.c.language)).mappings().all()
        return [_record(dict(r)) for r in rows]

    def reviewed(self, hashes: Iterable[str], language: str) -> dict[str, dict]:
        """Reviewed translations into `language` of the passages with these text hashes."""
        from sqlalchemy import select

        from .schema import translations as t

        keys = sorted(set(hashes))
        if not keys:
            return {}
        query = select(t).where(t.c.source_hash.in_(keys), t.c.language == language, t.c.status == REVIEWED)
        with self.db.read() as conn:
            return {r["source_hash"]: _record(dict(r)) for r in conn.execute(query).mappings()}

    def reviewed_keys(self) -> set[tuple[str, str]]:
        """(passage hash, language) of every reviewed translation."""
        from sqlalchemy import select

        from .schema import translations as t

        with self.db.read() as conn:
            return {(h, lg) for h, lg in conn.execute(select(t.c.source_hash, t.c.language).where(t.c.status == REVIEWED))}

    def counts(self) -> dict[str, int]:
        """How many translations are reviewed and how many need review."""
        from sqlalchemy import func, select

        from .schema import translations as t

        with self.db.read() as conn:
            found = dict(conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all())
        return {REVIEWED: int(found.get(REVIEWED, 0)), NEEDS_REVIEW: int(found.get(NEEDS_REVIEW, 0))}

    def reconcile(self, passages: Sequence[Passage], actor: str = "system") -> int:
        """After a rebuild: translations whose passage text is gone are flagged "needs review" and attached
        to the passage now in their place; moved ones follow their passage. Returns how many were flagged."""
        from sqlalchemy import select

        from .schema import translations as t

        by_hash = {p.hash: p for p in passages}
        by_place = {(p.doc_id, p.position): p for p in passages}
        with self.db.read() as conn:
            rows = conn.execute(select(t.c.id, t.c.chunk_id, t.c.doc_id, t.c.position, t.c.source_hash, t.c.status,
                                       t.c.note)).mappings().all()
        flagged = []
        with self.db.write() as conn:
            for r in rows:
                same = by_hash.get(r["source_hash"])
                if same is not None:
                    if (same.chunk_id, same.position) != (r["chunk_id"], r["position"]):
                        conn.execute(t.update().where(t.c.id == r["id"]).values(chunk_id=same.chunk_id, position=same.position))
                    continue
                instead = by_place.get((r["doc_id"], r["position"]))
                note = "source_changed" if instead is not None else "source_removed"
                if r["status"] == NEEDS_REVIEW and r["note"] == note and (instead is None or instead.chunk_id == r["chunk_id"]):
                    continue
                conn.execute(t.update().where(t.c.id == r["id"]).values(
                    status=NEEDS_REVIEW, note=note, chunk_id=instead.chunk_id if instead is not None else r["chunk_id"]))
                flagged.append(f"{r['chunk_id']} ({note.replace('_', ' ')})")
        if flagged:
            self.audit.record(actor, "translation_flagged", "; ".join(flagged))
        return len(flagged)


def _checked(passage: Passage, language: str, text: str) -> str:
    if language not in LANGUAGES:
        raise TranslationError(f"translation language {language!r}: use en or id")
    if language == passage.language:
        raise TranslationError(f"the passage is already in {language}: a translation goes into the other language")
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise TranslationError("the translation is empty: write or paste it first")
    if len(text) > TEXT_LIMIT:
        raise TranslationError(f"the translation has {len(text):,} characters, over the {TEXT_LIMIT:,} limit for one passage")
    return text


def _record(row: dict, current_hash: str | None = None) -> dict:
    """A stored row as the staff area and the answers read it (times as ISO strings)."""
    out = {k: row[k] for k in ("id", "chunk_id", "doc_id", "position", "source_hash", "source_text", "source_language",
                               "language", "text", "status", "note", "author", "updated_by", "reviewer")}
    out["alignment"] = json.loads(row["alignment"] or "[]")
    out["created_at"], out["updated_at"] = iso(row["created_at"]), iso(row["updated_at"])
    out["reviewed_on"] = row["reviewed_at"].date().isoformat() if row["reviewed_at"] else ""
    out["current"] = current_hash is None or row["source_hash"] == current_hash
    return out
