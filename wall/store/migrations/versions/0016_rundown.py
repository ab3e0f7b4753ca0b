"""The rundown: a wall's run of show for an event, items (scene, duration, title, speaker notes) that a
presenter steps through (wall/store/rundown.py, docs/rundown.md).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"  # re-chained at merge (made from 0013)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rundown_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("scene", sa.String(length=32), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rundown_items")),
    )
    op.create_index(op.f("ix_rundown_items_wall"), "rundown_items", ["wall"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rundown_items_wall"), table_name="rundown_items")
    op.drop_table("rundown_items")
