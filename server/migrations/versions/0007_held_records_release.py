"""Held records keep the rest of the record (completion and approval times, case), so
that `siee-server held release` can store them once their form version is published.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add completed_at, approved_at and case_uuid to held_records (NULL for records
    held before: they cannot be released, see server.held.release)."""
    with op.batch_alter_table("held_records") as b:
        b.add_column(sa.Column("completed_at", sa.String(40)))
        b.add_column(sa.Column("approved_at", sa.String(40)))
        b.add_column(sa.Column("case_uuid", sa.String(36)))


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table("held_records") as b:
        b.drop_column("case_uuid")
        b.drop_column("approved_at")
        b.drop_column("completed_at")
