"""Retention: when each known author of the memory bus last had a post approved (bus_authors.at), so that
authors are forgotten with their posts (wall/privacy/retention.py). Authors known before get 0: the first
run forgets them, as if they were the oldest.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bus_authors") as batch:
        batch.add_column(sa.Column("at", sa.Float(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("bus_authors") as batch:
        batch.drop_column("at")
