"""Cases (expedientes, issue 15): each record may name the request (S100) whose case
it belongs to, and the centre keeps each case's state (open or dropped).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add records.case_uuid (indexed) and the cases table."""
    with op.batch_alter_table("records") as b:
        b.add_column(sa.Column("case_uuid", sa.String(36)))
    op.create_index("ix_records_case_uuid", "records", ["case_uuid"])
    op.create_table(
        "cases",
        sa.Column("case_uuid", sa.String(36), primary_key=True),
        sa.Column("ule_ubigeo", sa.String(6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_at", sa.String(32), nullable=False),
        sa.Column("state_record", sa.String(36)),
    )
    op.create_index("ix_cases_ule_ubigeo", "cases", ["ule_ubigeo"])


def downgrade() -> None:
    """Drop the cases table and records.case_uuid."""
    op.drop_index("ix_cases_ule_ubigeo", "cases")
    op.drop_table("cases")
    op.drop_index("ix_records_case_uuid", "records")
    with op.batch_alter_table("records") as b:
        b.drop_column("case_uuid")
