"""The server schema of the first release (server/db.py before Alembic), frozen here so
that the migration test can build the database an upgraded centre already has."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

enroll_codes = Table(
    "enroll_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("ule_ubigeo", String(6), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", Integer, nullable=False),  # unix seconds
    Column("used_at", String(32)),
    Column("device_id", String(64)),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("public_key", String(64), nullable=False, unique=True),
    Column("ule_ubigeo", String(6), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("app_version", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False),  # active | revoked
    Column("enrolled_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("revoke_reason", Text),
    Column("last_seen_at", String(32)),
)

nonces = Table(
    "nonces",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("ts", Integer, nullable=False, index=True),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(36), primary_key=True),
    Column("device_id", String(64), nullable=False, index=True),
    Column("envelope_sha256", String(64), nullable=False),
    Column("envelope_bytes", Integer, nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("source", String(8), nullable=False),  # http | usb
    Column("received_at", String(32), nullable=False),
    Column("receipt", LargeBinary, nullable=False),  # signed receipt bytes, served again as is
)

records = Table(
    "records",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("content_sha256", String(64), nullable=False),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(64), nullable=False),
    Column("ule_ubigeo", String(6), nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("answers", Text, nullable=False),  # canonical JSON
    Column("completed_at", String(40), nullable=False),
    Column("approved_at", String(40)),
    Column("device_id", String(64), nullable=False, index=True),
    Column("batch_id", String(36), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # received | returned | result
    Column("status_at", String(32)),
    Column("return_reasons", Text),  # JSON list
    Column("result_category", String(32)),
    Column("result_date", String(10)),
    Column("result_valid_until", String(10)),
)

messages = Table(
    "messages",
    metadata,
    Column("cursor", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    sqlite_autoincrement=True,
)

forms = Table(
    "forms",
    metadata,
    Column("form_id", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("published_at", String(32), nullable=False),
    UniqueConstraint("sha256", name="uq_forms_sha256"),
)


