"""What a new clerk found typing in the expediente's dialogs (keyboard only, under
Xvfb), on real widgets offscreen: a date typed in «Registrar visita…» is the date kept,
or «Registrar» refuses it with a Spanish message (a future date, a date before the
request); «Desestimar…» starts with no reason and requires one; «Reabrir…» with an
empty reason keeps its dialog open with the message and the focus on the reason."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from app.core.cases import CaseState
from app.demo import households
from app.demo_answers import s100_answers
from app.forms import bundled_form
from tests.ui.modal import answer_modal
from tests.ui.test_lists_and_expediente_walk import _as, _staff

TODAY = dt.datetime(2026, 12, 1, 10, 0)


def _request(ws, seed: int) -> str:
    """An S100 dated today (01/12/2026)."""
    answers = {**s100_answers(households(1, seed=seed)[0]),
               "/s100/solicitud/fecha_solicitud": TODAY.date().isoformat()}
    return ws.new_record("s100", str(bundled_form("s100").version), answers)


def _case_dialog(logged_in, qtbot, clock, seed: int, user: str, dropped: bool = False):
    """(workspace, request uuid, its expediente window shown) for a request of today
    registered by the empadronador, the window opened by `user`; `dropped`: the
    supervisor dropped it first."""
    from app.ui.review.case_dialog import CaseDialog

    clock.t = TODAY.timestamp()
    ws = logged_in.ws
    _staff(ws)
    _as(ws, "emp")
    req = _request(ws, seed)
    _as(ws, user)
    if dropped:
        ws.cases.drop(req, ws.cases.drop_reasons()[0])
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    dlg.show()
    return ws, req, dlg


def _type_date(qtbot, field, text: str) -> None:
    """What a clerk does: go to the field, select what it holds, type the date."""
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def test_a_typed_visit_date_is_kept_or_refused_never_changed(logged_in, qtbot, clock):
    from app.ui.review.case_dialog import VisitDialog

    ws, req, dlg = _case_dialog(logged_in, qtbot, clock, 61, "emp")
    assert dlg.case.request_date == TODAY.date()
    seen: dict = {}

    def answer(vd: VisitDialog) -> None:
        qtbot.keyClicks(vd.result, "4")
        for typed in ("30/11/2026", "03/12/2026", "05/12"):
            _type_date(qtbot, vd.date, typed)
            seen[typed + " shown"] = vd.date.text()
            qtbot.keyClick(vd.notes, Qt.Key.Key_Return)  # Enter: «Registrar»
            seen[typed] = (vd.isVisible(), vd.error.isHidden(), vd.error.text(),
                           vd.focusWidget() is vd.date, len(ws.cases.get(req).visits))
        _type_date(qtbot, vd.date, "01/12/2026")
        _type_date(qtbot, vd.next_visit, "28/11/2026")  # before the visit itself
        qtbot.keyClick(vd.notes, Qt.Key.Key_Return)
        seen["next"] = (vd.isVisible(), vd.error.text(), vd.focusWidget() is vd.next_visit)
        _type_date(qtbot, vd.next_visit, "03/12/2026")
        qtbot.keyClick(vd.notes, Qt.Key.Key_Return)

    answer_modal(VisitDialog, answer)
    qtbot.mouseClick(dlg.visit_btn, Qt.MouseButton.LeftButton)
    assert seen["30/11/2026 shown"] == "30/11/2026"  # the typed date, never 01/11/2026
    visible, hidden, text, focused, visits = seen["30/11/2026"]
    assert visible and not hidden and focused and visits == 0
    assert "anterior a la fecha de la solicitud" in text and "01/12/2026" in text
    for typed in ("03/12/2026", "05/12"):
        visible, hidden, text, focused, visits = seen[typed]
        assert visible and not hidden and focused and visits == 0, typed
    assert "posterior a hoy (01/12/2026)" in seen["03/12/2026"][2]
    assert "«05/12» no es una fecha completa" in seen["05/12"][2]  # the year is asked for
    visible, text, focused = seen["next"]
    assert visible and focused and "próximo intento" in text
    [visit] = dlg.case.visits
    assert (visit.date[:10], visit.next_visit[:10]) == ("2026-12-01", "2026-12-03")


def test_the_drop_reason_starts_empty_and_is_required(logged_in, qtbot, clock):
    from app.ui.review.case_dialog import DropDialog

    ws, req, dlg = _case_dialog(logged_in, qtbot, clock, 62, "sup")
    reasons = ws.cases.drop_reasons()
    seen: dict = {}

    def answer(dd: DropDialog) -> None:
        seen["start"] = (dd.reason.currentIndex(), dd.focusWidget() is dd.reason)
        qtbot.keyClick(dd.focusWidget(), Qt.Key.Key_Return)  # Enter at once
        seen["refused"] = (dd.isVisible(), dd.error.isHidden(), dd.error.text(),
                           dd.focusWidget() is dd.reason, ws.cases.get(req).dropped)
        qtbot.keyClick(dd.reason, Qt.Key.Key_Down)  # the first reason, by keyboard
        seen["chosen"] = (dd.reason.currentIndex(), dd.error.isHidden())
        qtbot.keyClick(dd.reason, Qt.Key.Key_Return)

    answer_modal(DropDialog, answer)
    qtbot.mouseClick(dlg.drop_btn, Qt.MouseButton.LeftButton)
    assert seen["start"] == (-1, True)
    visible, hidden, text, focused, dropped = seen["refused"]
    assert visible and not hidden and focused and not dropped
    assert "Elija el motivo" in text
    assert seen["chosen"] == (0, True)
    assert dlg.case.state == CaseState.DROPPED
    assert dlg.case.decisions[-1].reason == reasons[0]


def test_reopen_without_a_reason_keeps_its_dialog_open(logged_in, qtbot, clock):
    from app.ui.review.case_dialog import ReopenDialog

    ws, req, dlg = _case_dialog(logged_in, qtbot, clock, 63, "sup", dropped=True)
    seen: dict = {}

    def answer(rd: ReopenDialog) -> None:
        qtbot.keyClick(rd.reason, Qt.Key.Key_Return)  # empty: Enter
        seen["refused"] = (rd.isVisible(), rd.error.isHidden(), rd.error.text(),
                           rd.focusWidget() is rd.reason, ws.cases.get(req).dropped)
        qtbot.keyClicks(rd.reason, "El hogar volvio.")
        qtbot.keyClick(rd.reason, Qt.Key.Key_Return)

    answer_modal(ReopenDialog, answer)
    qtbot.mouseClick(dlg.reopen_btn, Qt.MouseButton.LeftButton)
    visible, hidden, text, focused, dropped = seen["refused"]
    assert visible and not hidden and focused and dropped
    assert "motivo" in text.lower()
    assert dlg.case.state != CaseState.DROPPED
    assert dlg.case.decisions[-1].reason == "El hogar volvio."


def test_the_d100_period_is_typed_as_kept_or_refused(logged_in, qtbot, clock, tmp_path):
    """The D100's «Desde» / «Hasta» are the same kind of date field: what is typed is
    the period asked for, and a period ending in the future or backwards is refused in
    the page (no D100 is generated)."""
    from app.ui.review.d100_page import D100Page

    clock.t = TODAY.timestamp()
    ws = logged_in.ws
    ws.settings.update(review_required=False)
    ws.complete(_request(ws, 64))  # approved on completion: sent today
    page = D100Page(ws)
    qtbot.addWidget(page)
    page.show()
    _type_date(qtbot, page.date_from, "30/11/2026")
    assert page.date_from.text() == "30/11/2026"
    _type_date(qtbot, page.date_to, "05/12/2026")
    assert page.generate(tmp_path / "a.pdf") is None and page.table.rowCount() == 0
    assert not page.error.isHidden() and "posterior a hoy" in page.error.text()
    _type_date(qtbot, page.date_to, "29/11/2026")
    assert page.generate(tmp_path / "b.pdf") is None
    assert "anterior a la fecha «Desde» (30/11/2026)" in page.error.text()
    _type_date(qtbot, page.date_to, "01/12/2026")
    assert page.generate(tmp_path / "c.pdf") is not None and page.error.isHidden()
    assert page.table.rowCount() == 1


def test_a_date_typed_after_the_old_one_is_refused_not_dropped(qtbot):
    """Typing without selecting first (a click into the field) adds to the text: the
    field keeps it and says it is not a date, instead of dropping the keys."""
    from app.ui.common.date_field import DateField

    field = DateField(TODAY.date(), "La fecha de la visita")
    qtbot.addWidget(field)
    field.setFocus()
    field.end(False)
    qtbot.keyClicks(field, "30/11/2026")
    assert field.text() == "01/12/202630/11/2026" and field.date() is None
    assert "no es una fecha completa" in (field.problem() or "")
    field.selectAll()
    qtbot.keyClicks(field, "30-11-2026")
    assert field.date() == dt.date(2026, 11, 30) and field.problem() is None


def test_a_date_that_does_not_exist_is_named_so(qtbot):
    """31/02/2026 is written in full: the message says it does not exist, not that it is
    incomplete."""
    from app.ui.common.date_field import DateField

    field = DateField(None, "La fecha de la visita")
    qtbot.addWidget(field)
    qtbot.keyClicks(field, "31/02/2026")
    assert field.date() is None
    assert "«31/02/2026» no existe en el calendario" in (field.problem() or "")
    field.selectAll()
    qtbot.keyClicks(field, "28/02/2026")
    assert field.problem() is None
