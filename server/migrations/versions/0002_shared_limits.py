"""Request counters shared by every server process (rate limits of devices and of
enrollment live in the database, not in one process's memory).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add rate_counters (key, one-minute window, hits)."""
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("window", sa.Integer, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    op.create_index("ix_rate_counters_window", "rate_counters", ["window"])


def downgrade() -> None:
    """Drop rate_counters."""
    op.drop_index("ix_rate_counters_window", "rate_counters")
    op.drop_table("rate_counters")
