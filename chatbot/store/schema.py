"""The tables, as SQLAlchemy Core objects for queries. Changes go through a migration in migrations/versions/."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()
# SQLite numbers rows only with INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids (years of questions)
Id = BigInteger().with_variant(Integer(), "sqlite")

questions = Table(
    "questions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),  # UTC, naive (the same on both dialects)
    Column("question", Text, nullable=False),  # masked: no personal details
    Column("language", String(8), nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("chunk_ids", Text),  # JSON list of the passages the answer quoted (NULL: none, or logged before 0002)
)

feedback = Table(
    "feedback", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("liked", Boolean, nullable=False),
    Column("reason", String(32)),  # a REASONS code, set after a thumbs-down when the patient says why
    Column("comment", Text),  # masked
    Column("question", Text, nullable=False),  # masked
    Column("language", String(8), nullable=False),
    Column("chunk_ids", Text, nullable=False),  # JSON list
    Column("answer", Text, nullable=False),
)

staff = Table(
    "staff", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),  # argon2id, salted
    Column("created_at", DateTime, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie: a copied table opens no session
    Column("name", String(64), ForeignKey("staff.name", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

login_failures = Table(
    "login_failures", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)

translations = Table(
    "translations", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("chunk_id", String(300), nullable=False),  # the passage it translates, as it was last seen in the index
    Column("doc_id", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("source_hash", String(64), nullable=False),  # sha256 of the passage text: unique with `language`
    Column("source_text", Text, nullable=False),  # the passage as translated, to compare when it changes
    Column("source_language", String(8), nullable=False),
    Column("language", String(8), nullable=False),  # the language of the translation
    Column("text", Text, nullable=False),
    Column("alignment", Text, nullable=False),  # JSON: which translated sentence stands for which original one
    Column("status", String(16), nullable=False),  # reviewed | needs_review
    Column("note", String(32), nullable=False),  # why it needs review: new, edited, source_changed, source_removed
    Column("author", String(80), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_by", String(80), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("reviewer", String(80)),
    Column("reviewed_at", DateTime),
)

meta = Table(
    "meta", metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)
