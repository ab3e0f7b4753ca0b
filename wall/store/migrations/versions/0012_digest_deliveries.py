"""Digests by e-mail: each wall's digest per period, claimed before sending, and its delivery state
(wall/store/digests.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"  # re-chained at merge (made from 0008)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_deliveries",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.CheckConstraint("state IN ('sending', 'sent', 'failed')", name=op.f("ck_digest_deliveries_state")),
        sa.PrimaryKeyConstraint("wall", "period", name=op.f("pk_digest_deliveries")),
    )
    op.create_index(op.f("ix_digest_deliveries_updated_at"), "digest_deliveries", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_digest_deliveries_updated_at"), table_name="digest_deliveries")
    op.drop_table("digest_deliveries")
