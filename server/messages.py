"""Queries on the `messages` table (the devices' inboxes): every resource that leaves
a message for a device (revocation, forms, settings, returns, results) posts here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, RowMapping

from app.sync import protocol as p
from server.context import now_iso
from server.db import messages
from server.sealing import Sealer


def payload_place(device_id: str, kind: str) -> str:
    """Where a message payload is sealed (associated data)."""
    return f"messages.payload:{device_id}:{kind}"


def post(c: Connection, sealer: Sealer, device_id: str, kind: str,
         payload: dict[str, Any]) -> int:
    """Leave one message of `kind` (one of protocol.MESSAGE_KINDS) for a device in the
    caller's transaction, its payload sealed; returns its cursor."""
    if kind not in p.MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {kind}")
    res = c.execute(insert(messages).values(
        device_id=device_id, kind=kind, created_at=now_iso(),
        payload=sealer.seal(p.canonical_json(payload).decode(),
                            payload_place(device_id, kind)),
    ))
    return int(res.inserted_primary_key[0])


def post_many(c: Connection, sealer: Sealer, device_ids: list[str], kind: str,
              payload: dict[str, Any]) -> int:
    """The same message for several devices; returns the last cursor (0 when none)."""
    cursor = 0
    for d in device_ids:
        cursor = post(c, sealer, d, kind, payload)
    return cursor


def page_rows(c: Connection, device_id: str, after: int, limit: int) -> list[RowMapping]:
    """Up to `limit` messages of a device after a cursor, oldest first."""
    return list(c.execute(
        select(messages)
        .where(messages.c.device_id == device_id, messages.c.cursor > after)
        .order_by(messages.c.cursor)
        .limit(limit)
    ).mappings().all())


def last_of_kind(c: Connection, device_id: str, kind: str) -> RowMapping | None:
    """The newest message of one kind for a device, or None."""
    return c.execute(
        select(messages)
        .where(messages.c.device_id == device_id, messages.c.kind == kind)
        .order_by(messages.c.cursor.desc())
    ).mappings().first()
