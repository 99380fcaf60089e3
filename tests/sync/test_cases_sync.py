"""Issue 15 over the wire, against the real reference server on loopback: each form of
a case travels as its own signed record naming its case; the centre keeps the case's
state (a desestimación reaches it and drops the case), lists cases, and posts the
result per case, which the laptop shows on the case."""

from __future__ import annotations

import io

import pytest

from app.core.cases import CaseState
from app.core.states import State
from app.demo import households
from app.demo_answers import s100_answers
from app.forms import bundled_form
from app.store.db import transaction
from app.sync.protocol import ProtocolError
from tests.sync.conftest import server_rows


def _request(ws, hh) -> str:
    fd = bundled_form("s100")
    uuid = ws.new_record("s100", str(fd.version), s100_answers(hh))
    ws.settings.update(review_required=False)
    ws.complete(uuid)
    return uuid


def test_dropped_request_reaches_the_centre_once(ws, enrolled, server):
    hh_a, hh_b = households(2, seed=41)
    req = _request(ws, hh_a)
    visit = ws.cases.record_visit(req, "2026-11-02", "09:15", "3", next_visit="2026-11-04")
    drop = ws.cases.drop(req, ws.cases.drop_reasons()[1], "Negativa reiterada.")
    other = _request(ws, hh_b)
    rep = enrolled.sync()
    assert rep.outcome.delivered == 4
    rows = {r["uuid"]: r for r in server.admin.list_records(limit=1000)}
    assert len(server_rows(server)) == len(set(server_rows(server)))
    assert rows[visit]["case_uuid"] == req and rows[drop]["case_uuid"] == req
    assert rows[req]["case_uuid"] is None  # a request is its own case
    cases = {c["case_uuid"]: c for c in server.admin.cases.list(ule="150101")}
    assert cases[req]["state"] == "desestimado" and cases[req]["records"] == 3
    assert cases[req]["forms"] == "desestimacion,s100,visita"
    assert cases[other]["state"] == "abierto" and cases[other]["records"] == 1
    # No result for a dropped case; the open one gets it, per case.
    with pytest.raises(ProtocolError) as e:
        server.admin.cases.post_result(req, "pobre", "2026-11-20", "2029-11-20")
    assert "desestimada" in e.value.message
    server.admin.cases.post_result(other, "pobre", "2026-11-20", "2029-11-20")
    enrolled.sync()
    assert ws.get(other).state == State.RESULT
    assert ws.cases.get(other).state == CaseState.RESULT
    assert ws.cases.get(req).state == CaseState.DROPPED
    # The export lists cases, one row each.
    out = io.StringIO()
    assert server.admin.cases.export_csv(out, "150101") == 2
    assert out.getvalue().splitlines()[0].startswith("case_uuid,ule_ubigeo,state")
    # Reopened at the ULE: the centre follows.
    ws.cases.reopen(req, "El hogar aceptó la visita.")
    enrolled.sync()
    cases = {c["case_uuid"]: c for c in server.admin.cases.list()}
    assert cases[req]["state"] == "abierto" and cases[req]["records"] == 4


def test_a_visit_without_its_case_is_refused(ws, enrolled, server):
    # A visit record that names no case (an old or broken client) is invalid, in Spanish.
    hh = households(1, seed=43)[0]
    req = _request(ws, hh)
    visit = ws.cases.record_visit(req, "2026-11-02", "09:15", "6")
    with ws.lock, transaction(ws.db) as conn:
        conn.execute("UPDATE case_links SET case_uuid = uuid WHERE uuid = ?", (visit,))
    enrolled.sync()
    assert ws.get(visit).state == State.RETURNED
    notes = ws.notes(visit)
    assert "expediente" in notes["returns"][-1]["reason"]


def test_a_visit_reaches_the_centre_without_the_supervisors_review(ws, enrolled, server):
    """Review required (the default): a failed visit attempt is a step of the case, sent
    with the next sync; the request it belongs to waits for the supervisor."""
    hh = households(1, seed=44)[0]
    fd = bundled_form("s100")
    req = ws.new_record("s100", str(fd.version), s100_answers(hh))
    ws.complete(req)
    visit = ws.cases.record_visit(req, "2026-11-02", "09:15", "4", next_visit="2026-11-04")
    rep = enrolled.sync()
    assert rep.outcome.delivered == 1
    rows = {r["uuid"]: r for r in server.admin.list_records(limit=1000)}
    assert visit in rows and req not in rows
    assert rows[visit]["case_uuid"] == req and rows[visit]["form_id"] == "visita"
    assert ws.get(visit).state == State.DELIVERED and ws.get(req).state == State.COMPLETE
