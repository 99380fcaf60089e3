"""Steps of a case are not household surveys (new-clerk walk-through).

A visit attempt (form `visita`) is a fact of the case's history: it counts toward the
case's attempts and deadlines and travels to the centre as its own record
(DESIGN.md "The case": each form is still its own signed record on the wire), but the
supervisor does not review it and nothing counts it as a «ficha».

A dropped case (desestimación) holds its household's forms: they leave the review
queue and refuse approval until the supervisor reopens the case, which brings them
back as they were (DESIGN.md: the supervisor drops a case, which stops its clocks;
only the supervisor reopens it)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.cases import CaseState
from app.core.errors import NotAllowed
from app.core.states import State
from app.forms import FormSession, bundled_form
from app.store.db import transaction
from tests.review.helpers import centre_returns

DATE = "/s100/solicitud/fecha_solicitud"
MONDAY = dt.date(2026, 11, 16)


def _monday(team) -> None:
    team.clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()


@pytest.mark.parametrize("result, next_visit", [
    ("4", "2026-11-18"),  # ausente / no ubicado
    ("3", ""),  # rechazo / negativa de empadronamiento
    ("6", ""),  # no reside en la vivienda
    ("1", ""),  # completa: the survey is the FSU, reviewed on its own
])
def test_a_visit_attempt_goes_to_the_outbox_not_to_the_review_queue(team, homes, result,
                                                                    next_visit):
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[0], **{DATE: "2026-11-16"})
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", result, next_visit=next_visit)
    m = ws.get(visit)
    assert m.state == State.QUEUED.value
    assert m.completed_at is not None and m.approved_at is not None
    assert m.approved_by is None  # nobody approved it: it needs no approval
    assert ws.get(req).state == State.COMPLETE.value  # the request still waits for review
    assert ws.centre.outbox_count() == 1  # the visit alone goes with the next sync
    approvals = [e for e in ws.history(visit) if e.action == "approve"]
    assert [e.detail for e in approvals] == [{"auto": True, "step": "visita"}]
    ws = team.as_("sup")
    assert [i.uuid for i in ws.review.queue()] == [req]
    assert ws.review.queue("visita") == []
    # still an attempt of the case, counted toward its visits and its deadline
    case = ws.cases.get(req)
    assert [v.uuid for v in case.visits] == [visit]
    if result != "1":
        assert case.state == CaseState.VISIT_FAILED
        assert case.clock is not None and case.clock.target == 8


def test_a_visit_the_centre_returns_goes_back_to_the_outbox_once_corrected(team, homes):
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[1], **{DATE: "2026-11-16"})
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", next_visit="2026-11-18")
    centre_returns(ws, visit, "La hora de la visita no es legible.")
    ws.reopen(visit)
    state, _warnings = ws.complete(visit)
    assert state == State.QUEUED
    m = ws.get(visit)
    assert (m.state, m.revision) == (State.QUEUED.value, 2)
    ws = team.as_("sup")
    assert visit not in {i.uuid for i in ws.review.queue()}


def test_visits_an_earlier_version_left_for_review_join_the_outbox_at_log_in(team, homes):
    """A laptop updated with visits still waiting in the review queue: they are queued
    at the next log-in (as the system, audited), not left stuck in «Completa»."""
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[2], **{DATE: "2026-11-16"})
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", next_visit="2026-11-18")
    with ws.lock, transaction(ws.db) as conn:  # as the earlier version left it
        ws.records.update_meta(conn, visit, state=State.COMPLETE.value, approved_at=None)
    ws = team.as_("sup")
    m = ws.get(visit)
    assert m.state == State.QUEUED.value and m.approved_at is not None
    assert m.approved_by is None
    last = max((e for e in ws.history(visit) if e.action == "approve"), key=lambda e: e.seq)
    assert last.user_id is None and last.detail == {"auto": True, "step": "visita"}
    assert [i.uuid for i in ws.review.queue()] == [req]
    assert ws.centre.outbox_count() == 1


def test_the_dashboard_counts_no_visit_as_a_ficha(team, homes):
    _monday(team)
    ws = team.as_("emp")
    a = team.s100(homes[3], **{DATE: "2026-11-16"})
    team.s100(homes[4], **{DATE: "2026-11-16"})
    ws.cases.record_visit(a, "2026-11-16", "09:30", "4", next_visit="2026-11-18")
    ws.cases.record_visit(a, "2026-11-16", "11:30", "3")
    ws = team.as_("sup")
    dash = ws.documents.dashboard(today=MONDAY)
    assert dash.counts == {"DRAFT": 0, "COMPLETE": 2, "QUEUED": 0, "DELIVERED": 0,
                           "RESULT": 0, "RETURNED": 0, "HELD": 0}
    assert dash.queue == 2  # the send queue holds the two visits, as the list says
    [emp] = dash.by_enumerator
    assert emp.counts["COMPLETE"] == 2 and emp.total == 2
    today = dash.by_day[-1]
    assert (today.day, today.created, today.completed, today.approved) == (MONDAY, 2, 2, 0)
    assert dash.households == 2
    assert dash.oldest_complete_at == ws.get(a).completed_at
    # the visits are in the outbox all the same: what waits to be sent counts them
    assert dash.oldest_queued_at is not None
    # a dropped case's completed S100 reads «Desestimada (sin revisar)» in its row: it is
    # counted apart, never as «Completa», on the dashboard and per enumerator
    ws.cases.drop(a, ws.cases.drop_reasons()[0])
    dash = ws.documents.dashboard(today=MONDAY)
    assert (dash.counts["COMPLETE"], dash.counts["HELD"], dash.queue) == (1, 1, 3)
    assert ws.cases.form_counts() == dash.counts
    [emp] = dash.by_enumerator
    assert (emp.counts["COMPLETE"], emp.counts["HELD"], emp.total) == (1, 1, 2)


def test_only_the_supervisor_completes_a_desestimacion(team, homes):
    """A decision is queued for the centre without review, so an enumerator cannot
    complete one made by hand (dropping a request is the supervisor's, DESIGN.md)."""
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[7], **{DATE: "2026-11-16"})
    fd = bundled_form("desestimacion")
    s = FormSession(fd, None)
    for name, value in (("accion", "desestimar"), ("fecha", "2026-11-16"),
                        ("motivo", ws.cases.drop_reasons()[1])):
        s.set(f"/desestimacion/decision/{name}", value)
    decision = ws.new_record("desestimacion", str(fd.version), s.to_json(), case_uuid=req)
    with pytest.raises(NotAllowed) as e:
        ws.complete(decision)
    assert "no permite desestimar" in e.value.user_message
    assert ws.get(decision).state == State.DRAFT.value
    assert ws.cases.get(req).state != CaseState.DROPPED
    assert ws.centre.outbox_count() == 0


def test_a_dropped_case_leaves_the_review_queue_until_it_is_reopened(team, homes):
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[5], **{DATE: "2026-11-16"})
    fsu = team.fsu(homes[5])  # joins the request's case through the household's DNI
    other = team.s100(homes[6], **{DATE: "2026-11-16"})
    ws = team.as_("sup")
    assert ws.cases.case_of(fsu) == req
    assert {i.uuid for i in ws.review.queue()} == {req, fsu, other}
    ws.cases.drop(req, ws.cases.drop_reasons()[1], "Se negó en la segunda visita.")

    assert [i.uuid for i in ws.review.queue()] == [other]
    assert ws.review.queue("fsu") == []
    for uuid in (req, fsu):
        with pytest.raises(NotAllowed) as e:
            ws.review.approve(uuid)
        assert "desestimada" in e.value.user_message and "reabr" in e.value.user_message
        with pytest.raises(NotAllowed):
            ws.review.return_record(uuid, "Revise el parentesco.")
        d = ws.review.detail(uuid)
        assert not d.can_approve and not d.can_return and "desestimada" in d.note
        assert ws.get(uuid).state == State.COMPLETE.value  # kept as it was, nothing lost
    assert ws.review.detail(other).note == "" and ws.review.detail(other).can_approve
    res = ws.review.approve_many([req, other])
    assert res.approved == [other] and "desestimada" in res.refused[req]
    case = ws.cases.get(req)
    fsu_line = next(d for item, _ok, d in case.checklist() if item.startswith("Ficha"))
    assert "desestimada" in fsu_line and "revisión" not in fsu_line
    dash = ws.documents.dashboard(today=MONDAY)
    assert dash.oldest_complete_at is None  # nothing waits for review any more

    ws.cases.reopen(req, "El hogar aceptó la visita.")
    assert {i.uuid for i in ws.review.queue()} == {req, fsu}
    assert ws.review.detail(fsu).can_approve and ws.review.detail(fsu).note == ""
    assert ws.documents.dashboard(today=MONDAY).oldest_complete_at == ws.get(req).completed_at
    ws.review.approve(fsu)
    assert ws.get(fsu).state == State.QUEUED.value
