"""Issue 15: the request (expediente) is the unit of work. Failed visits and their
notices, requests routed without a visit, the reevaluación's 180 days, the
desestimación and its reopening, one household counted once, the D100, and the
store migration that gives existing laptop databases their cases."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.cases import CaseState, Route
from app.core.errors import NotAllowed, ValidationError
from app.core.states import State
from app.store.db import DB_NAME, MIGRATIONS, connect, schema_version
from app.workspace import Workspace
from tests.conftest import FAST_KDF
from tests.review.conftest import PASSWORDS
from tests.review.helpers import post_result

OPTION = "/s100/solicitud/tipo_solicitud"
DATE = "/s100/solicitud/fecha_solicitud"


def _day(team, y: int, m: int, d: int) -> None:
    team.clock.t = dt.datetime(y, m, d, 10, 0).timestamp()


def test_request_options_are_numbered_and_carry_their_route():
    from app.forms import bundled_form

    fd = bundled_form("s100")
    opts = {c.name: c for c in fd.choices["tipo_solicitud"]}
    assert opts["2.6"].label(fd.default_language) == "Reevaluación de la CSE"
    assert opts["2.6"].extra["ruta"] == "sin_visita" and opts["2.6"].extra["cse_max_dias"] == "180"
    assert opts["2.1"].extra["ruta"] == "fsu"
    assert opts["2.4"].extra["ruta"] == "integrantes"


@pytest.mark.parametrize("facts, expected", [
    # plain drafts: nothing past draft, no visit -> the request is being written
    (dict(route=Route.FSU, request_state=None, fsu_states=[State.DRAFT]),
     CaseState.REQUESTED),
    (dict(route=Route.FSU, request_state=State.DRAFT, fsu_states=[State.DRAFT]),
     CaseState.REQUESTED),
    # a failed visit after an FSU draft was opened: still a failed visit (docs/process.md)
    (dict(route=Route.FSU, request_state=State.COMPLETE, fsu_states=[State.DRAFT],
          visits_failed=[True]), CaseState.VISIT_FAILED),
    (dict(route=Route.FSU, request_state=State.DELIVERED, fsu_states=[State.DRAFT],
          visits_failed=[True]), CaseState.VISIT_FAILED),
    # delivered: sent, even with a stray draft FSU beside the delivered one
    (dict(route=Route.FSU, request_state=State.DELIVERED,
          fsu_states=[State.DELIVERED, State.DRAFT]), CaseState.SENT),
    (dict(route=Route.FSU, request_state=None, fsu_states=[State.DELIVERED]),
     CaseState.SENT),
    (dict(route=Route.FSU, request_state=State.COMPLETE, fsu_states=[State.DELIVERED]),
     CaseState.IN_REVIEW),  # the S100 still waits for the supervisor
    (dict(route=Route.NO_VISIT, request_state=State.DRAFT, visits_failed=[True]),
     CaseState.REQUESTED),
    (dict(route=Route.NO_VISIT, request_state=State.COMPLETE), CaseState.IN_REVIEW),
    (dict(route=Route.NO_VISIT, request_state=State.DELIVERED), CaseState.SENT),
])
def test_case_state_follows_the_records(facts, expected):
    """Walk-through: «En revisión» on plain drafts, after delivery and after a failed
    visit; each case state is the one docs/process.md names."""
    from app.core.cases import CaseFacts, case_state

    assert case_state(CaseFacts(**facts)) == expected


def test_absent_household_recorded_and_notice_without_invented_data(team, homes):
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    hh = homes[0]
    req = team.s100(hh, **{DATE: "2026-11-16"})
    case = ws.cases.get(req)
    assert case.route == Route.FSU and case.state == CaseState.VISIT_PENDING
    # An absent household needs a next attempt date for the notice.
    with pytest.raises(ValidationError) as e:
        ws.cases.record_visit(req, "2026-11-16", "09:30", "4")
    assert "volverá" in e.value.user_message
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", next_visit="2026-11-18")
    case = ws.cases.get(req)
    assert case.state == CaseState.VISIT_FAILED
    assert [v.failed for v in case.visits] == [True] and not case.fsus
    # the visit record needs no FSU data, nor the supervisor's review: it is queued
    assert ws.get(visit).state == State.QUEUED
    # The visit record holds only what was recorded: no dwelling, no members.
    answers = ws.load_answers(visit)["answers"]
    assert set(answers) == {"/visita/intento/fecha_visita", "/visita/intento/hora_visita",
                            "/visita/intento/empadronador", "/visita/intento/resultado",
                            "/visita/intento/proxima_visita"}
    notice = ws.cases.notice(visit)
    assert notice.result_label == "Ausente / no ubicado"
    assert notice.next_visit == "18/11/2026" and notice.date == "16/11/2026"
    assert notice.time == "09:30" and notice.attempt == 1
    assert notice.municipality == "Municipalidad Provincial de Lima"
    assert notice.enumerator == "Juan Pérez"
    # the household's own request, nothing else: the road type by its label, street, number
    road, street = notice.address.split(" ", 1)
    assert road in {"Avenida", "Jirón", "Calle", "Pasaje", "Carretera", "Otro"}
    assert street.startswith(hh.direccion)
    assert any(a.action == "notice" for a in ws.history(req))
    # The clock still runs: a failed visit is not a visit.
    assert case.clock is not None and case.clock.target == 8
    # Second attempt: interview done, then the FSU joins the same case.
    ok = ws.cases.record_visit(req, "2026-11-18", "10:00", "1")
    with pytest.raises(ValidationError):
        ws.cases.notice(ok)
    fsu = ws.new_draft("fsu", from_uuid=req)
    assert ws.cases.case_of(fsu) == req
    case = ws.cases.get(req)
    assert case.clock is not None and case.clock.target == 25
    assert case.checklist()[2] == ("Notificaciones de visita (N100)", True, "1 emitida(s)")


def test_reevaluation_within_180_days_goes_without_visit(team, homes):
    _day(team, 2026, 5, 4)
    hh = homes[1]
    ws = team.as_("emp")
    first = team.s100(hh, **{DATE: "2026-05-04"})
    ws = team.as_("sup")
    ws.review.approve(first)
    post_result(ws, first, "pobre", "2026-06-01", "2029-06-01")
    # 150 days later: a reevaluación applies, and needs no visit.
    _day(team, 2026, 10, 29)
    ws = team.as_("emp")
    again = team.s100(hh, complete=False, **{OPTION: "2.6", DATE: "2026-10-29"})
    state, _warnings = ws.complete(again)
    assert state == State.COMPLETE
    case = ws.cases.get(again)
    assert case.route == Route.NO_VISIT and case.option_code == "2.6"
    assert case.checklist()[1][0:2] == ("Ficha socioeconómica (FSU)", True)
    with pytest.raises(ValidationError) as e:
        ws.new_draft("fsu", from_uuid=again)
    assert "no lleva visita" in e.value.user_message
    with pytest.raises(ValidationError):
        ws.cases.record_visit(again, "2026-10-29", "10:00", "4", next_visit="2026-10-30")
    assert case.clock is not None and case.clock.target == 25  # no 8-day visit target
    ws = team.as_("sup")
    ws.review.approve(again)
    assert ws.get(again).state == State.QUEUED  # sent with the S100 alone
    assert ws.cases.get(again).state == CaseState.QUEUED  # not at the centre yet


def test_reevaluation_after_180_days_is_refused_in_spanish(team, homes):
    _day(team, 2026, 1, 5)
    hh = homes[2]
    ws = team.as_("emp")
    first = team.s100(hh, **{DATE: "2026-01-05"})
    ws = team.as_("sup")
    ws.review.approve(first)
    post_result(ws, first, "no_pobre", "2026-01-20", "2029-01-20")
    _day(team, 2026, 8, 3)
    ws = team.as_("emp")
    late = team.s100(hh, complete=False, **{OPTION: "2.6", DATE: "2026-08-03"})
    with pytest.raises(ValidationError) as e:
        ws.complete(late)
    msg = e.value.user_message
    assert "no procede" in msg and "20/01/2026" in msg and "195 días" in msg and "180" in msg
    assert ws.get(late).state == State.DRAFT  # kept as typed, nothing lost
    # A household with no CSE on this laptop cannot ask for a reevaluación either.
    other = team.s100(homes[3], complete=False, **{OPTION: "2.6", DATE: "2026-08-03"})
    with pytest.raises(ValidationError) as e:
        ws.complete(other)
    assert "no tiene ningún resultado de CSE" in e.value.user_message


def test_dropped_request_stops_its_clock_and_reopens_only_by_supervisor(team, homes):
    _day(team, 2026, 11, 2)
    ws = team.as_("emp")
    req = team.s100(homes[4], **{DATE: "2026-11-02"})
    ws.cases.record_visit(req, "2026-11-03", "09:00", "4", next_visit="2026-11-05")
    ws.cases.record_visit(req, "2026-11-05", "16:00", "4", next_visit="2026-11-09")
    with pytest.raises(NotAllowed):
        ws.cases.drop(req, ws.cases.drop_reasons()[0])
    ws = team.as_("sup")
    today = dt.date(2026, 11, 20)
    before = ws.documents.dashboard(today=today)
    assert [w.stage for w in before.waiting] == ["Visita fallida: volver a visitar"]
    assert before.visits_overdue == 1
    with pytest.raises(ValidationError):
        ws.cases.drop(req, "un motivo inventado")
    reason = ws.cases.drop_reasons()[0]
    drop = ws.cases.drop(req, reason, "Tres intentos sin ubicar al hogar.")
    assert ws.get(drop).state == State.QUEUED and ws.get(drop).form_id == "desestimacion"
    case = ws.cases.get(req)
    assert case.state == CaseState.DROPPED and case.clock is None
    after = ws.documents.dashboard(today=today)
    assert after.waiting == [] and after.visits_overdue == 0 and after.dropped == 1
    assert after.cases == {"Desestimado": 1}
    assert any(a.action == "case_drop" for a in ws.history(req))
    ws = team.as_("emp")
    with pytest.raises(NotAllowed):
        ws.cases.record_visit(req, "2026-11-20", "09:00", "4", next_visit="2026-11-23")
    with pytest.raises(NotAllowed):
        ws.cases.reopen(req, "El hogar volvió")
    ws = team.as_("sup")
    with pytest.raises(ValidationError):
        ws.cases.reopen(req, "")
    ws.cases.reopen(req, "El hogar volvió a la dirección declarada.")
    assert ws.cases.get(req).state == CaseState.VISIT_FAILED
    assert ws.cases.get(req).clock is not None


def test_one_household_counted_once(team, homes, tmp_path):
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    req = team.s100(homes[5], **{DATE: "2026-11-16"})
    fsu = ws.new_draft("fsu", from_uuid=req)
    from app.demo_answers import fsu_answers

    ws.save_answers(fsu, {**fsu_answers(homes[5])})
    ws.complete(fsu)
    ws = team.as_("sup")
    ws.review.approve_many([req, fsu])
    post_result(ws, req, "no_pobre", "2026-11-19", "2029-11-19")
    # The constancia of the FSU shows the result posted on the case's request.
    assert ws.get(fsu).state == State.QUEUED
    assert ws.documents.constancia(fsu).result["category"] == "No pobre"
    post_result(ws, fsu, "no_pobre", "2026-11-19", "2029-11-19")
    dash = ws.documents.dashboard(today=dt.date(2026, 11, 20))
    assert dash.results == {"No pobre": 1}
    # The export of cases: one row for the household, with its two forms and its result.
    res = ws.documents.export_data("cases", "csv", tmp_path / "expedientes.csv")
    lines = (tmp_path / "expedientes.csv").read_text("utf-8-sig").splitlines()
    assert res.rows == 1 and len(lines) == 2 and lines[0].startswith("Código del expediente")
    assert "FSU, S100" in lines[1] and "No pobre" in lines[1] and req in lines[1]
    assert dash.households == 1 and dash.cases == {"Con resultado": 1}
    assert dash.waiting == []


def test_d100_lists_the_cases_sent_and_is_tracked(team, homes):
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    a = team.s100(homes[6], **{DATE: "2026-11-16"})
    b = team.s100(homes[7], **{DATE: "2026-11-16"})
    ws = team.as_("sup")
    ws.review.approve(a)
    with pytest.raises(ValidationError):
        ws.cases.d100_generate(dt.date(2026, 11, 1), dt.date(2026, 11, 10))
    d = ws.cases.d100_generate(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert [i.case_uuid for i in d.items] == [a] and b not in [i.case_uuid for i in d.items]
    assert d.items[0].head_name == homes[6].head.full_name and d.state == "generado"
    with pytest.raises(ValidationError):
        ws.cases.d100_mark(d.id, "enviado")  # must be signed first
    ws.cases.d100_mark(d.id, "firmado")
    ws.cases.d100_mark(d.id, "enviado")
    row = ws.cases.d100_list()[0]
    assert row.state == "enviado" and row.signed_at and row.sent_at
    ws = team.as_("emp")
    with pytest.raises(NotAllowed):
        ws.cases.d100_list()


def test_existing_database_gets_its_cases_on_upgrade(team, homes, data_dir, clock):
    """A laptop database from before the cases migration (no case tables) opened by
    this program: every record survives and each FSU joins its household's S100."""
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    req = team.s100(homes[8])
    fsu = team.fsu(homes[8])  # typed on its own, as before cases existed
    lone = team.fsu(homes[9])  # a paper FSU without request
    before = {u: ws.load_answers(u) for u in (req, fsu, lone)}
    ws.close()
    db = connect(data_dir / DB_NAME)
    db.execute("DROP TABLE case_links")
    db.execute("DROP TABLE d100")
    # the version just before the cases migration
    before_cases = next(i for i, m in enumerate(MIGRATIONS)
                        if m.__name__.endswith("_cases"))
    db.execute(f"PRAGMA user_version={before_cases}")
    db.conn.close()
    ws2 = Workspace.open(data_dir, kdf=FAST_KDF, clock=clock)
    try:
        assert schema_version(ws2.db) == len(MIGRATIONS) > before_cases
        ws2.login("emp", PASSWORDS["emp"])
        assert {u: ws2.load_answers(u) for u in before} == before
        assert ws2.cases.case_of(fsu) == req and ws2.cases.case_of(lone) == lone
        ws2.logout()
        ws2.login("sup", PASSWORDS["sup"])
        assert ws2.admin.audit_verify().ok
    finally:
        ws2.close()


def test_checklist_follows_the_fsu_state(team, homes):
    """The expediente's checklist says what the FSU is (draft, complete, sent, with a
    result) and offers the constancia only from a completed FSU, as
    ws.documents.constancia() does; it once said «registrada» / «disponible para
    entregar» for a draft."""
    from app.demo_answers import fsu_answers

    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    req = team.s100(homes[9], **{DATE: "2026-11-16"})
    ws.cases.record_visit(req, "2026-11-16", "10:00", "1")

    def items() -> dict[str, tuple[bool, str]]:
        return {k: (ok, text) for k, ok, text in ws.cases.get(req).checklist()}

    fsu_item, const_item = "Ficha socioeconómica (FSU)", "Constancia de empadronamiento"
    assert items()[fsu_item] == (False, "pendiente de la visita")
    fsu = ws.new_draft("fsu", from_uuid=req)
    assert items()[fsu_item] == (False, "en borrador: falta completarla")
    assert items()[const_item] == (False, "se emite cuando la FSU esté completa")
    with pytest.raises(NotAllowed):
        ws.documents.constancia(fsu)  # the checklist and the constancia agree
    ws.save_answers(fsu, {**fsu_answers(homes[9])})
    ws.complete(fsu)
    assert items()[fsu_item] == (True, "completa, pendiente de la revisión del supervisor")
    assert items()[const_item] == (True, "disponible para entregar")
    ws.documents.constancia(fsu)
    ws = team.as_("sup")
    ws.review.approve_many([req, fsu])
    assert items()[fsu_item][1] == "completa, en cola de envío a la sede central"
    post_result(ws, fsu, "no_pobre", "2026-11-19", "2029-11-19")
    assert items()[fsu_item] == (True,
                                 "con resultado de la clasificación socioeconómica (CSE)")


def test_a_request_gets_one_fsu(team, homes):
    """«Nueva FSU desde la S100» a second time is refused with the state of the FSU the
    household already has (a clerk once made three FSUs for one household)."""
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    req = team.s100(homes[10], **{DATE: "2026-11-16"})
    first = ws.new_draft("fsu", from_uuid=req)
    with pytest.raises(ValidationError) as e:
        ws.new_draft("fsu", from_uuid=req)
    assert "ya tiene su FSU" in e.value.user_message and "Borrador" in e.value.user_message
    assert [m.uuid for m in ws.cases.get(req).fsus] == [first]


@pytest.mark.parametrize("facts, expected", [
    # a «1. Completa» visit: the interview happened, the FSU is still to be typed; the
    # 25-day clock runs, so the stage no longer says «Visita pendiente»
    (dict(route=Route.FSU, request_state=State.COMPLETE, visits_failed=[False]),
     CaseState.VISITED),
    (dict(route=Route.FSU, request_state=State.QUEUED, visits_failed=[True, False]),
     CaseState.VISITED),
    # approved but not delivered: in the send queue, not «Enviado, espera resultado»
    (dict(route=Route.FSU, request_state=State.QUEUED, fsu_states=[State.QUEUED]),
     CaseState.QUEUED),
    (dict(route=Route.FSU, request_state=State.DELIVERED, fsu_states=[State.QUEUED]),
     CaseState.QUEUED),
    (dict(route=Route.NO_VISIT, request_state=State.QUEUED), CaseState.QUEUED),
    (dict(route=Route.FSU, request_state=State.DELIVERED, fsu_states=[State.DELIVERED]),
     CaseState.SENT),
])
def test_case_stage_matches_its_records_and_its_clock(facts, expected):
    """Walk-through: after a «1. Completa» visit the stage read «Visita pendiente» while
    the 25-day clock ran; after approval «Enviado, espera resultado» while the forms
    were «En cola de envío»."""
    from app.core.cases import CASE_STATE_LABELS, CaseFacts, case_state, running_clock

    f = CaseFacts(**facts)
    assert case_state(f) == expected
    clock = running_clock(f, dt.date(2026, 11, 2))
    assert clock is not None and clock.stage == CASE_STATE_LABELS[expected]
