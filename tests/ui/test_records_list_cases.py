"""The records list shows the expediente (issue 15, new-clerk walk-through): a visit
attempt's row names the household of its request and says the visit's outcome, the
per-state counters count S100s and FSUs only, and every row of a case shows the
case's one CSE result (never two different ones). Real widgets, offscreen."""

from __future__ import annotations

import datetime as dt

from app.core.identifiers import mask_dni
from app.core.states import State
from app.demo import households
from app.demo_answers import s100_answers
from app.forms import bundled_form
from app.ui.common.record_list import district_name
from tests.review.helpers import post_result


def _request(ws, hh) -> str:
    return ws.new_record("s100", str(bundled_form("s100").version), s100_answers(hh))


def _rows(page, qtbot, uuids: set[str]) -> dict:
    page.reload()
    qtbot.waitUntil(lambda: uuids <= {r.meta.uuid for r in page.model.rows}, timeout=5000)
    return {r.meta.uuid: r for r in page.model.rows}


def test_failed_visit_row_names_the_household_and_is_not_counted(logged_in, qtbot, clock):
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws, page = logged_in.ws, logged_in.records_page
    hh = households(1, seed=31)[0]
    req = _request(ws, hh)
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", "2026-11-18")
    assert ws.get(visit).state == State.QUEUED.value  # a step of the case: not reviewed
    rows = _rows(page, qtbot, {req, visit})
    head, dni, district, form, state, _, _, case = rows[visit].cells()
    assert (head, dni, district) == tuple(rows[req].cells()[:3])
    assert dni == mask_dni(hh.head.dni) and dni != ""
    assert district == district_name(hh.ubigeo) and district != ""
    assert form == "Intento de visita"
    assert state == "Visita fallida: Ausente / no ubicado"
    assert case == "Visita fallida (volver a visitar)" == rows[req].case_label
    completes = sum(r.meta.state == State.COMPLETE.value and r.meta.form_id in ("s100", "fsu")
                    for r in page.model.rows)
    assert page.count_buttons[State.COMPLETE.value].text() == f"Completa: {completes}"


def test_every_row_of_a_case_shows_its_one_result(logged_in, qtbot, clock):
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws, page = logged_in.ws, logged_in.records_page
    hh = households(1, seed=32)[0]
    req = _request(ws, hh)
    ws.cases.record_visit(req, "2026-11-16", "10:00", "1")
    fsu = ws.new_draft("fsu", from_uuid=req)
    # Two results for one household (an older centre posted one per record).
    post_result(ws, req, "no_pobre", "2026-11-20", "2029-11-20")
    post_result(ws, fsu, "pobre_extremo", "2026-11-21", "2029-11-21")
    rows = _rows(page, qtbot, {req, fsu})
    texts = {rows[u].cells()[6] for u in (req, fsu)}
    assert len(texts) == 1, texts
    assert texts.pop().startswith("CSE: Pobre extremo")  # the newest result of the case


def test_expediente_column_says_failed_visit_after_an_fsu_draft(logged_in, qtbot, clock):
    """The clerk opened the FSU before going; nobody was home: the list says «Visita
    fallida», not «En revisión» (docs/process.md §3)."""
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws, page = logged_in.ws, logged_in.records_page
    req = _request(ws, households(1, seed=33)[0])
    fsu = ws.new_draft("fsu", from_uuid=req)
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", "2026-11-18")
    rows = _rows(page, qtbot, {req, fsu, visit})
    assert {rows[u].case_label for u in (req, fsu, visit)} == {
        "Visita fallida (volver a visitar)"}


def _select(page, uuid: str) -> None:
    from PySide6.QtCore import QItemSelectionModel

    i = next(i for i, r in enumerate(page.model.rows) if r.meta.uuid == uuid)
    page.table.selectionModel().setCurrentIndex(
        page.model.index(i, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)


def test_a_new_record_closed_is_the_one_selected_in_the_list(logged_in, qtbot, clock):
    """Walk-through: after closing a new S100 the list kept the previous household
    selected, and Ctrl+E opened the other household's expediente («Desestimar…»
    enabled). The record just closed is the one selected, the keyboard in the list;
    the same for an FSU made from the S100 (Ctrl+U)."""
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    win = logged_in
    ws, page = win.ws, win.records_page
    old, new = households(2, seed=33)
    before = _request(ws, old)
    ws.complete(before)
    _rows(page, qtbot, {before})
    _select(page, before)
    w = win.new_record("s100")
    assert w is not None
    w.session.set("/s100/solicitante/sol_num_doc", new.head.dni)
    with qtbot.waitSignal(w.closed, timeout=5000):
        w.close()
    qtbot.waitUntil(lambda: page.selected_row() is not None
                    and page.selected_row().meta.uuid == w.uuid, timeout=5000)
    assert page.selected_row().case_uuid == ws.cases.case_of(w.uuid) != ws.cases.case_of(before)
    qtbot.waitUntil(lambda: page.table.hasFocus(), timeout=3000)
    # a new FSU from the selected S100: closed, the FSU is the row selected
    req = _request(ws, new)
    ws.complete(req)
    _rows(page, qtbot, {req})
    _select(page, req)
    page.new_fsu_from_selected()
    fsu = next(u for u, f in win.forms.items() if f.fd.form_id == "fsu")
    with qtbot.waitSignal(win.forms[fsu].closed, timeout=5000):
        win.forms[fsu].close()
    qtbot.waitUntil(lambda: page.selected_row() is not None
                    and page.selected_row().meta.uuid == fsu, timeout=5000)
    assert page.selected_row().case_uuid == ws.cases.case_of(req)
    qtbot.waitUntil(lambda: page.table.hasFocus(), timeout=3000)
