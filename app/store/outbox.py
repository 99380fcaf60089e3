"""The sync tables: the outbox (QUEUED records no pending batch holds), stored batches,
the cached submissions and the sealed sync log. All their SQL lives here.

Every writer takes the caller's connection inside its transaction; readers take a
connection or the database. No role checks here: the workspace makes them."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from app.core.batches import BatchState
from app.core.errors import SieeError
from app.core.states import State
from app.store.crypto import Sealer
from app.store.integrity import ROW_OK_SQL, row_ok_sql
from app.store.records import RecordMeta, RecordStore

Conn = sqlite3.Connection | sqlite_utils.Database

_LOG_AAD = b"sync|log"
# Sync log lines kept (the newest): about two weeks of automatic runs every 5 minutes.
LOG_KEEP = 5000
_OUTBOX_WHERE = (
    f"state='{State.QUEUED.value}' AND quarantined=0 AND {ROW_OK_SQL} AND uuid NOT IN ("
    "SELECT i.uuid FROM sync_batch_items i JOIN sync_batches b USING (batch_id) "
    f"WHERE b.state='{BatchState.PENDING.value}')"
)
# Column order of StoredBatch (app/sync/model.py).
BATCH_COLUMNS = ("batch_id, device_id, state, via, envelope, envelope_sha256, size, count, "
                 "attempts, created_at")
BatchRow = tuple[str, str, str, str, bytes | None, str, int, int, int, float]


class OutboxStore:
    """The sync tables of one unlocked workspace (answers and log sealed with its key)."""

    def __init__(self, records: RecordStore, sealer: Sealer) -> None:
        self.records = records
        self.sealer = sealer

    # -- outbox -------------------------------------------------------------------------
    @staticmethod
    def count(conn: Conn) -> int:
        """QUEUED records, not quarantined, that no pending batch holds."""
        return int(conn.execute(f"SELECT COUNT(*) FROM records WHERE {_OUTBOX_WHERE}")
                   .fetchone()[0])

    @staticmethod
    def take(conn: Conn, limit: int) -> list[str]:
        """Up to `limit` outbox uuids, oldest approval first."""
        return [r[0] for r in conn.execute(
            f"SELECT uuid FROM records WHERE {_OUTBOX_WHERE} ORDER BY approved_at, uuid LIMIT ?",
            (int(limit),))]

    @staticmethod
    def unprepared(conn: Conn, limit: int) -> list[str]:
        """Up to `limit` QUEUED records whose submission of the current revision is not
        computed yet."""
        return [r[0] for r in conn.execute(
            "SELECT r.uuid FROM records r LEFT JOIN sync_submissions s "
            "ON s.uuid = r.uuid AND s.revision = r.revision "
            f"WHERE r.state='{State.QUEUED.value}' AND r.quarantined=0 AND {row_ok_sql('r')} "
            "AND s.uuid IS NULL "
            "LIMIT ?", (int(limit),))]

    # -- submissions (what a QUEUED revision sends, computed once) ------------------------
    def submission(self, conn: Conn, m: RecordMeta) -> dict[str, Any] | None:
        """The cached submission of `m`'s current revision, or None."""
        row = conn.execute(
            "SELECT revision, answers FROM sync_submissions WHERE uuid=?", (m.uuid,)
        ).fetchone()
        if row is None or int(row[0]) != m.revision:
            return None
        return self.records.open_part(m, "submission", row[1])  # type: ignore[no-any-return]

    def save_submissions(self, conn: sqlite3.Connection,
                         items: list[tuple[RecordMeta, dict[str, Any]]]) -> None:
        rows = [(m.uuid, m.revision, self.records.seal_part(m, "submission", sub, compress=True))
                for m, sub in items]
        conn.executemany(
            "INSERT OR REPLACE INTO sync_submissions(uuid, revision, answers) VALUES (?,?,?)",
            rows)

    @staticmethod
    def drop_submission(conn: sqlite3.Connection, uuid: str) -> None:
        conn.execute("DELETE FROM sync_submissions WHERE uuid=?", (uuid,))

    # -- batches --------------------------------------------------------------------------
    @staticmethod
    def save_batch(conn: sqlite3.Connection, *, batch_id: str, device_id: str, created_at: float,
                   via: str, envelope: bytes, sha256: str, count: int,
                   items: list[tuple[str, int]]) -> None:
        """Store a batch (exact envelope bytes) and its (uuid, revision) items."""
        conn.execute(
            "INSERT INTO sync_batches(batch_id, device_id, created_at, state, via, "
            "envelope, envelope_sha256, size, count, attempts) VALUES (?,?,?,?,?,?,?,?,?,0)",
            (batch_id, device_id, created_at, BatchState.PENDING.value, via, envelope, sha256,
             len(envelope), count))
        conn.executemany(
            "INSERT INTO sync_batch_items(batch_id, uuid, revision) VALUES (?,?,?)",
            [(batch_id, u, r) for u, r in items])

    @staticmethod
    def pending(conn: Conn) -> list[BatchRow]:
        return conn.execute(
            f"SELECT {BATCH_COLUMNS} FROM sync_batches WHERE state=? "
            "ORDER BY created_at, batch_id", (BatchState.PENDING.value,)).fetchall()

    @staticmethod
    def batch(conn: Conn, batch_id: str) -> BatchRow | None:
        return conn.execute(  # type: ignore[no-any-return]
            f"SELECT {BATCH_COLUMNS} FROM sync_batches WHERE batch_id=?", (batch_id,)).fetchone()

    @staticmethod
    def batch_state(conn: Conn, batch_id: str) -> BatchState | None:
        row = conn.execute("SELECT state FROM sync_batches WHERE batch_id=?",
                           (batch_id,)).fetchone()
        return BatchState(row[0]) if row else None

    @staticmethod
    def in_flight(conn: Conn) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM sync_batches WHERE state=?",
                                (BatchState.PENDING.value,)).fetchone()[0])

    @staticmethod
    def attempt(conn: sqlite3.Connection, batch_id: str) -> None:
        conn.execute("UPDATE sync_batches SET attempts=attempts+1 WHERE batch_id=?", (batch_id,))

    @staticmethod
    def abandon(conn: sqlite3.Connection, batch_id: str) -> None:
        conn.execute("UPDATE sync_batches SET state=? WHERE batch_id=? AND state=?",
                     (BatchState.ABANDONED.value, batch_id, BatchState.PENDING.value))

    @staticmethod
    def abandon_other_devices(conn: sqlite3.Connection, device_id: str) -> int:
        """Set aside pending batches made for another device; returns how many."""
        rows = conn.execute(
            "SELECT batch_id FROM sync_batches WHERE state=? AND device_id<>?",
            (BatchState.PENDING.value, device_id)).fetchall()
        for (bid,) in rows:
            conn.execute("UPDATE sync_batches SET state=? WHERE batch_id=?",
                         (BatchState.ABANDONED.value, bid))
        return len(rows)

    @staticmethod
    def done(conn: sqlite3.Connection, batch_id: str, receipt: bytes, now: float) -> None:
        """The receipt is applied: keep it, drop the envelope."""
        conn.execute(
            "UPDATE sync_batches SET state=?, receipt=?, envelope=NULL, done_at=? "
            "WHERE batch_id=?", (BatchState.DONE.value, receipt, now, batch_id))

    # -- the sync log (sealed: reasons may quote a DNI) ------------------------------------
    def log_add(self, conn: sqlite3.Connection, ts: float, level: str, text: str) -> None:
        """Add a sync log line (sealed); only the newest LOG_KEEP lines are kept (an
        automatic sync every few minutes adds one line per run)."""
        conn.execute("INSERT INTO sync_log(ts, level, text) VALUES (?,?,?)",
                     (ts, level, self.sealer.seal(text.encode("utf-8"), _LOG_AAD)))
        conn.execute("DELETE FROM sync_log WHERE id <= (SELECT MAX(id) FROM sync_log) - ?",
                     (LOG_KEEP,))

    def log(self, conn: Conn, limit: int) -> list[tuple[float, str, str]]:
        """(ts, level, text), newest first; a damaged line reads "(entrada dañada)"."""
        out = []
        for ts, level, blob in conn.execute(
            "SELECT ts, level, text FROM sync_log ORDER BY id DESC LIMIT ?", (int(limit),)
        ):
            try:
                text = self.sealer.open(blob, _LOG_AAD).decode("utf-8")
            except SieeError:
                text = "(entrada dañada)"
            out.append((ts, level, text))
        return out
