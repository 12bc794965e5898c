"""Store tests run on SQLite and on a real PostgreSQL server.

PostgreSQL comes from CHATBOT_TEST_DATABASE_URL (.ci/run sets it after starting Debian's
cluster). Without it, and when the tests run as root on a machine with Debian's PostgreSQL
installed, the cluster is started here and a role and database are created. Each test gets its
own schema (through libpq's search_path option), dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pytest

from chatbot.settings import Settings

ROLE = DATABASE = PASSWORD = "chatbot_test"
LOCAL_URL = f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:5432/{DATABASE}"
BACKENDS = ["sqlite", "postgresql"]


class Clock:
    """A settable clock for the store (naive UTC)."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _can_connect(url: str) -> str:
    """'' when a PostgreSQL server answers at `url`, else why not."""
    import sqlalchemy

    from chatbot.store.db import database_url

    try:
        engine = sqlalchemy.create_engine(database_url(url, "."), connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
        return ""
    except Exception as exc:  # any failure means: no server to test against
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _start_local_cluster() -> str:
    """Start Debian's PostgreSQL and create the test role and database (as root); '' on success, else why not."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster") or not shutil.which("pg_lsclusters"):
        return "PostgreSQL is not installed here (apt-get install postgresql) or the tests do not run as root"
    clusters = [line.split() for line in subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.splitlines()]
    if not clusters:
        return "no PostgreSQL cluster exists (pg_createcluster)"
    version, name = clusters[0][0], clusters[0][1]
    subprocess.run(["pg_ctlcluster", version, name, "start"], capture_output=True, text=True)
    sql = (f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN "
           f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'; END IF; END $$;\n"
           f"SELECT 'CREATE DATABASE {DATABASE} OWNER {ROLE}' WHERE NOT EXISTS "
           f"(SELECT FROM pg_database WHERE datname = '{DATABASE}') \\gexec\n")
    done = subprocess.run(["su", "postgres", "-c", "psql -q -v ON_ERROR_STOP=1"], input=sql, capture_output=True, text=True)
    if done.returncode != 0:
        return f"could not create the test role and database: {done.stderr.strip()[:200]}"
    return ""


@lru_cache(maxsize=1)
def postgres() -> tuple[str, str]:
    """(url, '') of a PostgreSQL server for the tests, or ('', why there is none)."""
    url = os.environ.get("CHATBOT_TEST_DATABASE_URL", "")
    if url:
        why = _can_connect(url)
        return (url, "") if not why else ("", f"CHATBOT_TEST_DATABASE_URL does not answer: {why}")
    why = _can_connect(LOCAL_URL)
    if not why:
        return LOCAL_URL, ""
    why = _start_local_cluster() or _can_connect(LOCAL_URL)
    return (LOCAL_URL, "") if not why else ("", f"no PostgreSQL server for the store tests: {why}")


def _admin(url: str, statement: str) -> None:
    import sqlalchemy

    from chatbot.store.db import database_url

    engine = sqlalchemy.create_engine(database_url(url, "."))
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(statement))
    engine.dispose()


def backend_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of `backend`: '' (SQLite in tmp_path/data) or a PostgreSQL URL with its own schema."""
    if backend == "sqlite":
        yield ""
        return
    url, why = postgres()
    if not url:
        pytest.skip(why)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _admin(url, f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        _admin(url, f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """'' for SQLite under tmp_path/data, or a PostgreSQL URL with a fresh schema (skipped, saying why, without a server)."""
    yield from backend_url(request.param, tmp_path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store_settings(db_url, tmp_path) -> Settings:
    return Settings.from_env(env={}, data_dir=tmp_path / "data", database_url=db_url)


@pytest.fixture
def store(store_settings, clock):
    from chatbot.store import open_store

    s = open_store(store_settings, clock=clock)
    yield s
    s.close()
