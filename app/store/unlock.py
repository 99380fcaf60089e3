"""What the store checks when the data key becomes known (unlock and log-in).

The workspace calls these at a few points; the logic lives here so the checks
stay beside the store they protect:

* ``on_unlock``: install the row-MAC function with the key, give the record
  store its checker, and give an older database its row MACs once
  (app.store.integrity);
* ``on_login``: inside the log-in transaction, compare the lock-out counters with
  their sealed anchor (app.store.lockout), check that the audit chain still ends
  where its sealed head says, count records whose metadata fails its MAC, and
  keep these findings in clear for ``doctor`` (no personal data: uuids, counts);
* ``full_check``: ``audit verify`` — the whole chain, its head, every record row."""

from __future__ import annotations

import dataclasses
import hmac
import logging

import sqlite_utils

from app.core.errors import IntegrityFailure
from app.store import integrity, lockout
from app.store.audit import AuditLog, ChainReport
from app.store.db import transaction
from app.store.records import RecordStore

log = logging.getLogger("siee.store")


def on_unlock(
    db: sqlite_utils.Database, records: RecordStore, audit: AuditLog, data_key: bytes, now: float
) -> None:
    """Key-dependent set-up of the open connection (idempotent; call at every unlock)."""
    conn = db.conn
    integrity.install(conn, data_key)
    records.checker = integrity.RowChecker(integrity.meta_key(data_key))
    if _needs_init(conn, audit):
        with transaction(db) as tx:
            if _needs_init(tx, audit):
                n = integrity.ensure_initialized(tx, audit, now)
                log.info("record metadata MACs set on %d existing rows", n)


def _needs_init(conn, audit: AuditLog) -> bool:
    """Only an older program's chain (GENESIS v1) that verifies and has no init entry.

    An empty chain (nothing to convert), a chain of this program, or a chain that
    fails verification never leads to sealing rows: a row without a MAC is then
    damage, and sealing it would hide an edit."""
    if audit.chain_version(conn) != 1 or integrity.initialized(conn):
        return False
    rep = audit.verify(conn)
    return rep.ok


def end_report(conn, audit: AuditLog) -> ChainReport:
    """A quick check of the chain's end against its sealed head (no full walk)."""
    last = audit.head(conn)
    try:
        head = audit.read_head(conn)
    except IntegrityFailure:
        return ChainReport(False, 0, problem="head_damaged")
    count = int(conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])
    if head is None:
        if last is None:
            return ChainReport(False, 0, problem="empty")
        if audit.chain_version(conn) == 2 or integrity.initialized(conn):
            return ChainReport(False, count, problem="head_missing")
        return ChainReport(True, count)
    head_seq, head_mac = head
    last_seq, last_mac = last if last else (0, b"")
    if head_seq > last_seq:
        return ChainReport(False, count, None, head_seq - last_seq,
                           "empty" if last is None else "truncated", head_seq=head_seq)
    if head_seq < last_seq or not hmac.compare_digest(head_mac, last_mac):
        return ChainReport(False, count, problem="head_mismatch", head_seq=head_seq)
    return ChainReport(True, count, head_seq=head_seq)


def on_login(
    conn, records: RecordStore, audit: AuditLog, now: float, user_row: dict | None = None
) -> ChainReport:
    """Inside the log-in transaction, before failures are moved into the chain.

    `user_row`: the user's row as Vault.unlock read it (lock-out columns before the
    reset). Returns what was found (also kept for `doctor`); problems are logged."""
    end = end_report(conn, audit)  # before this log-in's own entries move the head
    tampered_users = lockout.check_and_anchor(conn, records.sealer, audit, now, user_row)
    damaged = integrity.damaged_uuids(conn)
    problem = end.problem or ("auth_counters" if tampered_users else "")
    integrity.record_findings(conn, damaged, end.ok and not tampered_users, problem, now)
    if damaged or not end.ok or tampered_users:
        log.warning(
            "integrity: %d records with edited metadata, audit end %s, counters %s",
            len(damaged), end.problem or "ok", "edited" if tampered_users else "ok",
        )
    return dataclasses.replace(end, damaged_records=tuple(damaged))


def full_check(db: sqlite_utils.Database, audit: AuditLog, now: float) -> ChainReport:
    """`audit verify`: the whole chain and its sealed head, and every record's row MAC."""
    conn = db.conn
    rep = audit.verify(conn)
    damaged = integrity.damaged_uuids(conn)
    with transaction(db) as tx:
        integrity.record_findings(tx, damaged, rep.ok, rep.problem, now)
    return dataclasses.replace(rep, ok=rep.ok and not damaged, damaged_records=tuple(damaged))
