"""Counts over the clear record metadata for the supervisor's dashboard (no
decryption here: states, owners, timestamps and the keyed DNI index only)."""

from __future__ import annotations

import sqlite3

from app.core.states import State

_DAY_COLUMNS = ("created_at", "completed_at", "approved_at", "delivered_at")


def _without(exclude_forms: tuple[str, ...]) -> tuple[str, list[str]]:
    """An SQL condition (with its arguments) leaving out the form ids given."""
    if not exclude_forms:
        return "1", []
    return f"form_id NOT IN ({','.join('?' * len(exclude_forms))})", list(exclude_forms)


def timestamps_since(conn: sqlite3.Connection, column: str, since: float,
                     exclude_forms: tuple[str, ...] = ()) -> list[float]:
    """Every value of a timestamp column (created_at, completed_at, approved_at,
    delivered_at) at or after `since` (Unix seconds), leaving out the records of the
    form ids in `exclude_forms`."""
    if column not in _DAY_COLUMNS:
        raise ValueError(f"not a timestamp column: {column}")
    cond, args = _without(exclude_forms)
    return [r[0] for r in conn.execute(
        f"SELECT {column} FROM records WHERE {column} >= ? AND {cond}", (since, *args))]


def oldest_queued(conn: sqlite3.Connection) -> float | None:
    """When the record longest in the outbox was approved (or last changed)."""
    return conn.execute(  # type: ignore[no-any-return]
        "SELECT MIN(COALESCE(approved_at, updated_at)) FROM records WHERE state=?",
        (State.QUEUED.value,),
    ).fetchone()[0]


def s100_fsu_links(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(S100 uuid, FSU uuid) pairs that share a DNI (matched on the keyed DNI index):
    the same household's request and survey."""
    return conn.execute(
        "SELECT DISTINCT a.uuid, b.uuid FROM dni_index a "
        "JOIN dni_index b ON a.mac = b.mac AND a.uuid <> b.uuid "
        "JOIN records ra ON ra.uuid = a.uuid JOIN records rb ON rb.uuid = b.uuid "
        "WHERE ra.form_id = 's100' AND rb.form_id = 'fsu'"
    ).fetchall()
