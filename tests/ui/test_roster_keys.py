"""The S100 members list with the keyboard only (a new clerk's walkthrough):
back in the list the member just left is the highlighted row and Enter opens
it (never adds one); an empty required answer holds the clerk like a refused
one; the message under a question follows the answer and shows whole; the side
list names a new member as its page does."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.test_entry_daily import focused_path, open_window

REP = "/s100/integrantes"


def _members(w, names: list[tuple[str, str]]) -> None:
    for i, (ap, nom) in enumerate(names, start=1):
        if w.session.repeat_count(REP) < i:
            w.session.add_repeat(REP)
        w.session.set(f"{REP}[{i}]/apellidos", ap)
        w.session.set(f"{REP}[{i}]/nombres", nom)
        w.session.set(f"{REP}[{i}]/tipo_doc", "4")
    w.replan()
    w.update_marks()


def _roster(w):
    spec = next(s for s in w.specs if s.kind == "roster" and s.path == REP)
    return w.page(spec)


def test_back_in_the_list_enter_opens_the_member_just_left(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot)
    _members(w, [("Rojas", "Ana"), ("Poma", "Luis"), ("Quispe", "Eva")])
    roster = _roster(w)
    # the last member, left by Enter on its last question: back in the list on row 3
    w.jump(f"{REP}[3]/tipo_doc")
    assert focused_path(w) == f"{REP}[3]/tipo_doc"
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert QApplication.focusWidget() is roster.table
    assert roster.table.currentRow() == 2
    assert [i.row() for i in roster.table.selectionModel().selectedRows()] == [2]
    QTest.keyClick(roster.table, Qt.Key.Key_Return)  # opens member 3 again, adds nobody
    assert w.session.repeat_count(REP) == 3
    assert focused_path(w) == f"{REP}[3]/apellidos"
    # the first member, left backwards (Shift+Tab on its first question): row 1
    w.jump(f"{REP}[1]/apellidos")
    QTest.keyClick(
        QApplication.focusWidget(), Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier
    )
    assert QApplication.focusWidget() is roster.table
    assert roster.table.currentRow() == 0
    QTest.keyClick(roster.table, Qt.Key.Key_Down)
    QTest.keyClick(roster.table, Qt.Key.Key_Return)
    assert focused_path(w) == f"{REP}[2]/apellidos"
    assert w.session.repeat_count(REP) == 3
    # Enter on a table without a current row adds nobody; Ins does add, on purpose
    w.enter_page(w.spec_index(roster.spec.key), 1)
    roster.table.setCurrentCell(-1, -1)
    roster.table.setFocus()
    QTest.keyClick(roster.table, Qt.Key.Key_Return)
    assert w.session.repeat_count(REP) == 3
    roster.table.setFocus()
    QTest.keyClick(roster.table, Qt.Key.Key_Insert)
    assert w.session.repeat_count(REP) == 4
    assert focused_path(w) == f"{REP}[4]/apellidos"
    w.close()


def test_a_new_member_has_the_same_name_in_the_side_list_and_on_its_page(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot)
    _members(w, [("Rojas", "Ana")])
    w.add_member(REP)
    spec = w.current_spec()
    assert spec is not None and spec.key == f"member:{REP}[2]"
    assert w.pages[spec.key].title.text() == "Integrante 2"
    side = w.sections.item(w.spec_index(spec.key)).text()
    assert side.strip().endswith("Integrante 2"), side
    assert "Composición del hogar 2" not in side
    w.close()


def test_enter_on_an_empty_required_answer_keeps_the_clerk_there(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot)
    _members(w, [("Rojas", "Ana")])
    w.session.set(f"{REP}[1]/tipo_doc", "")
    w.replan()
    w.jump(f"{REP}[1]/tipo_doc")
    QTest.keyClicks(QApplication.focusWidget(), "1")  # DNI: a complete code moves on
    num = f"{REP}[1]/num_doc"
    assert focused_path(w) == num
    row = w.pages[f"member:{REP}[1]"].row(num)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert focused_path(w) == num  # held, with the message under the field
    assert row.message.isVisible() and row.message.objectName() == "error"
    assert "obligatoria" in w.save_status.text()
    assert w.issues_title.text().startswith("Errores: 1 ")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # on purpose: goes on
    assert focused_path(w) != num
    assert w.issues_title.text().startswith("Errores: 1 ")  # still counted
    assert w.session.repeat_count(REP) == 1
    w.close()


def test_the_message_under_a_question_follows_the_answer_and_shows_whole(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot)
    _members(w, [("Rojas", "Ana")])
    w.session.set(f"{REP}[1]/tipo_doc", "1")
    w.replan()
    # an answer that is not an option, then corrected to the DNI already stored
    w.jump(f"{REP}[1]/tipo_doc")
    page = w.pages[f"member:{REP}[1]"]
    tipo = page.row(f"{REP}[1]/tipo_doc")
    QTest.keyClicks(QApplication.focusWidget(), "pasaporte")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert tipo.message.isVisible() and "no es una de las opciones" in tipo.message.text()
    assert w.issues_title.text().startswith("Errores: 1 ")
    line = QApplication.focusWidget()
    line.selectAll()
    QTest.keyClicks(line, "1")  # DNI: the code moves on
    assert not tipo.message.isVisible(), tipo.message.text()
    assert w.issues_title.text().startswith("Errores: 0 ")
    # a two-line message (an invalid DNI) is shown whole under the field
    num = page.row(f"{REP}[1]/num_doc")
    assert focused_path(w) == num.path
    QTest.keyClicks(QApplication.focusWidget(), "123")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QTest.qWait(60)
    msg = num.message
    assert msg.isVisible() and "8 dígitos" in msg.text()
    assert msg.height() >= msg.heightForWidth(msg.width())  # no line cut off (1366 px)
    w.resize(900, 700)  # narrower: the message takes two lines, both shown
    QTest.qWait(60)
    assert msg.heightForWidth(msg.width()) > msg.fontMetrics().lineSpacing() * 1.5
    assert msg.height() >= msg.heightForWidth(msg.width())
    w.close()
