"""Live controls per wall and curators' sentiment labels with their text.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "controls",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("wall", name=op.f("pk_controls")),
    )
    op.create_table(
        "sentiment_labels",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("wall", "post_id", name=op.f("pk_sentiment_labels")),
    )
    op.create_index(op.f("ix_sentiment_labels_at"), "sentiment_labels", ["at"])


def downgrade() -> None:
    op.drop_table("sentiment_labels")
    op.drop_table("controls")
