"""Cases resource (issue 15): the centre follows requests (expedientes), not forms.

A case is named by its request's uuid (the S100); the other records of the case
(FSU, visit attempts, desestimación) carry it as `case_uuid`. Each record is
still received, validated and stored on its own (server/batches.py); this module
keeps each case's state (abierto / desestimado, from the desestimación records),
lists and exports cases, and returns or posts results per case.

Queries on the `cases` table live here."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from app.sync import protocol as p
from server.context import Context
from server.db import cases, insert_new, records
from server.errors import admin_error
from server.records import Records

log = logging.getLogger("siee.server.cases")

REQUEST_FORM = "s100"
DROP_FORM = "desestimacion"
# Forms that only exist inside a case: a record of these without case_uuid is invalid.
CASE_ONLY_FORMS = ("visita", DROP_FORM)
_DROP_ACTION = "/desestimacion/decision/accion"
OPEN, DROPPED = "abierto", "desestimado"
STATE_LABELS = {OPEN: "Abierto", DROPPED: "Desestimado"}

CASE_COLUMNS = ("case_uuid", "ule_ubigeo", "state", "state_at", "records", "forms",
                "received", "returned", "result_category", "result_date",
                "result_valid_until")


def case_refusal(r: p.BatchRecord) -> list[str]:
    """Reasons (Spanish) why a record is refused as a member of a case."""
    if r.form_id in CASE_ONLY_FORMS and not r.case_uuid:
        return [f"El registro «{r.form_id}» debe pertenecer a una solicitud (S100): le falta "
                "el código del expediente. Actualice el programa de la ULE."]
    if r.form_id == REQUEST_FORM and r.case_uuid not in (None, r.uuid):
        return ["Una solicitud S100 es su propio expediente: no puede pertenecer a otro."]
    return []


def _drop_action(r: p.BatchRecord) -> str | None:
    ans = r.answers.get("answers") if isinstance(r.answers.get("answers"), dict) else r.answers
    value = ans.get(_DROP_ACTION) if isinstance(ans, dict) else None
    return value if value in ("desestimar", "reabrir") else None


def note_accepted(c: Connection, accepted: Iterable[p.BatchRecord], now: str) -> None:
    """Keep the case table in step with records accepted in this transaction: a request
    or a member opens its case; a desestimación record drops or reopens it (the newer
    decision, by the record's completion time, wins).

    Race-free across server processes: the cases are added with INSERT ... ON CONFLICT
    DO NOTHING (a case two batches open at once is added once, neither fails), in case
    order (concurrent batches take the rows' locks in the same order), and a decision
    is a conditional UPDATE (only over an older decision), atomic in the database."""
    opened: dict[str, str] = {}
    decisions: list[tuple[str, str, p.BatchRecord]] = []
    for r in accepted:
        case_uuid = r.case_uuid or (r.uuid if r.form_id == REQUEST_FORM else None)
        if case_uuid is None:
            continue
        opened.setdefault(case_uuid, r.ule_ubigeo)
        action = _drop_action(r) if r.form_id == DROP_FORM else None
        if action:
            decisions.append((case_uuid, action, r))
    if not opened:
        return
    c.execute(insert_new(c, cases), [
        dict(case_uuid=k, ule_ubigeo=ule, state=OPEN, state_at="", state_record=None)
        for k, ule in sorted(opened.items())])
    # Per case, by completion time (batch order among equal times): the last update that
    # applies is the newest decision, as when applied one by one in batch order.
    decisions.sort(key=lambda d: (d[0], d[2].completed_at))
    for case_uuid, action, r in decisions:
        done = c.execute(update(cases).where(
            cases.c.case_uuid == case_uuid, cases.c.state_at <= r.completed_at,
        ).values(state=DROPPED if action == "desestimar" else OPEN,
                 state_at=r.completed_at, state_record=r.uuid))
        if done.rowcount:
            log.info("case %s %s by record %s", case_uuid,
                     "dropped" if action == "desestimar" else "reopened", r.uuid)


class Cases:
    """The centre's view of cases and its actions on them."""

    def __init__(self, ctx: Context, recs: Records) -> None:
        self.ctx = ctx
        self.records = recs

    def list(self, ule: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """One row per case (CASE_COLUMNS), oldest first: its state, its records (latest
        revision of each), which forms, and the result posted to it."""
        q = select(cases)
        if ule:
            q = q.where(cases.c.ule_ubigeo == ule)
        if state:
            q = q.where(cases.c.state == state)
        with self.ctx.engine.connect() as c:
            rows = [dict(r) for r in c.execute(q.order_by(cases.c.case_uuid)).mappings()]
            members: dict[str, dict[str, dict[str, Any]]] = {}
            cols = (records.c.uuid, records.c.revision, records.c.form_id, records.c.status,
                    records.c.case_uuid, records.c.received_at, records.c.result_category,
                    records.c.result_date, records.c.result_valid_until)
            wanted = [r["case_uuid"] for r in rows]
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                q2 = select(*cols).where(records.c.case_uuid.in_(chunk)
                                         | records.c.uuid.in_(chunk))
                for m in c.execute(q2).mappings():
                    key = m["case_uuid"] or m["uuid"]
                    got = members.setdefault(key, {})
                    if m["uuid"] not in got or got[m["uuid"]]["revision"] < m["revision"]:
                        got[m["uuid"]] = dict(m)
        out = []
        for r in rows:
            ms = list(members.get(r["case_uuid"], {}).values())
            res = next((m for m in ms if m["status"] == "result"), None)
            out.append({
                **r,
                "records": len(ms),
                "forms": ",".join(sorted({m["form_id"] for m in ms})),
                "received": min((m["received_at"] for m in ms), default=""),
                "returned": sum(m["status"] == "returned" for m in ms),
                "result_category": res["result_category"] if res else None,
                "result_date": res["result_date"] if res else None,
                "result_valid_until": res["result_valid_until"] if res else None,
            })
        log.info("listed %d cases", len(out))
        return out

    def get(self, case_uuid: str) -> dict[str, Any]:
        """One case; raises not_found (404)."""
        with self.ctx.engine.connect() as c:
            row = c.execute(select(cases).where(cases.c.case_uuid == case_uuid)).first()
        if row is None:
            raise admin_error("not_found", "no such case",
                              f"No existe el expediente {case_uuid}.", 404)
        return next(r for r in self.list() if r["case_uuid"] == case_uuid)

    def post_result(self, case_uuid: str, category: str, result_date: str,
                    valid_until: str) -> int:
        """The CSE result of a case, posted on its request (the S100, whose uuid is the
        case's) so the laptop shows it on the case. Refused for a dropped case
        (bad_state, 409)."""
        case = self.get(case_uuid)
        if case["state"] == DROPPED:
            raise admin_error("bad_state", "case dropped",
                              "La solicitud fue desestimada; no se puede registrar su "
                              "resultado. Reábrala desde la ULE primero.", 409)
        return self.records.post_result(case_uuid, None, category, result_date, valid_until)

    def return_case(self, case_uuid: str, reasons: list[str]) -> list[int]:
        """Return every received (latest) record of a case with the same reasons; the
        cursors of the messages. Raises not_found, bad_state when none is returnable."""
        case = self.get(case_uuid)
        with self.ctx.engine.connect() as c:
            q = select(records.c.uuid, records.c.revision, records.c.status).where(
                (records.c.case_uuid == case_uuid) | (records.c.uuid == case_uuid))
            latest: dict[str, tuple[int, str]] = {}
            for u, rev, status in c.execute(q):
                if u not in latest or latest[u][0] < rev:
                    latest[u] = (rev, status)
        todo = sorted((u, rev) for u, (rev, st) in latest.items() if st == "received")
        if not todo:
            raise admin_error("bad_state", f"case {case['case_uuid']} has nothing to return",
                              "El expediente no tiene registros recibidos que devolver.", 409)
        return [self.records.return_record(u, rev, reasons) for u, rev in todo]

    def export_csv(self, out: IO[str], ule: str | None = None) -> int:
        """Write one CSV row per case (CASE_COLUMNS); returns the number of rows."""
        w = csv.writer(out)
        w.writerow(CASE_COLUMNS)
        rows = self.list(ule)
        for r in rows:
            w.writerow(["" if r.get(k) is None else r.get(k) for k in CASE_COLUMNS])
        return len(rows)
