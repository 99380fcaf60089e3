"""Storage through SQLAlchemy Core: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
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


def make_engine(url: str) -> Engine:
    """An engine for `url`; creates the tables if missing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    metadata.create_all(engine)
    return engine


def drop_all(url: str) -> None:
    """Remove every server table (tests use it to start from empty)."""
    engine = create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
