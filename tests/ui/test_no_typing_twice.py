"""What the form window fills in itself so a clerk does not type it twice (a new
clerk's walk-through, app/ui/entry/derived.py), on the real window with key events:
the S100's first member starts as the requester; the FSU's «¿Cuántas personas…?»
follows the members listed until the clerk types another number."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.demo import households
from tests.review.conftest import Team
from tests.ui.test_entry_daily import focused_path, open_window

SOL = "/s100/solicitante/"
REP = "/s100/integrantes"
COUNT = "/fsu/hogar/num_personas"


def _roster(w, path: str):
    spec = next(s for s in w.specs if s.kind == "roster" and s.path == path)
    w.enter_page(w.spec_index(spec.key), 1)
    return w.page(spec)


def _requester(w) -> None:
    for name, value in (("sol_apellido_paterno", "Quispe"), ("sol_apellido_materno", "Mamani"),
                        ("sol_nombres", "Rosa Elena"), ("sol_tipo_doc", "1"),
                        ("sol_num_doc", "41234567")):
        w.session.set(SOL + name, value)
    w.replan()


def _shown(w, path: str) -> str:
    w.jump(path)
    return w.page(w.spec_for(path)).row(path).editor.line.text()


def test_the_first_member_of_an_s100_starts_as_the_requester(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    _requester(w)
    assert w.session.get(SOL + "solicitante_en_hogar") == "0"  # the form's rule is unmet
    roster = _roster(w, REP)
    assert focused_path(w) == "" and roster.add_btn.hasFocus()
    QTest.keyClick(roster.add_btn, Qt.Key.Key_Return)  # «Agregar integrante» by keyboard
    assert w.session.repeat_count(REP) == 1
    got = {f: w.session.get(f"{REP}[1]/{f}") for f in ("apellidos", "nombres", "tipo_doc",
                                                      "num_doc")}
    assert got == {"apellidos": "Quispe Mamani", "nombres": "Rosa Elena", "tipo_doc": "1",
                   "num_doc": "41234567"}
    assert w.session.get(SOL + "solicitante_en_hogar") == "1"  # the rule is met
    assert _shown(w, f"{REP}[1]/apellidos") == "Quispe Mamani"
    # the next member is somebody else: it starts empty
    w.add_member(REP)
    assert w.session.get(f"{REP}[2]/apellidos") == "" and w.session.get(f"{REP}[2]/num_doc") == ""
    w.close()


def test_a_requester_already_listed_is_not_added_again(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    w.add_member(REP)  # the clerk lists the household first
    assert w.session.get(f"{REP}[1]/apellidos") == ""  # no requester typed yet: nothing
    for f, v in (("apellidos", "Quispe Mamani"), ("nombres", "Rosa Elena"), ("tipo_doc", "1"),
                 ("num_doc", "41234567")):
        w.session.set(f"{REP}[1]/{f}", v)
    _requester(w)
    assert w.session.get(SOL + "solicitante_en_hogar") == "1"
    w.add_member(REP)
    assert w.session.get(f"{REP}[2]/apellidos") == ""
    w.close()


def test_the_number_of_people_follows_the_members_listed(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    # on the way in, the empty question does not hold the clerk: the list fills it
    w.jump(COUNT)
    field = QApplication.focusWidget()
    assert field.placeholderText() == "se llena con los integrantes que registre"
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert focused_path(w) != COUNT
    assert "obligatoria" not in w.save_status.text()
    for _ in range(3):
        w.add_member("/fsu/integrantes")
    assert w.session.get(COUNT) == "3"
    assert _shown(w, COUNT) == "3"
    _roster(w, "/fsu/integrantes")  # where a member is removed
    w.confirm = lambda box, yes: True  # the «¿Quitar al integrante?» box answered «Sí»
    w.remove_member("/fsu/integrantes", 3)
    assert w.session.get(COUNT) == "2"
    # the clerk types another number: it is theirs, the rule says it does not match
    w.jump(COUNT)
    field = QApplication.focusWidget()
    field.selectAll()
    qtbot.keyClicks(field, "4")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert w.session.get(COUNT) == "4"
    w.add_member("/fsu/integrantes")
    assert w.session.get(COUNT) == "4"  # not overwritten
    assert "coincidir" in w.session.state(COUNT).message
    w.close()


def test_an_fsu_from_an_s100_opens_with_the_number_of_people(logged_in, qtbot, clock):
    win = logged_in
    hh = households(1, seed=44)[0]
    s100 = Team(win.ws, clock).s100(hh)
    w = win.new_record("fsu", s100)
    assert w is not None
    n = w.session.repeat_count("/fsu/integrantes")
    assert n >= 1
    assert w.session.get(COUNT) == str(n)
    assert _shown(w, COUNT) == str(n)
    w.close()


def _issues(w, qtbot) -> tuple[str, list[str]]:
    """The summary's title and its error lines once the window has caught up (the
    marks and the summary follow an answer a moment later)."""
    qtbot.waitUntil(lambda: not w._marks_timer.isActive(), timeout=3000)
    lines = [w.issues.item(i).text() for i in range(w.issues.count())]
    return w.issues_title.text(), [t for t in lines if t.startswith("✗")]


def _counted(title: str) -> int:
    return int(title.split("Errores: ", 1)[1].split(" ", 1)[0])


def test_the_error_count_follows_the_requester_filled_in_as_member_1(ws_factory, qtbot):
    """The requester typed, «debe figurar entre los integrantes» is shown and counted;
    member 1 filled from the requester settles it: the form engine drops the error and
    so does the window's count (it once stayed, read from the message still standing
    on the requester's page, which was not in front)."""
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    for name, value in (("sol_apellido_paterno", "Quispe"), ("sol_apellido_materno", "Mamani"),
                        ("sol_nombres", "Rosa Elena"), ("sol_tipo_doc", "1"),
                        ("sol_num_doc", "41234567")):
        w.jump(SOL + name)
        field = QApplication.focusWidget()
        qtbot.keyClicks(field, value)
        QTest.keyClick(field, Qt.Key.Key_Return)
    title, errors = _issues(w, qtbot)
    assert [e for e in errors if "debe figurar" in e]  # shown and counted
    assert _counted(title) == len(errors)
    roster = _roster(w, REP)
    QTest.keyClick(roster.add_btn, Qt.Key.Key_Return)  # member 1 = the requester
    assert w.session.get(f"{REP}[1]/num_doc") == "41234567"
    assert not [i for i in w.session.validate().errors if "debe figurar" in i.message]
    title, errors = _issues(w, qtbot)
    assert not [e for e in errors if "debe figurar" in e], errors
    assert _counted(title) == len(errors)
    # and back: member 1 removed, the engine's error is counted again
    _roster(w, REP)
    w.confirm = lambda box, yes: True  # «¿Quitar al integrante?» answered «Sí»
    w.remove_member(REP, 1)
    title, errors = _issues(w, qtbot)
    assert [e for e in errors if "debe figurar" in e]
    assert _counted(title) == len(errors)
    w.close()


def test_the_error_count_follows_the_number_of_people_when_members_are_added(ws_factory,
                                                                           qtbot):
    """Text the field could not read is counted until the window fills the number in
    from the members; then the clerk typed 2 people with one listed: «debe coincidir»
    is counted; the second member added settles it and the count follows the engine,
    not the messages that still stood on the household's page behind the member's."""
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    w.jump(COUNT)
    field = QApplication.focusWidget()
    qtbot.keyClicks(field, "x")
    QTest.keyClick(field, Qt.Key.Key_Return)
    title, errors = _issues(w, qtbot)
    assert [e for e in errors if "números enteros" in e]
    roster = _roster(w, "/fsu/integrantes")
    QTest.keyClick(roster.add_btn, Qt.Key.Key_Return)  # the window writes 1 where «x» was
    assert w.session.get(COUNT) == "1"
    title, errors = _issues(w, qtbot)
    assert not [e for e in errors if "números enteros" in e], errors
    assert _counted(title) == len(errors)
    w.jump(COUNT)
    field = QApplication.focusWidget()
    assert field.text() == "1"
    field.selectAll()
    qtbot.keyClicks(field, "2")
    QTest.keyClick(field, Qt.Key.Key_Return)
    title, errors = _issues(w, qtbot)
    assert [e for e in errors if "coincidir" in e]
    w.add_member("/fsu/integrantes")
    assert w.session.get(COUNT) == "2" and not w.session.state(COUNT).message
    assert w.current_spec().kind == "member"  # the household's page is behind
    title, errors = _issues(w, qtbot)
    assert not [e for e in errors if "coincidir" in e], errors
    assert _counted(title) == len(errors)
    w.close()
