"""The last audit-chain head each device reported (server/audit_heads.py): the centre
notices a laptop whose audit log went backwards (issue 19 item 3).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create device_audit_heads."""
    op.create_table(
        "device_audit_heads",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("batch_created_at", sa.String(40), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("alerts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_alert_at", sa.String(32)),
        sa.Column("last_alert", sa.Text),
    )


def downgrade() -> None:
    """Drop device_audit_heads."""
    op.drop_table("device_audit_heads")
