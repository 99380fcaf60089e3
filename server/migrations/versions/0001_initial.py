"""The schema of the first release (created by metadata.create_all, without Alembic).

A database of that release has these tables and no alembic_version table;
`siee-server db upgrade` stamps it 0001 and applies what follows.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the first release's tables."""
    op.create_table(
        "enroll_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("ule_ubigeo", sa.String(6), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.Integer, nullable=False),
        sa.Column("used_at", sa.String(32)),
        sa.Column("device_id", sa.String(64)),
    )
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False, unique=True),
        sa.Column("ule_ubigeo", sa.String(6), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("app_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("enrolled_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
        sa.Column("revoke_reason", sa.Text),
        sa.Column("last_seen_at", sa.String(32)),
    )
    op.create_table(
        "nonces",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("ts", sa.Integer, nullable=False),
    )
    op.create_index("ix_nonces_ts", "nonces", ["ts"])
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("envelope_sha256", sa.String(64), nullable=False),
        sa.Column("envelope_bytes", sa.Integer, nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("receipt", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_batches_device_id", "batches", ["device_id"])
    op.create_table(
        "records",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.String(64), nullable=False),
        sa.Column("ule_ubigeo", sa.String(6), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("completed_at", sa.String(40), nullable=False),
        sa.Column("approved_at", sa.String(40)),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", sa.String(32)),
        sa.Column("return_reasons", sa.Text),
        sa.Column("result_category", sa.String(32)),
        sa.Column("result_date", sa.String(10)),
        sa.Column("result_valid_until", sa.String(10)),
    )
    op.create_index("ix_records_ule_ubigeo", "records", ["ule_ubigeo"])
    op.create_index("ix_records_device_id", "records", ["device_id"])
    op.create_table(
        "messages",
        sa.Column("cursor", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_device_id", "messages", ["device_id"])
    op.create_table(
        "forms",
        sa.Column("form_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("published_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("sha256", name="uq_forms_sha256"),
    )


def downgrade() -> None:
    """Drop every table of the first release."""
    for name in ("forms", "messages", "records", "batches", "nonces", "devices",
                 "enroll_codes"):
        op.drop_table(name)
