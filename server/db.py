"""Storage through SQLAlchemy Core: SQLite file by default, PostgreSQL by URL.

The schema is versioned with Alembic (server/migrations): a new database is created
from these tables and stamped at the newest revision; an older one must be brought up
with `siee-server db upgrade` (the server refuses to run on it until then)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url

from app.sync.protocol import ProtocolError

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
    Column("label", Text, nullable=False, default=""),  # sealed (server.sealing)
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
    Column("receipt", LargeBinary, nullable=False),  # signed receipt bytes (sealed), served again
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
    Column("answers", Text, nullable=False),  # canonical JSON, sealed (server.sealing)
    Column("completed_at", String(40), nullable=False),
    Column("approved_at", String(40)),
    Column("device_id", String(64), nullable=False, index=True),
    Column("batch_id", String(36), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # received | returned | result
    Column("status_at", String(32)),
    Column("return_reasons", Text),  # JSON list, sealed
    Column("result_category", String(32)),
    Column("result_date", String(10)),
    Column("result_valid_until", String(10)),
    # The request (S100) whose case the record belongs to (issue 15); None for a
    # request itself and for records sent before cases.
    Column("case_uuid", String(36), index=True),
)

messages = Table(
    "messages",
    metadata,
    Column("cursor", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON, sealed
    sqlite_autoincrement=True,
)

rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(96), primary_key=True),  # e.g. dev:<device_id>, enroll:ip:<addr>
    Column("window", Integer, primary_key=True),  # unix minute (seconds // 60)
    Column("hits", Integer, nullable=False),
    Index("ix_rate_counters_window", "window"),
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


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# The last audit-chain head each device reported (server/audit_heads.py, issue 19 item 3).
device_audit_heads = Table(
    "device_audit_heads",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("mac", String(64), nullable=False),
    Column("batch_created_at", String(40), nullable=False),
    Column("batch_id", String(36), nullable=False),
    Column("alerts", Integer, nullable=False, default=0),
    Column("last_alert_at", String(32)),
    Column("last_alert", Text),  # English: what regressed, from what to what
)


# One row per case (expediente) the centre knows of (issue 15): its state follows the
# desestimación records received (server/cases.py).
cases = Table(
    "cases",
    metadata,
    Column("case_uuid", String(36), primary_key=True),
    Column("ule_ubigeo", String(6), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # abierto | desestimado
    Column("state_at", String(32), nullable=False),
    Column("state_record", String(36)),  # the desestimación record that set it
)


# Records the centre could not validate: their form version is not published here
# (server/held.py, issue 19 item 6). Never in `records`; answers sealed.
held_records = Table(
    "held_records",
    metadata,
    Column("uuid", String(36), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("content_sha256", String(64), nullable=False),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(64), nullable=False, index=True),
    Column("ule_ubigeo", String(6), nullable=False),
    Column("author", String(64), nullable=False),
    Column("answers", Text, nullable=False),  # canonical JSON, sealed (server.sealing)
    Column("device_id", String(64), nullable=False),
    Column("batch_id", String(36), nullable=False),
    Column("held_at", String(32), nullable=False),
    # The rest of the record, to store it once released (migration 0007; NULL for
    # records held before).
    Column("completed_at", String(40)),
    Column("approved_at", String(40)),
    Column("case_uuid", String(36)),
)


class SchemaOutdated(ProtocolError):
    """The database holds an older schema revision; `siee-server db upgrade` first."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            "schema_outdated", f"database schema {current or 'unversioned'} is older than {head}",
            "La base de datos del servidor es de una versión anterior del programa. Haga una "
            "copia de seguridad y ejecute: siee-server db upgrade", 503)
        self.current, self.head = current, head


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration on the server's migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest schema revision this program knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(c: Connection) -> str | None:
    """The database's schema revision: None when it has no server tables at all,
    "0001" for a first-release database (tables but no alembic_version)."""
    rev = MigrationContext.configure(c).get_current_revision()
    if rev is not None:
        return rev
    return "0001" if inspect(c).has_table("devices") else None


def insert_new(c: Connection, table: Table) -> PgInsert | SqliteInsert:
    """INSERT into `table` that leaves rows whose primary key is already there as they
    are (INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite): two transactions
    adding the same row at once both succeed, one of them adding nothing, instead of
    one failing on the unique key."""
    ins = (pg_insert if c.dialect.name == "postgresql" else sqlite_insert)(table)
    return ins.on_conflict_do_nothing(index_elements=list(table.primary_key.columns))


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_dir(url)
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
    return engine


def _private_sqlite_dir(url: str) -> None:
    """The database file is created readable by the owner only (0600); SQLite gives its
    WAL and shared-memory files the database file's mode."""
    db = make_url(url).database
    if not db or db == ":memory:" or os.name != "posix":
        return
    path = Path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for f in (path, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if f.exists() and f.stat().st_mode & 0o077:
            os.chmod(f, 0o600)


def make_engine(url: str, prepare: bool = True) -> Engine:
    """An engine for `url`. prepare=True: an empty database gets the newest schema
    (created and stamped); an older one raises SchemaOutdated; prepare=False: no check
    (worker processes, whose parent prepared the database)."""
    engine = _create_engine(url)
    if prepare:
        try:
            prepare_schema(engine)
        except Exception:
            engine.dispose()
            raise
    return engine


def prepare_schema(engine: Engine) -> None:
    """Create the schema in an empty database, or check that it is the newest."""
    head = head_revision()
    with engine.begin() as c:
        rev = current_revision(c)
        if rev is None:
            metadata.create_all(c)
            command.stamp(alembic_config(c), "head", purge=True)
            return
    if rev != head:
        raise SchemaOutdated(rev, head)


def upgrade(url: str) -> tuple[str | None, str]:
    """Bring the database at `url` to the newest schema revision; returns (before, after).
    An empty database is created; a first-release one is stamped 0001 and upgraded."""
    engine = _create_engine(url)
    try:
        with engine.begin() as c:
            before = current_revision(c)
            cfg = alembic_config(c)
            if before is None:
                metadata.create_all(c)
                command.stamp(cfg, "head", purge=True)
            else:
                if MigrationContext.configure(c).get_current_revision() is None:
                    command.stamp(cfg, before)
                command.upgrade(cfg, "head")
            after = current_revision(c)
        assert after is not None
        return before, after
    finally:
        engine.dispose()


def drop_all(url: str) -> None:
    """Remove every server table and the schema version (tests start from empty)."""
    engine = create_engine(url)
    try:
        metadata.drop_all(engine)
        with engine.begin() as c:
            c.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        engine.dispose()
