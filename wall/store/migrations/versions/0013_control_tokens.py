"""Control tokens: stage hardware (a Stream Deck through Bitfocus Companion) steers one wall through the
control API with a named, scoped, revocable bearer token; only its sha256 is kept
(wall/store/control_tokens.py, docs/control-api.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"  # re-chained at merge (made from 0008)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_control_tokens_token_hash")),
    )
    op.create_index(op.f("ix_control_tokens_wall"), "control_tokens", ["wall"])


def downgrade() -> None:
    op.drop_index(op.f("ix_control_tokens_wall"), table_name="control_tokens")
    op.drop_table("control_tokens")
