"""The workspace's SQLite file: connection settings and schema migrations."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from app.core.errors import IntegrityFailure
from app.core.private_files import (
    make_private_dir,
    private_database_files,
)
from app.store import integrity

log = logging.getLogger("siee.store")

DB_NAME = "siee-campo.db"


def connect(path: Path) -> sqlite_utils.Database:
    """Open the workspace database (created 0600 when missing) with the program's settings."""
    path = Path(path)
    if str(path) != ":memory:":
        make_private_dir(path.parent)
        private_database_files(path)
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so every write
    # is one explicit transaction.
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit that returned survives a power cut, not just a crash.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Sorting/temp tables stay in memory: no temporary files on disk.
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    # Record metadata MACs (app.store.integrity): refused until an unlock installs the key.
    integrity.install(conn, None)
    return sqlite_utils.Database(conn)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT; rolled back on any exception.

    Inside an open transaction it nests as a SAVEPOINT (so several operations,
    such as the two records of one demo household, can commit as one).
    A write refused by the record-metadata guard (a row edited outside the
    program) becomes IntegrityFailure with a Spanish message."""
    conn = db.conn
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO nested")
            conn.execute("RELEASE nested")
            raise
        conn.execute("RELEASE nested")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except sqlite3.DatabaseError as e:
        conn.execute("ROLLBACK")
        if integrity.TAMPERED_MESSAGE in str(e):
            raise IntegrityFailure(
                f"write refused: {e}",
                "Esta ficha fue modificada fuera del programa (estado u otros datos) y no se "
                "puede cambiar. Restaure una copia de respaldo o avise a soporte.",
            ) from None
        raise
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """BEGIN ... COMMIT around reads that must see one snapshot (e.g. a backup's
    header and its copy of the database)."""
    conn = db.conn
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def _m1_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["key_slots"].create({"slot": str, "salt": bytes, "kdf": str, "wrapped": bytes}, pk="slot")
    db["users"].create(
        {
            "id": int,
            "username": str,
            "role": str,
            "display_name": bytes,  # encrypted with the data key
            "active": int,
            "created_at": float,
            "failed_attempts": int,
            "locked_until": float,
            "lockouts": int,
        },
        pk="id",
        not_null={"username", "role", "active"},
        defaults={"active": 1, "failed_attempts": 0, "locked_until": 0.0, "lockouts": 0},
    )
    db["users"].create_index(["username"], unique=True)
    db["records"].create(
        {
            "uuid": str,
            "revision": int,
            "form_id": str,
            "form_version": str,
            "state": str,
            "created_at": float,
            "updated_at": float,
            "author_id": int,
            "assignee_id": int,
            "ule_ubigeo": str,
            "answers": bytes,  # encrypted canonical answers
            "summary": bytes,  # encrypted list-view fields
            "notes": bytes,  # encrypted: return reasons, CSE result, quarantine reason
            "warnings": int,
            "quarantined": int,
            "completed_at": float,
            "approved_at": float,
            "approved_by": int,
            "delivered_at": float,
        },
        pk="uuid",
        not_null={"revision", "form_id", "form_version", "state", "author_id"},
        defaults={"warnings": 0, "quarantined": 0},
    )
    db["records"].create_index(["state"])
    db["records"].create_index(["updated_at"])
    db["record_revisions"].create(
        {
            "uuid": str,
            "revision": int,
            "form_id": str,
            "form_version": str,
            "answers": bytes,
            "notes": bytes,
            "closed_at": float,
        },
        pk=("uuid", "revision"),
    )
    db["dni_index"].create({"mac": bytes, "uuid": str}, pk=("mac", "uuid"))
    db["dni_index"].create_index(["uuid"])
    db["audit"].create(
        {
            "seq": int,
            "ts": float,
            "user_id": int,
            "action": str,
            "record_uuid": str,
            "detail": bytes,  # encrypted: may carry reasons typed by people
            "mac": bytes,
        },
        pk="seq",
    )
    db["audit"].create_index(["record_uuid"])
    # Log-in failures happen before the key is known; they wait here (no
    # household data) and join the audit chain at the next successful log-in.
    db["auth_events"].create({"id": int, "ts": float, "username": str, "event": str}, pk="id")
    # Append-only: the database itself refuses to rewrite history.
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
    )


def _m2_sync(db: sqlite_utils.Database) -> None:
    """Sync client state: batches kept until their receipt arrives, and the sync log.

    A batch row holds the exact envelope bytes (already encrypted to the server)
    so a crash or a lost answer leads to resending the same batch id, never to a
    second copy. Log lines are sealed with the data key (reasons may quote a DNI)."""
    db["sync_batches"].create(
        {
            "batch_id": str,
            "device_id": str,
            "created_at": float,
            "state": str,  # pending | done | abandoned
            "via": str,  # http | usb
            "envelope": bytes,  # exact bytes sent; dropped once the receipt is applied
            "envelope_sha256": str,
            "size": int,
            "count": int,
            "attempts": int,
            "receipt": bytes,  # the server's signed receipt, as received
            "done_at": float,
        },
        pk="batch_id",
        not_null={"device_id", "state", "envelope_sha256"},
        defaults={"attempts": 0, "via": "http"},
    )
    db["sync_batches"].create_index(["state"])
    db["sync_batch_items"].create(
        {"batch_id": str, "uuid": str, "revision": int},
        pk=("batch_id", "uuid"),
        foreign_keys=[("batch_id", "sync_batches", "batch_id")],
    )
    db["sync_batch_items"].create_index(["uuid"])
    db["sync_log"].create(
        {"id": int, "ts": float, "level": str, "text": bytes},  # text sealed
        pk="id",
    )


def _m3_sync_submission(db: sqlite_utils.Database) -> None:
    """What a QUEUED record sends (its answers without those kept aside), computed
    once per revision: every resend carries the same content hash, and the form
    engine's work is done before the sync (sealed like the answers)."""
    db["sync_submissions"].create(
        {"uuid": str, "revision": int, "answers": bytes},
        pk="uuid",
    )


def _m4_integrity(db: sqlite_utils.Database) -> None:
    """Tamper evidence for clear columns (app.store.integrity, app.store.lockout).

    records.row_mac: HMAC of the row's clear metadata, kept by triggers that call a
    function only the unlocked program has; rows of an older database get theirs
    at the first unlock (the key is not known before). users.failures_total: a
    failed log-in count the program never lowers, compared at each log-in with
    the value sealed at the previous one."""
    db["records"].add_column("row_mac", bytes)
    db["users"].add_column("failures_total", int, not_null_default=0)
    for sql in integrity.trigger_sql():
        db.execute(sql)


# Append only: a migration, once shipped, never changes.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1_initial,
    _m2_sync,
    _m3_sync_submission,
    _m4_integrity,
]


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Apply pending migrations, each in its own transaction with the version bump."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema {current} is newer than this program ({len(MIGRATIONS)})"
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        with transaction(db) as conn:
            MIGRATIONS[version - 1](db)
            conn.execute(f"PRAGMA user_version={version}")
    if schema_version(db) >= 4 and integrity.triggers_differ(db.conn):
        with transaction(db) as conn:
            fixed = integrity.restore_triggers(conn)
        if fixed:
            log.warning("guard triggers missing or changed, restored: %s", ", ".join(fixed))
    return schema_version(db)
