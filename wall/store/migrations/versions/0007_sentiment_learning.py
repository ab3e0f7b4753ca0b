"""Sentiment that learns: labels carry their kind (a correction, or an approval or rejection as a weak
signal) and language; the per-wall sentiment model's versions (wall/store/labels.py).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sentiment_labels") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="correction"))
        batch.add_column(sa.Column("lang", sa.String(length=16), nullable=True))
    op.create_table(
        "sentiment_models",
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("params", sa.LargeBinary(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("fitted_until", sa.Float(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("rolled_back_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("wall", "version", name=op.f("pk_sentiment_models")),
    )


def downgrade() -> None:
    op.drop_table("sentiment_models")
    with op.batch_alter_table("sentiment_labels") as batch:
        batch.drop_column("lang")
        batch.drop_column("kind")
