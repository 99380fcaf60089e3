"""Case links and D100 statements (tables of migration 5): which request (the S100's
uuid, the case id) each record belongs to, and the D100 sworn statements with their
tracking. Clear ids and dates only; the household's data stays in the records."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

D100_STATES = ("generado", "firmado", "enviado")


def link(conn: sqlite3.Connection, uuid: str, case_uuid: str) -> None:
    """Put record `uuid` in case `case_uuid` (a request is its own case)."""
    conn.execute("INSERT OR REPLACE INTO case_links(uuid, case_uuid) VALUES (?, ?)",
                 (uuid, case_uuid))


def move_case(conn: sqlite3.Connection, old: str, new: str) -> None:
    """Every record of case `old` joins case `new` (an FSU found to belong to a request)."""
    conn.execute("UPDATE case_links SET case_uuid=? WHERE case_uuid=?", (new, old))


def case_of(conn: sqlite3.Connection, uuid: str) -> str | None:
    """The case of a record, or None when it has none."""
    row = conn.execute("SELECT case_uuid FROM case_links WHERE uuid=?", (uuid,)).fetchone()
    return row[0] if row else None


def members(conn: sqlite3.Connection, case_uuid: str) -> list[str]:
    """The uuids of the records of one case (the request included)."""
    return [r[0] for r in conn.execute(
        "SELECT uuid FROM case_links WHERE case_uuid=? ORDER BY uuid", (case_uuid,))]


def request_by_dni(conn: sqlite3.Connection, uuid: str) -> str | None:
    """The newest S100 that shares a DNI (keyed index) with record `uuid`, or None."""
    row = conn.execute(
        "SELECT s.uuid FROM dni_index a JOIN dni_index b ON a.mac = b.mac "
        "JOIN records s ON s.uuid = b.uuid "
        "WHERE a.uuid = ? AND b.uuid <> ? AND s.form_id = 's100' "
        "ORDER BY s.created_at DESC LIMIT 1", (uuid, uuid)).fetchone()
    return row[0] if row else None


def all_links(conn: sqlite3.Connection) -> dict[str, str]:
    """{record uuid: case uuid} of every linked record."""
    return dict(conn.execute("SELECT uuid, case_uuid FROM case_links").fetchall())


@dataclass(frozen=True)
class D100Row:
    id: int
    created_at: float
    created_by: int | None
    period_from: str
    period_to: str
    cases: list[str]
    state: str
    signed_at: float | None
    sent_at: float | None


def d100_add(conn: sqlite3.Connection, ts: float, by: int, period_from: str, period_to: str,
             cases: list[str]) -> int:
    """A new D100 in state «generado»; returns its number."""
    cur = conn.execute(
        "INSERT INTO d100(created_at, created_by, period_from, period_to, cases, state) "
        "VALUES (?, ?, ?, ?, ?, 'generado')",
        (ts, by, period_from, period_to, json.dumps(cases)))
    return int(cur.lastrowid or 0)


def d100_set_state(conn: sqlite3.Connection, d100_id: int, state: str, ts: float) -> None:
    """Move a D100 to «firmado» (signed_at) or «enviado» (sent_at)."""
    if state not in D100_STATES:
        raise ValueError(f"unknown D100 state {state!r}")
    col = {"firmado": "signed_at", "enviado": "sent_at"}.get(state)
    if col:
        conn.execute(f"UPDATE d100 SET state=?, {col}=? WHERE id=?", (state, ts, d100_id))
    else:
        conn.execute("UPDATE d100 SET state=? WHERE id=?", (state, d100_id))


def d100_list(conn: sqlite3.Connection) -> list[D100Row]:
    """Every D100, newest first."""
    return [
        D100Row(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8])
        for r in conn.execute(
            "SELECT id, created_at, created_by, period_from, period_to, cases, state, "
            "signed_at, sent_at FROM d100 ORDER BY id DESC")
    ]
