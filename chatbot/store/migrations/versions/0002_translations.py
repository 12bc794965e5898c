"""Verified translations of passages; the passages each logged question was answered from.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("chunk_ids", sa.Text, nullable=True))
    op.create_table("translations",
                    sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("chunk_id", sa.String(300), nullable=False),
                    sa.Column("doc_id", sa.String(200), nullable=False),
                    sa.Column("position", sa.Integer, nullable=False),
                    sa.Column("source_hash", sa.String(64), nullable=False),
                    sa.Column("source_text", sa.Text, nullable=False),
                    sa.Column("source_language", sa.String(8), nullable=False),
                    sa.Column("language", sa.String(8), nullable=False),
                    sa.Column("text", sa.Text, nullable=False),
                    sa.Column("alignment", sa.Text, nullable=False),
                    sa.Column("status", sa.String(16), nullable=False),
                    sa.Column("note", sa.String(32), nullable=False),
                    sa.Column("author", sa.String(80), nullable=False),
                    sa.Column("created_at", sa.DateTime, nullable=False),
                    sa.Column("updated_by", sa.String(80), nullable=False),
                    sa.Column("updated_at", sa.DateTime, nullable=False),
                    sa.Column("reviewer", sa.String(80), nullable=True),
                    sa.Column("reviewed_at", sa.DateTime, nullable=True))
    op.create_index("translations_source", "translations", ["source_hash", "language"], unique=True)
    op.create_index("translations_doc", "translations", ["doc_id", "position"])


def downgrade() -> None:
    op.drop_table("translations")
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("chunk_ids")
