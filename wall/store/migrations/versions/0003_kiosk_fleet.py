"""The kiosk fleet: kiosks, their pairing requests, pending commands and latest screenshots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"  # after the console's controls and labels (branch access)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("wall", sa.String(length=64), nullable=False),
        sa.Column("screen", sa.Integer(), nullable=False),
        sa.Column("screens", sa.Integer(), nullable=False),
        sa.Column("display_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("last_seen", sa.Float(), nullable=True),
        sa.Column("status", sa.JSON(), nullable=True),
        sa.CheckConstraint("screen >= 1 AND screen <= screens", name=op.f("ck_kiosks_screen")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kiosks_token_hash")),
    )
    op.create_index(op.f("ix_kiosks_wall"), "kiosks", ["wall"])
    op.create_table(
        "kiosk_enrollments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("poll_hash", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"],
                                name=op.f("fk_kiosk_enrollments_kiosk_id_kiosks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_enrollments")),
        sa.UniqueConstraint("poll_hash", name=op.f("uq_kiosk_enrollments_poll_hash")),
    )
    op.create_index(op.f("ix_kiosk_enrollments_code"), "kiosk_enrollments", ["code"])
    op.create_index(op.f("ix_kiosk_enrollments_expires_at"), "kiosk_enrollments", ["expires_at"])
    op.create_table(
        "kiosk_commands",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.CheckConstraint("op IN ('reload', 'identify', 'assign')", name=op.f("ck_kiosk_commands_op")),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_commands_kiosk_id_kiosks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_commands")),
    )
    op.create_index(op.f("ix_kiosk_commands_kiosk_id"), "kiosk_commands", ["kiosk_id"])
    op.create_table(
        "kiosk_screenshots",
        sa.Column("kiosk_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"],
                                name=op.f("fk_kiosk_screenshots_kiosk_id_kiosks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("kiosk_id", name=op.f("pk_kiosk_screenshots")),
    )


def downgrade() -> None:
    for table in ("kiosk_screenshots", "kiosk_commands", "kiosk_enrollments", "kiosks"):
        op.drop_table(table)  # indexes go with their tables
