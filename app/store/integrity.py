"""Tamper evidence for what is stored in clear: each record's metadata row MAC.

A record's clear columns (state, revision, form id and version, dates, author,
assignee, ULE, flags such as ``quarantined``) are needed without decrypting
(listing, counting, the outbox), so they cannot be sealed like the answers.
Instead every row carries ``row_mac`` = HMAC-SHA256(subkey "record-meta" of the
data key, the row's clear columns). An edit made outside the program (for
example ``UPDATE records SET state='DELIVERED'`` with the sqlite3 shell) cannot
recompute it and shows as damage for that record.

How the MAC is kept, whoever writes:

* ``install(conn, key)`` registers the SQL function ``siee_row_mac(...)`` on the
  program's connection once the workspace is unlocked; while locked it is
  registered as a function that refuses (no metadata write happens then).
* Triggers created by migration 4 (app/store/db.py) call it: after every
  INSERT and every UPDATE of a clear column the row's MAC is recomputed; before
  such an UPDATE the *old* row's MAC is checked, so the program never re-seals
  (launders) a row that was edited outside it: the write aborts instead.
  Any other tool lacks the function, so its write fails, or (triggers dropped)
  leaves a stale MAC that is reported.
* Reads check it: ``ROW_OK_SQL`` / ``ROW_DAMAGED_SQL`` in SQL (counts, outbox)
  and ``RowChecker`` in Python (RecordMeta.damaged for the list).

Existing databases (schema < 4) have rows without a MAC. The key exists only
after a log-in, so ``ensure_initialized`` computes them at the first unlock,
in one transaction with an ``integrity_init`` audit entry; once that entry is
in the (anchored) audit chain a row without MAC is damage, never re-sealed."""

from __future__ import annotations

import hmac
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.store import meta
from app.store.crypto import subkey

# The clear columns a row MAC covers, in MAC order (all of records.COLUMNS).
MAC_COLUMNS = (
    "uuid",
    "revision",
    "form_id",
    "form_version",
    "state",
    "created_at",
    "updated_at",
    "author_id",
    "assignee_id",
    "ule_ubigeo",
    "warnings",
    "quarantined",
    "completed_at",
    "approved_at",
    "approved_by",
    "delivered_at",
)
FUNCTION = "siee_row_mac"
_ARGS = ", ".join(MAC_COLUMNS)
ROW_MAC_EXPR = f"{FUNCTION}({_ARGS})"
# A row whose stored MAC matches its columns (IS: a NULL MAC never matches).
ROW_OK_SQL = f"row_mac IS {ROW_MAC_EXPR}"
ROW_DAMAGED_SQL = f"row_mac IS NOT {ROW_MAC_EXPR}"


def row_ok_sql(alias: str) -> str:
    """ROW_OK_SQL with every column qualified by a table alias (for joins)."""
    cols = ", ".join(f"{alias}.{c}" for c in MAC_COLUMNS)
    return f"{alias}.row_mac IS {FUNCTION}({cols})"

INIT_ACTION = "integrity_init"
LOCKED_MESSAGE = "siee: record metadata written while the workspace is locked"
TAMPERED_MESSAGE = "siee: record metadata failed authentication"


def meta_key(data_key: bytes) -> bytes:
    """The row-MAC key: HKDF subkey "record-meta" of the workspace data key."""
    return subkey(data_key, "record-meta")


def row_mac(key: bytes, values: Sequence[Any]) -> bytes:
    """HMAC-SHA256 over the MAC_COLUMNS values: each value's repr (bools as ints),
    joined by U+001F, which a repr never contains raw (so the encoding is unambiguous)."""
    body = "\x1f".join(repr(int(v) if isinstance(v, bool) else v) for v in values)
    return hmac.digest(key, body.encode("utf-8"), "sha256")


_MEMO_MAX = 100_000


def _memoized(key: bytes) -> Any:
    """row_mac for one key, remembering results by the exact values: counting 50,000
    rows on every refresh of the sync panel recomputes only the rows that changed."""
    memo: dict[tuple[Any, ...], bytes] = {}

    def fn(*values: Any) -> bytes:
        mac = memo.get(values)
        if mac is None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            mac = memo[values] = row_mac(key, values)
        return mac

    return fn


class RowChecker:
    """Checks a row MAC in Python (the list view checks each row it shows)."""

    def __init__(self, key: bytes) -> None:
        self._mac = _memoized(key)

    def ok(self, values: Sequence[Any], mac: bytes | None) -> bool:
        return mac is not None and hmac.compare_digest(
            self._mac(*(int(v) if isinstance(v, bool) else v for v in values)), mac)


def _refuse(*_args: Any) -> bytes:
    raise sqlite3.OperationalError(LOCKED_MESSAGE)


def install(conn: sqlite3.Connection, data_key: bytes | None) -> None:
    """Register siee_row_mac on `conn`: keyed when `data_key` is given, else refusing."""
    if data_key is None:
        conn.create_function(FUNCTION, len(MAC_COLUMNS), _refuse)
        return
    conn.create_function(FUNCTION, len(MAC_COLUMNS), _memoized(meta_key(data_key)),
                         deterministic=True)


def trigger_sql() -> list[str]:
    """The triggers of migration 4 (see the module docstring)."""
    cols = ", ".join(MAC_COLUMNS)
    old = ", ".join(f"OLD.{c}" for c in MAC_COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in MAC_COLUMNS)
    return [
        f"CREATE TRIGGER records_meta_guard BEFORE UPDATE OF {cols} ON records "
        f"WHEN OLD.row_mac IS NOT {FUNCTION}({old}) "
        f"BEGIN SELECT RAISE(ABORT, '{TAMPERED_MESSAGE}'); END",
        f"CREATE TRIGGER records_meta_seal AFTER UPDATE OF {cols} ON records "
        f"BEGIN UPDATE records SET row_mac = {FUNCTION}({new}) WHERE uuid = NEW.uuid; END",
        f"CREATE TRIGGER records_meta_seal_new AFTER INSERT ON records "
        f"BEGIN UPDATE records SET row_mac = {FUNCTION}({new}) WHERE uuid = NEW.uuid; END",
    ]


AUDIT_GUARDS = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END",
}


def expected_triggers() -> dict[str, str]:
    """Every guard trigger by name, as the program creates it."""
    out = dict(AUDIT_GUARDS)
    for sql in trigger_sql():
        out[sql.split()[2]] = sql
    return out


def triggers_differ(conn: sqlite3.Connection) -> bool:
    """Whether any guard trigger is missing or changed (a read; no lock taken)."""
    have = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
    return any(have.get(n) != sql for n, sql in expected_triggers().items())


def restore_triggers(conn: sqlite3.Connection) -> list[str]:
    """Recreate guard triggers that are missing or differ (dropped or rewritten
    outside the program); returns their names. Rows edited meanwhile keep their
    stale MAC, so they are still reported: this only stops further damage."""
    have = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
    fixed = []
    for name, sql in expected_triggers().items():
        if have.get(name) != sql:
            if name in have:
                conn.execute(f"DROP TRIGGER {name}")
            conn.execute(sql)
            fixed.append(name)
    return fixed


def damaged_uuids(conn: sqlite3.Connection, where: str = "", args: tuple = ()) -> list[str]:
    """Uuids of records whose metadata MAC fails (needs the keyed function installed)."""
    sql = f"SELECT uuid FROM records WHERE {ROW_DAMAGED_SQL}"
    if where:
        sql += f" AND ({where})"
    return [r[0] for r in conn.execute(sql + " ORDER BY uuid", args)]


def initialized(conn: sqlite3.Connection) -> bool:
    """Whether the row MACs were set up (the init entry is in the audit chain)."""
    return conn.execute("SELECT 1 FROM audit WHERE action=? LIMIT 1", (INIT_ACTION,)).fetchone() \
        is not None


def ensure_initialized(conn: sqlite3.Connection, audit: Any, now: float) -> int:
    """At an unlock: seal the rows of a database from before row MACs, once.

    Runs inside the caller's transaction with the keyed function installed.
    Returns how many rows were sealed (0 when already done). The audit entry
    ``integrity_init`` marks the switch: after it, a row without MAC is damage."""
    if initialized(conn):
        return 0
    n = conn.execute(
        f"UPDATE records SET row_mac = {ROW_MAC_EXPR} WHERE row_mac IS NULL"
    ).rowcount
    audit.append(conn, now, None, INIT_ACTION, None, {"rows": int(n)})
    return int(n)


@dataclass(frozen=True)
class IntegrityFindings:
    """What the last full check found; kept in clear in meta for `doctor` (no personal data)."""

    checked_at: float
    damaged_records: list[str] = field(default_factory=list)
    audit_ok: bool = True
    audit_problem: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "checked_at": self.checked_at,
                "damaged_records": self.damaged_records[:50],
                "damaged_count": len(self.damaged_records),
                "audit_ok": self.audit_ok,
                "audit_problem": self.audit_problem,
            }
        )


FINDINGS_KEY = "integrity_findings"


def record_findings(
    conn: sqlite3.Connection, damaged: list[str], audit_ok: bool, audit_problem: str,
    now: float | None = None,
) -> IntegrityFindings:
    """Store the findings of a full check for `doctor` (inside the caller's transaction)."""
    f = IntegrityFindings(now if now is not None else time.time(), list(damaged), audit_ok,
                          audit_problem)
    meta.put(conn, FINDINGS_KEY, f.to_json())
    return f
