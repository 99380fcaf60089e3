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
