"""The memory bus's state on a box without Redis: inboxes, the display history's tail, the writer's position,
shown set, counted posts, recent posts, known authors and shared secrets (wall/store/box.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bus_walls",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("position", sa.String(length=48), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("control", sa.LargeBinary(), nullable=True),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("wall", name=op.f("pk_bus_walls")),
    )
    for name in ("bus_inbox", "bus_events"):
        op.create_table(
            name,
            sa.Column("wall", sa.String(length=64), nullable=False),
            sa.Column("ms", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("wall", "ms", "seq", name=op.f(f"pk_{name}")),
        )
    op.create_table(
        "bus_shown",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("wall", "post_id", name=op.f("pk_bus_shown")),
    )
    op.create_index(op.f("ix_bus_shown_at"), "bus_shown", ["at"])
    op.create_table(
        "bus_counted",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=255), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("wall", "post_id", name=op.f("pk_bus_counted")),
    )
    op.create_index(op.f("ix_bus_counted_minute"), "bus_counted", ["minute"])
    op.create_table(
        "bus_recent",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("n", name=op.f("pk_bus_recent")),
        sa.UniqueConstraint("wall", "post_id", name=op.f("uq_bus_recent_wall")),
    )
    op.create_table(
        "bus_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bus_secrets")),
    )
    op.create_table(
        "bus_authors",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("wall", "author", name=op.f("pk_bus_authors")),
    )


def downgrade() -> None:
    for name in ("bus_authors", "bus_secrets", "bus_recent", "bus_counted", "bus_shown", "bus_events",
                 "bus_inbox", "bus_walls"):
        op.drop_table(name)  # indexes go with their tables
