"""What the sync client does to a record when the centre answers (it has not
landed yet): receipts, returns from the centre, CSE results."""

from __future__ import annotations

from app.core.states import State
from app.store.db import transaction
from app.workspace import Workspace


def deliver(ws: Workspace, uuid: str, at: float | None = None) -> None:
    with ws._lock, transaction(ws.db) as conn:
        ws.records.update_meta(
            conn, uuid, state=State.DELIVERED.value, delivered_at=at or ws.clock()
        )


def post_result(ws: Workspace, uuid: str, category: str, date: str, valid_until: str) -> None:
    deliver(ws, uuid)
    with ws._lock:
        m = ws.records.meta(ws.db.conn, uuid)
        with transaction(ws.db) as conn:
            notes = ws.records.notes(conn, m)
            notes["result"] = {"category": category, "date": date, "valid_until": valid_until}
            ws.records.write_notes(conn, m, notes)
            ws.records.update_meta(conn, uuid, state=State.RESULT.value)


def centre_returns(ws: Workspace, uuid: str, reason: str) -> None:
    deliver(ws, uuid)
    with ws._lock:
        m = ws.records.meta(ws.db.conn, uuid)
        ws._add_return(
            m, State.RETURNED, {"by": "", "source": "server", "reason": reason, "questions": []}
        )
