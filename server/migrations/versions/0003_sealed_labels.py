"""Device labels are sealed at rest (server.sealing): the column becomes Text, since a
sealed label is longer than the 200 characters of the plain one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """devices.label: String(200) -> Text."""
    with op.batch_alter_table("devices") as batch:
        batch.alter_column("label", type_=sa.Text, existing_type=sa.String(200),
                           existing_nullable=False)


def downgrade() -> None:
    """devices.label back to String(200) (sealed labels may not fit)."""
    with op.batch_alter_table("devices") as batch:
        batch.alter_column("label", type_=sa.String(200), existing_type=sa.Text,
                           existing_nullable=False)
