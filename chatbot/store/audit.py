"""The audit trail: who did what to patients' records, staff accounts or the content, and when.

Actors are staff names, "cli:<system user>" for commands run on the server, or "system" for the
automatic retention purge and background rebuilds. Actions: login, login_failed, login_refused,
logout, view_gaps, view_audit, view_worklist, export, delete, purge, staff_add, staff_remove,
doc_preview, doc_publish, doc_replace, doc_retire, rebuild, translation_save, translation_review,
translation_flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .db import Database, Page, iso, utcnow

DETAIL_LIMIT = 2000


class Audit:
    """Appends to and reads the audit table."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.clock = db, clock

    def record(self, actor: str, action: str, detail: str = "") -> None:
        """Write one audit row (its own transaction, so it stays even if the caller fails later)."""
        from .schema import audit

        with self.db.write() as conn:
            conn.execute(audit.insert().values(at=self.clock(), actor=str(actor)[:80], action=str(action)[:32],
                                               detail=str(detail)[:DETAIL_LIMIT]))

    def recent(self, page: int = 1, page_size: int = 50, action: str | None = None) -> Page:
        """A page of audit rows, newest first (optionally one action only)."""
        from sqlalchemy import func, select

        from .schema import audit

        page, page_size = Page.clamp(page, page_size)
        where = [audit.c.action == action] if action else []
        query = (select(audit).where(*where).order_by(audit.c.at.desc(), audit.c.id.desc())
                 .limit(page_size).offset((page - 1) * page_size))
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
            total = conn.execute(select(func.count()).select_from(audit).where(*where)).scalar_one()
        return Page(tuple({"time": iso(r["at"]), "actor": r["actor"], "action": r["action"], "detail": r["detail"]} for r in rows),
                    total, page, page_size)
