"""Display log: what the screens showed, per post (wall/store/display_log.py, docs/display-log.md).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"  # re-chained in the insights branch (both were made from 0008)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "display_log",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=255), nullable=False),
        sa.Column("first_shown", sa.Float(), nullable=False),
        sa.Column("last_shown", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("screens", sa.Integer(), nullable=False),
        sa.Column("seen", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("wall", "post_id", name=op.f("pk_display_log")),
    )
    op.create_index("ix_display_log_wall_first_shown", "display_log", ["wall", "first_shown"])
    op.create_table(
        "display_screens",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("screen", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("wall", "screen", name=op.f("pk_display_screens")),
        sa.UniqueConstraint("wall", "n", name="uq_display_screens_wall_n"),
    )


def downgrade() -> None:
    op.drop_table("display_screens")
    op.drop_index("ix_display_log_wall_first_shown", table_name="display_log")
    op.drop_table("display_log")
