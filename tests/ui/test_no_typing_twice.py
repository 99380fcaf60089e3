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
