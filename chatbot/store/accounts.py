"""Staff accounts: argon2 password hashes, sessions that expire, failed logins slowed then refused per address.

Passwords are kept only as argon2id hashes (argon2-cffi: salted, slow, memory-hard). A session is
an opaque random token in a cookie; the database holds only its SHA-256, so a copy of the table
opens nothing. After FREE_FAILURES failed logins within FAILURE_WINDOW an address must wait
1, 2, 4, ... seconds between attempts; after LOCK_AFTER failures it is refused for LOCK_MINUTES.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ..errors import AccountError
from .audit import Audit
from .db import Database, utcnow

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
FAILURE_WINDOW = timedelta(minutes=15)
FREE_FAILURES = 3
LOCK_AFTER = 10
LOCK_MINUTES = 15
WRONG = "Wrong user name or password."


class LoginRefused(AccountError):
    """Too many failed logins from one address: the message says how long to wait."""

    def __init__(self, message: str, wait_seconds: int) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class Session:
    token: str  # goes into the cookie, never into the database
    name: str
    expires_at: datetime


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the name is unknown, so a wrong name takes as long as a wrong password."""
    return _hasher().hash(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def check_name(name: str) -> str:
    """The name if it is a valid account name; otherwise AccountError saying what is allowed."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise AccountError(f"invalid staff name {str(name)[:80]!r}: use 1 to 64 letters, digits, '.', '_', '-' or '@', "
                           "starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


class Accounts:
    """Staff accounts, their sessions and the failed-login throttle, in the database."""

    def __init__(self, db: Database, session_minutes: int = 480, clock: Callable[[], datetime] = utcnow,
                 audit: Audit | None = None) -> None:
        self.db, self.session_minutes, self.clock = db, session_minutes, clock
        self.audit = audit or Audit(db, clock=clock)

    def add(self, name: str, password: str, actor: str) -> None:
        """Create an account (AccountError if the name is taken or invalid, or the password too short)."""
        from sqlalchemy import select

        from .schema import staff

        check_name(name), check_password(password)
        hashed = _hasher().hash(password)
        with self.db.write() as conn:
            if conn.execute(select(staff.c.name).where(staff.c.name == name)).first():
                raise AccountError(f"a staff account named {name!r} already exists: remove it first to set a new password")
            conn.execute(staff.insert().values(name=name, password_hash=hashed, created_at=self.clock()))
        self.audit.record(actor, "staff_add", name)

    def remove(self, name: str, actor: str) -> bool:
        """Delete an account and its sessions; False when there was none."""
        from .schema import sessions, staff

        with self.db.write() as conn:
            conn.execute(sessions.delete().where(sessions.c.name == name))
            gone = conn.execute(staff.delete().where(staff.c.name == name)).rowcount > 0
        if gone:
            self.audit.record(actor, "staff_remove", name)
        return gone

    def names(self) -> list[tuple[str, datetime]]:
        """Every account name with its creation time, sorted by name."""
        from sqlalchemy import select

        from .schema import staff

        with self.db.read() as conn:
            return [(r.name, r.created_at) for r in conn.execute(select(staff.c.name, staff.c.created_at).order_by(staff.c.name))]

    def any(self) -> bool:
        from sqlalchemy import select

        from .schema import staff

        with self.db.read() as conn:
            return conn.execute(select(staff.c.name).limit(1)).first() is not None

    def login(self, name: str, password: str, address: str) -> Session:
        """A new session for the right name and password; AccountError (wrong) or LoginRefused (throttled)."""
        from sqlalchemy import select

        from .schema import login_failures, staff

        address = str(address or "unknown")[:64]
        with self.db.read() as conn:
            row = conn.execute(select(staff.c.password_hash).where(staff.c.name == str(name)[:64])).first()
        wait = self.wait_seconds(address)
        if wait > 0:
            self.audit.record(_actor(name, row), "login_refused", f"from {address}, {wait} s to wait")
            raise LoginRefused(_refusal(wait), wait)
        if not self._verify(row.password_hash if row else None, password) or row is None:
            with self.db.write() as conn:
                conn.execute(login_failures.insert().values(address=address, at=self.clock()))
            self.audit.record(_actor(name, row), "login_failed", f"from {address}")
            raise AccountError(WRONG)
        session = self._open_session(name, address)
        if _hasher().check_needs_rehash(row.password_hash):
            self._rehash(name, password)
        return session

    def _verify(self, hashed: str | None, password: Any) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            password = ""
        try:
            return _hasher().verify(hashed or _dummy_hash(), password) and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _open_session(self, name: str, address: str) -> Session:
        from .schema import login_failures, sessions

        now = self.clock()
        token = secrets.token_urlsafe(32)
        expires = now + timedelta(minutes=self.session_minutes)
        with self.db.write() as conn:
            conn.execute(login_failures.delete().where((login_failures.c.address == address) | (login_failures.c.at < now - FAILURE_WINDOW)))
            conn.execute(sessions.delete().where(sessions.c.expires_at < now))
            conn.execute(sessions.insert().values(token_hash=token_hash(token), name=name, created_at=now, expires_at=expires))
        self.audit.record(name, "login", f"from {address}, session until {expires.replace(microsecond=0).isoformat()}Z")
        return Session(token, name, expires)

    def _rehash(self, name: str, password: str) -> None:
        from .schema import staff

        with self.db.write() as conn:
            conn.execute(staff.update().where(staff.c.name == name).values(password_hash=_hasher().hash(password)))

    def wait_seconds(self, address: str) -> int:
        """Seconds this address must wait before its next login attempt (0: it may try now)."""
        from sqlalchemy import func, select

        from .schema import login_failures

        now = self.clock()
        with self.db.read() as conn:
            count, last = conn.execute(select(func.count(), func.max(login_failures.c.at))
                                       .where(login_failures.c.address == address, login_failures.c.at >= now - FAILURE_WINDOW)).one()
        if count >= LOCK_AFTER:
            until = last + timedelta(minutes=LOCK_MINUTES)
        elif count >= FREE_FAILURES:
            until = last + timedelta(seconds=2 ** (count - FREE_FAILURES))
        else:
            return 0
        return max(0, int(-(-(until - now).total_seconds() // 1)))

    def session(self, token: str | None) -> str | None:
        """The staff name of a live session, or None (no, unknown or expired token)."""
        if not token or len(token) > 200:
            return None
        from sqlalchemy import select

        from .schema import sessions

        with self.db.read() as conn:
            row = conn.execute(select(sessions.c.name).where(sessions.c.token_hash == token_hash(token),
                                                             sessions.c.expires_at > self.clock())).first()
        return row.name if row else None

    def logout(self, token: str | None) -> str | None:
        """End a session; returns whose it was (None when there was none)."""
        name = self.session(token)
        from .schema import sessions

        if token:
            with self.db.write() as conn:
                conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash(token)))
        if name:
            self.audit.record(name, "logout", "")
        return name


def _actor(name: Any, row: Any) -> str:
    """Who tried: the account name when it exists; a typed name that is no account is not kept (it may be a password)."""
    return str(name) if row is not None else "(unknown name)"


def _refusal(wait: int) -> str:
    if wait >= 60:
        return f"Too many failed logins from this address. Try again in {-(-wait // 60)} minutes."
    return f"Too many failed logins from this address. Wait {wait} seconds before trying again."
