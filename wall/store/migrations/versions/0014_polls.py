"""Polls: a wall's polls, the votes the curation writer counts, and its fencing token for them
(wall/store/polls.py, docs/polls.md).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"  # re-chained at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("counting", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=True),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.Column("results", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('ready', 'open', 'closed', 'hidden')", name=op.f("ck_polls_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
    )
    op.create_index(op.f("ix_polls_wall"), "polls", ["wall"])
    op.create_table(
        "poll_votes",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("post_id", sa.String(length=255), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("poll_id", "author", name=op.f("pk_poll_votes")),
    )
    op.create_table(
        "poll_fences",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("wall", name=op.f("pk_poll_fences")),
    )


def downgrade() -> None:
    op.drop_table("poll_fences")
    op.drop_table("poll_votes")
    op.drop_index(op.f("ix_polls_wall"), table_name="polls")
    op.drop_table("polls")
