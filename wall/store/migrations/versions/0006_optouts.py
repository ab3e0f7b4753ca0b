"""Authors opted out of a wall, by its opt-out tag or by request, until when (wall/store/optouts.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "optouts",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.CheckConstraint("reason IN ('tag', 'request')", name=op.f("ck_optouts_reason")),
        sa.PrimaryKeyConstraint("wall", "author", name=op.f("pk_optouts")),
    )


def downgrade() -> None:
    op.drop_table("optouts")
