"""What a new clerk found in the lists and the expediente (walk-through under Xvfb),
on the real window offscreen: the visit names the empadronador who went; people read
the N° de expediente, never a uuid; a desestimación row says what it is; the result
column is whole on a 1366×768 screen; the review queue opens with the keyboard on
its first row."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from app.core.identifiers import case_reference
from app.demo import households
from app.demo_answers import s100_answers
from app.forms import bundled_form
from app.ui.common.record_list import COLUMNS
from tests.review.conftest import PASSWORDS
from tests.review.helpers import post_result


def _request(ws, hh, complete: bool = False) -> str:
    uuid = ws.new_record("s100", str(bundled_form("s100").version), s100_answers(hh))
    if complete:
        ws.complete(uuid)
    return uuid


def _staff(ws) -> None:
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    ws.admin.add_user("emp2", "empadronador", PASSWORDS["emp2"], "Luz Condori",
                      must_change=False)


def _as(ws, user: str) -> None:
    ws.logout()
    ws.login(user, PASSWORDS[user])


def _rows(page, qtbot, uuids: set[str]) -> dict:
    page.reload()
    qtbot.waitUntil(lambda: uuids <= {r.meta.uuid for r in page.model.rows}, timeout=5000)
    return {r.meta.uuid: r for r in page.model.rows}


def test_the_visit_dialog_names_the_empadronador(logged_in, qtbot, clock):
    from app.ui.review.case_dialog import CaseDialog

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    _staff(ws)
    _as(ws, "emp")
    req = _request(ws, households(1, seed=51)[0])
    _as(ws, "sup")
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    vd = dlg.visit_dialog()
    qtbot.addWidget(vd)
    names = [vd.enumerator.itemText(i) for i in range(vd.enumerator.count())]
    assert names == ["Juan Pérez (emp)", "Luz Condori (emp2)"]  # no supervisor offered
    # the supervisor is not the visitor: nobody is chosen and «Registrar» says so
    assert vd.enumerator.currentIndex() == -1
    vd.result.setCurrentIndex(vd.result.findData("4"))
    vd.accept()
    assert QDialog.result(vd) == 0 and not vd.error.isHidden() and "empadronador" in vd.error.text()
    vd.enumerator.setFocus()
    qtbot.keyClick(vd.enumerator, Qt.Key.Key_Down)  # chosen by keyboard
    qtbot.keyClick(vd.enumerator, Qt.Key.Key_Down)
    assert vd.enumerator.currentData() == "emp2"
    values = vd.values()
    assert values["enumerator"] == "emp2" and values["result"] == "4"
    assert dlg.record_visit(**{**values, "time": "09:30"}) is not None
    assert dlg.visits.item(0, 2).text() == "Luz Condori"
    assert dlg.visits.item(0, 3).text() == "Ausente / no ubicado"
    # an empadronador recording their own visit finds themselves chosen
    _as(ws, "emp")
    vd2 = CaseDialog(ws, req, logged_in).visit_dialog()
    qtbot.addWidget(vd2)
    assert vd2.enumerator.currentData() == "emp"


def test_the_visit_result_is_chosen_never_defaulted(logged_in, qtbot, clock):
    """A default «1. Completa» invited recording as complete a visit nobody answered:
    in «Registrar visita…» the result starts empty, «Registrar» refuses without one (a
    Spanish message, the focus on the result), and it is chosen by its code's key."""
    from app.ui.review.case_dialog import CaseDialog, VisitDialog
    from tests.ui.modal import answer_modal

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    _staff(ws)
    _as(ws, "emp")
    req = _request(ws, households(1, seed=54)[0])
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    dlg.show()
    seen: dict = {}

    def answer(vd: VisitDialog) -> None:
        # who went is known (the empadronador themself): the result is next, empty
        seen["start"] = (vd.enumerator.currentData(), vd.result.currentIndex(),
                         vd.result.currentData(), vd.focusWidget() is vd.result,
                         vd.result.placeholderText(), vd.next_visit.isEnabled())
        vd.notes.setFocus()
        qtbot.keyClick(vd.notes, Qt.Key.Key_Return)  # Enter: «Registrar»
        seen["refused"] = (vd.isVisible(), vd.error.isHidden(), vd.error.text(),
                           vd.focusWidget() is vd.result, len(ws.cases.get(req).visits))
        qtbot.keyClicks(vd.result, "4")  # the code of «Ausente / no ubicado»
        seen["chosen"] = (vd.result.currentData(), vd.next_visit.isEnabled(),
                          vd.error.isHidden())
        qtbot.keyClick(vd.result, Qt.Key.Key_Return)

    answer_modal(VisitDialog, answer)
    qtbot.mouseClick(dlg.visit_btn, Qt.MouseButton.LeftButton)
    enumerator, index, data, focused, placeholder, next_on = seen["start"]
    assert (enumerator, index, data, focused) == ("emp", -1, None, True)
    assert "Elija" in placeholder and not next_on  # no result yet, no next attempt
    visible, hidden, text, focused, visits = seen["refused"]
    assert visible and not hidden and focused and visits == 0
    assert "Elija el resultado de la visita" in text
    assert seen["chosen"] == ("4", True, True)
    [visit] = dlg.case.visits
    assert visit.result_code == "4" and visit.failed


def test_people_read_the_expediente_number(logged_in, qtbot, clock):
    from app.ui.review.case_dialog import CaseDialog
    from app.ui.review.constancia import constancia_html
    from app.ui.review.review_queue import ReviewQueuePage

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    _staff(ws)
    _as(ws, "emp")
    hh = households(1, seed=52)[0]
    req = _request(ws, hh, complete=True)
    ref = case_reference(req)
    fsu = ws.new_draft("fsu", from_uuid=req)
    from app.demo_answers import fsu_answers

    ws.save_answers(fsu, fsu_answers(hh))
    ws.complete(fsu)
    _as(ws, "sup")
    queue = ReviewQueuePage(ws)
    qtbot.addWidget(queue)
    queue.reload()
    qtbot.waitUntil(lambda: len(queue.model.rows) == 2, timeout=5000)
    col = queue.model.columns.index("Expediente")
    shown = {queue.model.index(r, col).data() for r in range(2)}
    assert shown == {ref}
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    assert ref in dlg.head.text() and req not in dlg.head.text()
    html = constancia_html(ws.documents.constancia(fsu))
    assert "N° de expediente" in html and ref in html
    assert fsu not in html and req not in html and "Código de la ficha" not in html


def test_a_desestimacion_row_says_desestimada(logged_in, qtbot, clock):
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws, page = logged_in.ws, logged_in.records_page
    _staff(ws)
    req = _request(ws, households(1, seed=53)[0])
    _as(ws, "sup")
    drop = ws.cases.drop(req, ws.cases.drop_reasons()[0])
    _as(ws, "admin")
    rows = _rows(page, qtbot, {req, drop})
    state = rows[drop].cells()[COLUMNS.index("Estado")]
    assert state == "Desestimada (por enviar)"
    _as(ws, "sup")
    reopen = ws.cases.reopen(req, "El hogar regresó")
    _as(ws, "admin")
    rows = _rows(page, qtbot, {reopen})
    assert rows[reopen].cells()[COLUMNS.index("Estado")] == "Reabierta (por enviar)"


def test_the_result_column_is_whole_at_1366x768(logged_in, qtbot, clock):
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    win, page = logged_in, logged_in.records_page
    ws = win.ws
    win.resize(1366, 768)
    win.show()
    _staff(ws)
    hhs = households(4, seed=54)
    with_result = _request(ws, hhs[0], complete=True)  # its CSE result
    post_result(ws, with_result, "pobre_extremo", "2026-11-19", "2029-11-19")
    req3 = _request(ws, hhs[2])
    visit = ws.cases.record_visit(req3, "2026-11-16", "09:30", "3", "2026-11-18")
    # an FSU the supervisor returned with a reason of everyday length
    _as(ws, "emp")
    req4 = _request(ws, hhs[3], complete=True)
    fsu = ws.new_draft("fsu", from_uuid=req4)
    from app.demo_answers import fsu_answers

    ws.save_answers(fsu, fsu_answers(hhs[3]))
    ws.complete(fsu)
    _as(ws, "sup")
    ws.review.return_record(fsu, "Revise la edad del integrante 3: no corresponde al nivel "
                                 "educativo declarado.")
    _as(ws, "admin")
    uuids = {with_result, req3, visit, req4, fsu}
    rows = _rows(page, qtbot, uuids)
    QApplication.processEvents()
    table, header = page.table, page.table.horizontalHeader()
    col = COLUMNS.index("Observación o resultado")
    text = rows[with_result].cells()[col]
    assert text.startswith("CSE: ") and "vigente hasta" in text
    need = table.fontMetrics().horizontalAdvance(text) + 8
    assert header.sectionSize(col) >= need, (header.sectionSize(col), need)
    right = header.sectionViewportPosition(col) + header.sectionSize(col)
    assert right <= table.viewport().width() + 1
    # no other column was cut below its title, and the row fits without scrolling
    for c in range(len(COLUMNS)):
        assert header.sectionSize(c) >= min(header.sectionSizeHint(c), 90), COLUMNS[c]
    assert header.length() <= table.viewport().width() + 1
    # a cell cut to fit tells its whole text in its tooltip
    i = next(i for i, r in enumerate(page.model.rows) if r.meta.uuid == visit)
    assert page.model.index(i, COLUMNS.index("Estado")).data(
        Qt.ItemDataRole.ToolTipRole).startswith("Visita fallida")


def test_the_review_queue_opens_on_its_first_row(logged_in, qtbot, clock):
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    _staff(ws)
    _as(ws, "emp")
    for hh in households(2, seed=55):
        _request(ws, hh, complete=True)
    _as(ws, "sup")
    logged_in.records_page.on_login()
    sup = logged_in.records_page.supervision.open_supervision()
    assert sup is not None and sup.tabs.currentWidget() is sup.queue
    queue = sup.queue
    qtbot.waitUntil(lambda: len(queue.model.rows) == 2, timeout=5000)
    qtbot.waitUntil(lambda: sup.focusWidget() is queue.table, timeout=3000)
    assert queue.table.currentIndex().row() == 0
    assert [it.uuid for it in queue.selected_items()] == [queue.model.rows[0].uuid]
    assert queue.open_btn.isEnabled()
    sup.close()


def test_a_list_load_cut_by_the_log_out_shows_nothing_to_the_next_user(logged_in, qtbot):
    """A list load still running when its user logs out fails («Inicie sesión»); when
    that failure arrives after the next user logged in, nobody is shown a box (it once
    popped over the next session and kept its windows from being activated: the
    practice-mode test failed after tests/ui/test_cases_window.py under load)."""
    from PySide6.QtWidgets import QMessageBox

    win, ws = logged_in, logged_in.ws
    page = win.records_page
    with ws.lock:  # the load waits for the workspace until the user has left
        page.reload()
        job = page.load_job
        win.logout()
    assert job.wait(10)  # failed in its thread: nobody was logged in
    assert job.error is not None and "Inicie sesión" in job.error.user_message
    # the next person logs in before the failure arrives (what the log-in page does once
    # the password is checked: the window enters their records screen)
    user = ws.login("admin", PASSWORDS["admin"])
    win._logged_in(user)
    QApplication.processEvents()
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes == []
