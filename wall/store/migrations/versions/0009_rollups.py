"""Roll-ups: the figures' counters per wall and minute, hour and day, the hours and days to derive again
and the newest writer's fencing token (wall/store/rollups.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("span", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("wall", "span", "bucket", "name", name=op.f("pk_rollups")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_marks",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("span", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("wall", "span", "bucket", name=op.f("pk_rollup_marks")),
    )
    op.create_table(
        "rollup_fences",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("wall", name=op.f("pk_rollup_fences")),
    )


def downgrade() -> None:
    op.drop_table("rollup_fences")
    op.drop_table("rollup_marks")
    op.drop_table("rollups")
