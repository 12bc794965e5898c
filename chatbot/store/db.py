"""The store's database: SQLite (WAL) under the data directory, or PostgreSQL, migrated when opened.

SQLAlchemy Core speaks both dialects. Alembic migrations (store/migrations/versions) run at open
under a lock (a file lock beside the SQLite file, an advisory lock on PostgreSQL), so replicas
that start together migrate once. Every write is its own committed transaction: a crash loses
at most the record being written.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import StoreError

log = logging.getLogger("chatbot")
SQLITE_FILE = "chatbot.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK = 7_110_011  # advisory lock key held while migrating
MAX_PAGE_SIZE = 200


def utcnow() -> datetime:
    """Now in UTC as a naive datetime, the form stored on both dialects."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(moment: datetime) -> str:
    """A stored (naive UTC) time as ISO 8601 with its zone, to the second."""
    return moment.replace(microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class Page:
    """One page of rows, newest first, with the total count under the same filters."""

    rows: tuple[dict, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @staticmethod
    def clamp(page: int, page_size: int) -> tuple[int, int]:
        """A page number from 1 and a page size from 1 to MAX_PAGE_SIZE."""
        return max(1, int(page)), min(max(1, int(page_size)), MAX_PAGE_SIZE)


def database_url(database_url: str, data_dir: Path | str) -> str:
    """The SQLAlchemy URL: SQLite in `data_dir` when none is set; postgresql:// gets the psycopg 3 driver."""
    url = (database_url or "").strip()
    if not url:
        return f"sqlite:///{Path(data_dir).resolve() / SQLITE_FILE}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as the user wrote it, minus anything after "@"
        return url.split("@")[-1]


class Database:
    """One engine, migrated to the newest schema. Use `write()` / `read()` for transactions."""

    def __init__(self, engine: Any, url: str) -> None:
        self.engine, self.url = engine, url
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, url: str, setup: Callable[[Any], None] | None = None) -> "Database":
        """Connect, run pending migrations, then `setup(connection)` in the same locked transaction."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            engine = _sqlite_engine(url) if url.startswith("sqlite") else _server_engine(url)
            db = cls(engine, url)
            db._migrate(setup)
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot open the database {describe(url)}: {_reason(exc)}. {_hint(url)}") from exc
        return db

    def _migrate(self, setup: Callable[[Any], None] | None) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            if setup is not None:
                setup(conn)

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.dialect == "sqlite":
            import fcntl

            path = Path(self.engine.url.database + ".lock")
            with open(path, "a+b") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                yield
            return
        if self.dialect == "postgresql":
            from sqlalchemy import text

            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK})
                    conn.commit()
            return
        yield

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A connection in a transaction, committed on leaving; database errors become StoreError."""
        with self._errors("written"), self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Any]:
        """A connection for queries; database errors become StoreError."""
        with self._errors("read"), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(f"the database {describe(self.url)} cannot be {doing}: {_reason(exc)}. {_hint(self.url)}") from exc

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: str) -> Any:
    """SQLite in WAL mode (readers never wait for the writer), full fsync, waiting up to 30 s for a lock."""
    from sqlalchemy import create_engine, event

    path = Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite:///") and str(path) not in ("", ":memory:"):
        _private_file(path)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("busy_timeout = 30000", "journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return engine


def _private_file(path: Path) -> None:
    """Create the data folder and an empty database file readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as exc:
        raise StoreError(f"cannot create the database file {path}: {exc.strerror or exc}. "
                         "Make the folder writable, or set CHATBOT_DATA_DIR to a writable folder") from exc


def _server_engine(url: str) -> Any:
    from sqlalchemy import create_engine

    args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=args)


def _reason(exc: BaseException) -> str:
    """The driver's own message, first line only."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _hint(url: str) -> str:
    if url.startswith("sqlite"):
        return "Check that the data folder exists and is writable, or set CHATBOT_DATA_DIR (or CHATBOT_DATABASE_URL)"
    return "Check that the database server is running and CHATBOT_DATABASE_URL is right"
