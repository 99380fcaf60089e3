"""What the centre does to a record, through the sync client's own inbox path
(Workspace.sync_apply_message), as if the messages had just been pulled."""

from __future__ import annotations

import itertools

from app.core.states import State
from app.store.db import transaction
from app.sync import protocol as p
from app.workspace import Workspace

_cursor = itertools.count(1)


def deliver(ws: Workspace, uuid: str, at: float | None = None) -> None:
    """The receipt said «accepted» (the receipt parsing is the sync tests' business)."""
    with ws.lock, transaction(ws.db) as conn:
        ws.records.update_meta(
            conn, uuid, state=State.DELIVERED.value, delivered_at=at or ws.clock()
        )


def _message(ws: Workspace, kind: str, payload: dict) -> None:
    cursor = max(next(_cursor), ws.centre.inbox_cursor() + 1)
    msg = p.InboxMessage(cursor, kind, "dev-test", "2026-11-27T10:00:00Z", payload)
    ws.centre.ports.apply_message(msg)


def post_result(ws: Workspace, uuid: str, category: str, date: str, valid_until: str) -> None:
    deliver(ws, uuid)
    m = ws.get(uuid)
    _message(ws, "cse_result", {
        "uuid": uuid, "revision": m.revision, "form_id": m.form_id, "category": category,
        "result_date": date, "valid_until": valid_until,
    })
    assert ws.get(uuid).state == State.RESULT.value


def centre_returns(ws: Workspace, uuid: str, reason: str) -> None:
    deliver(ws, uuid)
    m = ws.get(uuid)
    _message(ws, "record_returned", {
        "uuid": uuid, "revision": m.revision, "form_id": m.form_id, "reasons": [reason],
        "returned_at": "2026-11-27T10:00:00Z",
    })
    assert ws.get(uuid).state == State.RETURNED.value
