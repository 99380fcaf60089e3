"""Records held because the centre does not hold their form version (server/held.py,
issue 19 item 6): never stored as valid, listed by `siee-server held list`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create held_records."""
    op.create_table(
        "held_records",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.String(64), nullable=False),
        sa.Column("ule_ubigeo", sa.String(6), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("held_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_held_records_form_version", "held_records", ["form_version"])


def downgrade() -> None:
    """Drop held_records."""
    op.drop_index("ix_held_records_form_version", "held_records")
    op.drop_table("held_records")
