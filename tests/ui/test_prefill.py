"""What the program already knows is not asked again (issue 16 item 2), seen in the
real form window: an FSU made from an S100 opens with the household's address,
phone and the requester's birth date; a new S100 opens at the ULE's district with
the logged-in clerk as «Registrado por»."""

from __future__ import annotations

from app.demo import households
from app.demo_answers import TIPO_VIA
from tests.review.conftest import Team


def shown(w, path: str) -> str:
    """The text the question's editor shows."""
    w.jump(path)
    row = w.page(w.spec_for(path)).row(path)
    return row.editor.line.text()


def test_a_new_fsu_from_an_s100_shows_the_carried_address(logged_in, qtbot, clock):
    win = logged_in
    hh = households(1, seed=41)[0]
    s100 = Team(win.ws, clock).s100(hh)
    w = win.new_record("fsu", s100)
    assert w is not None
    street, number = hh.direccion.rsplit(" ", 1)
    assert shown(w, "/fsu/ubicacion/nombre_via") == street
    assert shown(w, "/fsu/ubicacion/numero_puerta") == number
    assert shown(w, "/fsu/ubicacion/telefono") == hh.telefono
    assert TIPO_VIA[hh.via] in shown(w, "/fsu/ubicacion/tipo_via")
    assert shown(w, "/fsu/integrantes[1]/fecha_nacimiento") != ""
    assert w.session.get("/fsu/integrantes[1]/fecha_nacimiento") == hh.head.birth.isoformat()
    assert shown(w, "/fsu/control/empadronador") == "admin"
    w.close()


def test_a_new_s100_starts_at_the_ule_with_the_clerk(logged_in, qtbot):
    win = logged_in
    w = win.new_record("s100")
    assert w is not None
    assert w.session.get("/s100/domicilio/distrito") == "150101"
    assert w.session.get("/s100/registro/ule") == "150101"
    assert shown(w, "/s100/registro/ule") == "150101"
    assert shown(w, "/s100/registro/registrador") == "admin"
    assert shown(w, "/s100/domicilio/provincia") == "1501"
    assert shown(w, "/s100/domicilio/distrito") == "150101"
    w.close()


def test_an_absent_household_is_completed_without_inventing_data(logged_in, qtbot, clock):
    """The enumerator finds nobody home: the result of the visit is all they add to
    the FSU made from the S100; the dwelling, household and members are not asked."""
    from PySide6.QtTest import QTest

    from app.core.states import State

    win = logged_in
    hh = households(1, seed=42)[0]
    s100 = Team(win.ws, clock).s100(hh)
    w = win.new_record("fsu", s100)
    sections_before = len(w.specs)
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    w.jump("/fsu/ubicacion/area")
    assert w.current_row.path == "/fsu/ubicacion/area"
    QTest.keyClicks(w.current_row.editor.focus_widget(), "2")  # rural
    assert w.session.get("/fsu/ubicacion/area") == "2"
    w.jump("/fsu/control/resultado")
    QTest.keyClicks(w.current_row.editor.focus_widget(), "4")  # Ausente / no ubicado
    qtbot.waitUntil(lambda: w.session.get("/fsu/control/resultado") == "4", timeout=3000)
    # the side list no longer offers the dwelling, the household or the members
    assert len(w.specs) < sections_before
    assert not any(s.path.startswith(("/fsu/vivienda", "/fsu/hogar", "/fsu/integrantes"))
                   for s in w.specs)
    assert w.sections.count() == len(w.specs)
    # a wrong key: the interview did happen; everything comes back, members included
    w.jump("/fsu/control/resultado")
    QTest.keyClicks(w.current_row.editor.focus_widget(), "1")
    qtbot.waitUntil(lambda: len(w.specs) == sections_before, timeout=3000)
    assert sum(1 for s in w.specs if s.kind == "member") == len(hh.members)
    w.jump("/fsu/control/resultado")
    QTest.keyClicks(w.current_row.editor.focus_widget(), "4")
    qtbot.waitUntil(lambda: len(w.specs) < sections_before, timeout=3000)
    with qtbot.waitSignal(w.completed, timeout=10000):
        w.complete()
    assert win.ws.get(w.uuid).state == State.COMPLETE.value
    sent = win.ws.hooks.submission("fsu", w.fd.version, win.ws.load_answers(w.uuid))
    assert sent["answers"]["/fsu/control/resultado"] == "4"
    assert not [p for p in sent["answers"] if p.startswith(("/fsu/vivienda/", "/fsu/integrantes"))]
    assert sent["answers"]["/fsu/ubicacion/nombre_via"] == hh.direccion.rsplit(" ", 1)[0]
    w.close()


def test_a_requester_missing_from_the_members_is_shown_at_the_document(ws_factory, qtbot):
    from PySide6.QtTest import QTest

    from app.demo_answers import s100_answers
    from app.forms import bundled_form
    from app.ui.entry.form_window import FormWindow

    ws = ws_factory(create=True)
    hh = households(1, seed=43)[0]
    answers = {**s100_answers(hh), "/s100/solicitante/sol_num_doc": "10000000"}
    uuid = ws.new_record("s100", bundled_form("s100").version, answers)
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    w.next_error()
    assert w.current_row.path == "/s100/solicitante/sol_num_doc"
    qtbot.waitUntil(lambda: "debe figurar entre los integrantes" in w.current_row.message.text(),
                    timeout=3000)
    # the requester listed as a member: the message goes away
    w.session.set("/s100/integrantes[1]/num_doc", "10000000")
    w.refresh_page()
    assert "debe figurar" not in w.current_row.message.text()
    w.close()


def _clerk_with_visits(win, clock, seed: int, results: list[tuple[str, str, str]]) -> str:
    """A digitador (María Condori) logged in who types an S100 and records the visits
    `results` (date, time, result) made by the enumerator Luis Flores. Returns the S100."""
    import datetime as dt

    clock.t = dt.datetime(2026, 11, 20, 10, 0).timestamp()
    ws = win.ws
    ws.admin.add_user("luis", "empadronador", "clave-luis-1234", "Luis Flores",
                      must_change=False)
    ws.admin.add_user("maria", "digitador", "clave-maria-1234", "María Condori",
                      must_change=False)
    ws.logout()
    ws.login("maria", "clave-maria-1234")
    s100 = Team(ws, clock).s100(households(1, seed=seed)[0])
    for date, time, result in results:
        ws.cases.record_visit(s100, date, time, result, "2026-11-21" if result == "4" else "",
                              enumerator="luis")
    return s100


def test_a_new_fsu_takes_the_enumerator_date_and_result_of_the_completed_visit(
        logged_in, qtbot, clock):
    """Walk-through: the visit «1. Completa» by Luis Flores was registered in the
    expediente, then a digitador made the FSU from the S100 (Ctrl+U): its «Control de
    la visita» named the digitador and asked the date and result again."""
    win = logged_in
    s100 = _clerk_with_visits(win, clock, 44, [("2026-11-16", "09:30", "4"),
                                               ("2026-11-18", "11:00", "1")])
    w = win.new_record("fsu", s100)
    assert w is not None
    assert shown(w, "/fsu/control/empadronador") == "Luis Flores"
    assert w.session.get("/fsu/control/fecha_visita") == "2026-11-18"
    assert w.session.get("/fsu/control/resultado") == "1"
    # stored so: the review header, the queue and the dashboard read the answers
    answers = win.ws.load_answers(w.uuid)
    assert "Luis Flores" in str(answers) and "María Condori" not in str(answers)
    w.close()


def test_without_a_completed_visit_the_fsu_starts_as_before(logged_in, qtbot, clock):
    """Only a failed attempt: nothing of it is copied (the interview has not happened)."""
    win = logged_in
    s100 = _clerk_with_visits(win, clock, 45, [("2026-11-16", "09:30", "4")])
    w = win.new_record("fsu", s100)
    assert w is not None
    assert shown(w, "/fsu/control/empadronador") == "María Condori"
    assert w.session.get("/fsu/control/fecha_visita") != "2026-11-16"  # the form's today()
    assert w.session.get("/fsu/control/resultado") in ("", None)
    w.close()
