"""Staff accounts on SQLite and PostgreSQL: hashes, sessions and their expiry, the failed-login throttle, the audit trail."""

from __future__ import annotations

import pytest
from store_helpers import clock, db_url, store, store_settings  # noqa: F401 (fixtures)

from chatbot.errors import AccountError
from chatbot.store.accounts import FREE_FAILURES, LOCK_AFTER, LOCK_MINUTES, LoginRefused, token_hash

PASSWORD = "correct horse battery"
HOSTILE_NAMES = ["admin' OR '1'='1", "x'; DROP TABLE staff; --", "alice\" --", "", " alice", "a" * 65, "../etc/passwd", "ålice"]


def test_passwords_are_kept_only_as_salted_argon2_hashes(store):
    store.accounts.add("alice", PASSWORD, "cli:test")
    store.accounts.add("bob", PASSWORD, "cli:test")
    from sqlalchemy import select

    from chatbot.store.schema import staff

    with store.db.read() as conn:
        hashes = dict(conn.execute(select(staff.c.name, staff.c.password_hash)).all())
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes.values())
    assert hashes["alice"] != hashes["bob"]  # salted
    assert [name for name, _ in store.accounts.names()] == ["alice", "bob"]


def test_add_refuses_duplicates_bad_names_and_short_passwords(store):
    store.accounts.add("alice", PASSWORD, "cli:test")
    with pytest.raises(AccountError, match="already exists"):
        store.accounts.add("alice", "another password", "cli:test")
    with pytest.raises(AccountError, match="8 to 1024 characters"):
        store.accounts.add("bob", "short", "cli:test")
    for name in HOSTILE_NAMES:
        with pytest.raises(AccountError, match="invalid staff name"):
            store.accounts.add(name, PASSWORD, "cli:test")
    assert [name for name, _ in store.accounts.names()] == ["alice"]


def test_right_password_opens_a_session_that_expires(store, clock):
    store.accounts.add("alice", PASSWORD, "cli:test")
    session = store.accounts.login("alice", PASSWORD, "10.0.0.1")
    assert store.accounts.session(session.token) == "alice"
    clock.advance(minutes=store.accounts.session_minutes - 1)
    assert store.accounts.session(session.token) == "alice"
    clock.advance(minutes=2)
    assert store.accounts.session(session.token) is None  # expired
    from sqlalchemy import select

    from chatbot.store.schema import sessions

    with store.db.read() as conn:
        kept = [r.token_hash for r in conn.execute(select(sessions.c.token_hash))]
    assert session.token not in kept and token_hash(session.token) in kept  # only a hash of the cookie is stored


@pytest.mark.parametrize("name,password", [("alice", "wrong password"), ("nobody", PASSWORD),
                                           ("admin' OR '1'='1", "' OR '1'='1"), ("alice", "x" * 100_000), ("alice", None)])
def test_wrong_name_or_password_is_refused_the_same_way(store, name, password):
    store.accounts.add("alice", PASSWORD, "cli:test")
    with pytest.raises(AccountError, match="^Wrong user name or password.$"):
        store.accounts.login(name, password, "10.0.0.2")


def test_logout_ends_the_session(store):
    store.accounts.add("alice", PASSWORD, "cli:test")
    session = store.accounts.login("alice", PASSWORD, "10.0.0.1")
    assert store.accounts.logout(session.token) == "alice"
    assert store.accounts.session(session.token) is None
    assert store.accounts.logout(session.token) is None


def test_removing_an_account_ends_its_sessions(store):
    store.accounts.add("alice", PASSWORD, "cli:test")
    session = store.accounts.login("alice", PASSWORD, "10.0.0.1")
    assert store.accounts.remove("alice", "cli:test") and not store.accounts.remove("alice", "cli:test")
    assert store.accounts.session(session.token) is None and store.accounts.names() == []


@pytest.mark.parametrize("token", [None, "", "x" * 10_000, "' OR 1=1 --", "\x00"])
def test_odd_session_tokens_open_nothing(store, token):
    assert store.accounts.session(token) is None


def test_failed_logins_in_a_loop_are_slowed_then_refused(store, clock):
    store.accounts.add("alice", PASSWORD, "cli:test")
    waits = []
    for attempt in range(LOCK_AFTER):
        wait = store.accounts.wait_seconds("10.0.0.9")
        waits.append(wait)
        clock.advance(seconds=wait)  # a patient attacker waits exactly as long as told
        with pytest.raises(AccountError, match="Wrong user name or password"):
            store.accounts.login("alice", f"guess {attempt}", "10.0.0.9")
    assert waits[:FREE_FAILURES] == [0] * FREE_FAILURES and waits[FREE_FAILURES:] == [1, 2, 4, 8, 16, 32, 64][:LOCK_AFTER - FREE_FAILURES]
    with pytest.raises(LoginRefused, match=f"Try again in {LOCK_MINUTES} minutes") as refused:
        store.accounts.login("alice", PASSWORD, "10.0.0.9")  # even the right password, while locked
    assert refused.value.wait_seconds == LOCK_MINUTES * 60
    assert store.accounts.login("alice", PASSWORD, "10.0.0.10").name == "alice"  # another address is not locked
    clock.advance(minutes=LOCK_MINUTES)
    assert store.accounts.login("alice", PASSWORD, "10.0.0.9").name == "alice"
    assert store.accounts.wait_seconds("10.0.0.9") == 0  # a success clears the address's failures


def test_too_early_retry_is_refused_with_the_seconds_to_wait(store, clock):
    store.accounts.add("alice", PASSWORD, "cli:test")
    for n in range(FREE_FAILURES):
        with pytest.raises(AccountError):
            store.accounts.login("alice", f"guess {n}", "10.0.0.7")
    with pytest.raises(LoginRefused, match="Wait 1 seconds before trying again"):
        store.accounts.login("alice", PASSWORD, "10.0.0.7")


def test_every_account_action_is_audited(store):
    store.accounts.add("alice", PASSWORD, "cli:root")
    with pytest.raises(AccountError):
        store.accounts.login("alice", "wrong password", "10.0.0.1")
    with pytest.raises(AccountError):
        store.accounts.login("my-secret-password", "x", "10.0.0.1")  # a typed name that is no account is not kept
    session = store.accounts.login("alice", PASSWORD, "10.0.0.1")
    store.accounts.logout(session.token)
    store.accounts.remove("alice", "cli:root")
    trail = [(r["actor"], r["action"]) for r in reversed(store.audit.recent().rows)]
    assert trail == [("cli:root", "staff_add"), ("alice", "login_failed"), ("(unknown name)", "login_failed"),
                     ("alice", "login"), ("alice", "logout"), ("cli:root", "staff_remove")]
    assert "my-secret-password" not in str(store.audit.recent().rows)
