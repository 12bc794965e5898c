"""Questions, feedback with reasons, staff accounts, sessions, failed logins, audit trail, meta.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("questions",
                    sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("question", sa.Text, nullable=False),
                    sa.Column("language", sa.String(8), nullable=False),
                    sa.Column("abstained", sa.Boolean, nullable=False),
                    sa.Column("urgent", sa.Boolean, nullable=False))
    op.create_index("questions_created", "questions", ["created_at"])
    op.create_index("questions_gaps", "questions", ["abstained", "created_at"])
    op.create_table("feedback",
                    sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("liked", sa.Boolean, nullable=False),
                    sa.Column("reason", sa.String(32)),
                    sa.Column("comment", sa.Text),
                    sa.Column("question", sa.Text, nullable=False),
                    sa.Column("language", sa.String(8), nullable=False),
                    sa.Column("chunk_ids", sa.Text, nullable=False),
                    sa.Column("answer", sa.Text, nullable=False))
    op.create_index("feedback_created", "feedback", ["created_at"])
    op.create_index("feedback_gaps", "feedback", ["liked", "created_at"])
    op.create_table("staff",
                    sa.Column("name", sa.String(64), primary_key=True),
                    sa.Column("password_hash", sa.String(255), nullable=False),
                    sa.Column("created_at", sa.DateTime, nullable=False))
    op.create_table("sessions",
                    sa.Column("token_hash", sa.String(64), primary_key=True),
                    sa.Column("name", sa.String(64), sa.ForeignKey("staff.name", ondelete="CASCADE"), nullable=False),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("expires_at", sa.DateTime, nullable=False))
    op.create_index("sessions_expiry", "sessions", ["expires_at"])
    op.create_table("login_failures",
                    sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("address", sa.String(64), nullable=False),
                    sa.Column("at", sa.DateTime, nullable=False))
    op.create_index("login_failures_address", "login_failures", ["address", "at"])
    op.create_table("audit",
                    sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("at", sa.DateTime, nullable=False),
                    sa.Column("actor", sa.String(80), nullable=False),
                    sa.Column("action", sa.String(32), nullable=False),
                    sa.Column("detail", sa.Text, nullable=False))
    op.create_index("audit_at", "audit", ["at"])
    op.create_table("meta",
                    sa.Column("key", sa.String(200), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))


def downgrade() -> None:
    for table in ("meta", "audit", "login_failures", "sessions", "staff", "feedback", "questions"):
        op.drop_table(table)
