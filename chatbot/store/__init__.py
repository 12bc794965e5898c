"""What patients and staff leave behind: questions, feedback, staff accounts and the audit trail, in one database.

`open_store(settings)` opens SQLite under the data directory (or CHATBOT_DATABASE_URL), runs the
migrations, imports an old feedback.jsonl once, and applies the retention period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings
    from .accounts import Accounts
    from .audit import Audit
    from .db import Database
    from .feedback import FeedbackStore
    from .translations import TranslationStore

log = logging.getLogger("chatbot")


@dataclass(frozen=True)
class Store:
    """The open database and the views of it the app uses."""

    db: "Database"
    feedback: "FeedbackStore"
    accounts: "Accounts"
    audit: "Audit"
    translations: "TranslationStore"

    def close(self) -> None:
        self.db.close()


def open_store(settings: "Settings", clock: Callable[[], datetime] | None = None) -> Store:
    """Open (and migrate) the database the settings name; StoreError with what to do when it cannot be opened."""
    from sqlalchemy import select

    from . import legacy
    from .accounts import Accounts
    from .audit import Audit
    from .db import Database, database_url, utcnow
    from .feedback import FeedbackStore
    from .schema import meta
    from .translations import TranslationStore

    clock = clock or utcnow
    data_dir = Path(settings.data_dir)
    db = Database.open(database_url(settings.database_url, data_dir), setup=lambda conn: legacy.import_jsonl(conn, data_dir))

    def imported(key: str) -> bool:
        with db.read() as conn:
            return conn.execute(select(meta.c.key).where(meta.c.key == key)).first() is not None

    legacy.keep_as_backup(data_dir, imported)
    audit = Audit(db, clock=clock)
    store = Store(db, FeedbackStore(db, log_questions=settings.log_questions, retention_days=settings.retention_days,
                                    clock=clock, audit=audit),
                  Accounts(db, session_minutes=settings.session_minutes, clock=clock, audit=audit), audit,
                  TranslationStore(db, clock=clock, audit=audit))
    store.feedback.purge_expired()
    return store
