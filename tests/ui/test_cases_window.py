"""Issue 15 in the window (real widgets, offscreen): the expediente of a request —
an absent household recorded and its notice saved as a PDF without invented data,
the desestimación and reopening by the supervisor, and a reevaluación after 180
days refused on its question with a Spanish message."""

from __future__ import annotations

import datetime as dt
import unicodedata

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.cases import CaseState
from app.core.states import State
from app.demo import households
from app.demo_answers import s100_answers
from app.forms import bundled_form
from tests.review.helpers import post_result


def _request(ws, hh, **changes) -> str:
    fd = bundled_form("s100")
    return ws.new_record("s100", str(fd.version), {**s100_answers(hh), **changes})


def _select(page, qtbot, uuid: str) -> None:
    page.reload()
    qtbot.waitUntil(lambda: any(r.meta.uuid == uuid for r in page.model.rows), timeout=5000)
    i = next(i for i, r in enumerate(page.model.rows) if r.meta.uuid == uuid)
    page.table.selectRow(i)


def test_absent_household_notice_and_desestimacion_in_the_window(logged_in, qtbot, tmp_path,
                                                                 clock):
    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    win, page = logged_in, logged_in.records_page
    ws = win.ws
    hh = households(1, seed=21)[0]
    req = _request(ws, hh)
    _select(page, qtbot, req)
    assert page.selected_row().case_label == "Solicitud en registro"
    dlg = page.open_case()
    assert dlg is not None and dlg.case.case_uuid == req
    assert dlg.visit_btn.isEnabled() and not dlg.notice_btn.isEnabled()
    # The visit dialog offers the visit form's official results: the FSU's codes.
    from app.ui.review.case_dialog import VisitDialog

    vd = VisitDialog(dt.date(2026, 11, 16), dlg)
    qtbot.addWidget(vd)
    labels = [vd.result.itemText(i) for i in range(vd.result.count())]
    assert "4. Ausente / no ubicado" in labels
    assert "3. Rechazo / negativa de empadronamiento" in labels
    vd.result.setCurrentIndex(vd.result.findData("4"))
    values = vd.values()
    assert values["next_visit"] == "2026-11-18" and values["result"] == "4"
    visit = dlg.record_visit(**{**values, "time": "09:30"})
    assert visit is not None
    assert dlg.visits.rowCount() == 1 and dlg.visits.item(0, 3).text() == "Ausente / no ubicado"
    assert dlg.notice_btn.isEnabled()
    assert "Notificaciones de visita (N100)</b>: 1 emitida(s)" in dlg.checklist.text()
    assert "Visita fallida" in dlg.info.text()
    pdf = dlg.save_notice(tmp_path / "notificacion.pdf")
    assert pdf is not None and pdf.stat().st_size > 0
    raw = " ".join((p.extract_text() or "") for p in PdfReader(str(pdf)).pages)
    text = " ".join(unicodedata.normalize("NFKC", raw).split())  # ligatures, tabs
    assert "Notificación de visita" in text and "Ausente / no ubicado" in text
    assert hh.direccion in text  # the address of the S100 (its street and door number)
    assert "18/11/2026" in text and "16/11/2026 a las 09:30" in text
    assert "Municipalidad Provincial de Lima" in text
    for invented in ("Tipo de vivienda", "Integrantes", hh.head.dni):
        assert invented not in text  # only what was recorded
    # The admin (responsable of a small ULE) drops the request with a listed reason.
    assert dlg.drop_btn.isVisible() and dlg.drop_btn.isEnabled()
    assert dlg.drop(ws.cases.drop_reasons()[0], "Tres intentos.")
    assert dlg.case.state == CaseState.DROPPED and not dlg.visit_btn.isEnabled()
    assert "Desestimada" in dlg.info.text() and "sin plazo" in dlg.info.text()
    assert dlg.reopen_btn.isEnabled() and not dlg.drop_btn.isEnabled()
    qtbot.waitUntil(lambda: any(r.case_label == "Desestimado" for r in page.model.rows),
                    timeout=5000)
    # the request is the one ficha; the visit and the decision are steps of its case
    assert page.status.text() == ("1 ficha de 1 hogar (expediente), 1 desestimada · 1 visita · "
                                  "1 desestimación")
    assert dlg.reopen("El hogar volvió a la dirección.")
    assert dlg.case.state == CaseState.VISIT_FAILED
    dlg.close()


def test_reevaluation_after_180_days_is_refused_on_its_question(logged_in, qtbot, clock):
    clock.t = dt.datetime(2026, 1, 5, 10, 0).timestamp()
    win = logged_in
    ws = win.ws
    hh = households(1, seed=22)[0]
    first = _request(ws, hh)
    ws.settings.update(review_required=False)
    ws.complete(first)
    post_result(ws, first, "pobre", "2026-01-10", "2029-01-10")
    clock.t = dt.datetime(2026, 8, 3, 10, 0).timestamp()
    late = _request(ws, hh, **{"/s100/solicitud/tipo_solicitud": "2.6",
                               "/s100/solicitud/fecha_solicitud": "2026-08-03"})
    w = win.open_record(late)
    assert w is not None
    w.show()
    qtbot.waitExposed(w)
    before = w.width()
    screen = w.screen().availableGeometry().width()
    w.complete()
    qtbot.waitUntil(lambda: "no procede" in w.save_status.text(), timeout=10000)
    assert "180 días" in w.save_status.text() and "10/01/2026" in w.save_status.text()
    # The long refusal wraps in the status line: the window does not grow wider, so
    # «Completar» and «Cerrar» stay on the screen (it once grew to ~1990 px).
    QApplication.processEvents()
    assert w.width() <= before and w.frameGeometry().width() <= max(screen, before)
    lab = w.save_status
    assert lab.wordWrap() and lab.height() >= lab.heightForWidth(lab.width())  # all shown
    assert w.close_btn.geometry().right() <= w.centralWidget().width()
    assert ws.get(late).state == State.DRAFT
    w.close()


def test_d100_generated_as_pdf_and_tracked(logged_in, qtbot, tmp_path, clock):
    from app.ui.review.d100_page import D100Page

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    ws.settings.update(review_required=False)
    hh = households(2, seed=23)
    sent = _request(ws, hh[0])
    ws.complete(sent)  # approved on completion: sent to the outbox
    _request(ws, hh[1])  # still a draft: not in the D100
    page = D100Page(ws)
    qtbot.addWidget(page)
    pdf = page.generate(tmp_path / "d100.pdf")
    assert pdf is not None
    raw = " ".join((p.extract_text() or "") for p in PdfReader(str(pdf)).pages)
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    assert "Declaración jurada D100 N° 1" in text and hh[0].head.full_name in text
    assert hh[1].head.full_name not in text
    assert "Total de expedientes: 1" in text and "Alcalde o gerente autorizado" in text
    assert page.table.rowCount() == 1 and page.table.item(0, 3).text() == "Generada"
    assert page.mark("firmado") and page.table.item(0, 3).text() == "Firmada"
    assert page.mark("enviado") and page.table.item(0, 3).text() == "Enviada"
    assert page.table.item(0, 5).text() != ""


def _failed_visit(dlg, visit_date: str = "2026-11-16") -> str:
    visit = dlg.record_visit(visit_date, "09:30", "4", "2026-11-18", "")
    assert visit is not None
    dlg.visits.selectRow(0)
    return visit


def test_notice_button_writes_the_pdf(logged_in, qtbot, tmp_path, clock, monkeypatch):
    """The «Guardar notificación (PDF)…» button itself (its `clicked` flag once reached
    the path and the notice failed with a TypeError)."""
    from PySide6.QtWidgets import QFileDialog

    from app.ui.review.case_dialog import CaseDialog

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    req = _request(ws, households(1, seed=24)[0])
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    _failed_visit(dlg)
    assert dlg.notice_btn.isEnabled()
    target = tmp_path / "aviso"  # the extension is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    qtbot.mouseClick(dlg.notice_btn, Qt.MouseButton.LeftButton)
    pdf = tmp_path / "aviso.pdf"
    assert pdf.is_file()
    raw = " ".join((p.extract_text() or "") for p in PdfReader(str(pdf)).pages)
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    assert "Notificación de visita" in text and "Ausente / no ubicado" in text



def test_supervisor_drops_with_a_reason_chosen_by_keyboard(logged_in, qtbot, clock):
    """«Desestimar…» clicked by a supervisor shows the settings' reasons, none chosen; the
    second one is chosen with the arrow keys and the request is dropped with it;
    «Reabrir…» then asks for its reason (the buttons' `clicked` flag once took the place
    of the reason)."""
    from app.ui.review.case_dialog import CaseDialog, DropDialog, ReopenDialog
    from tests.review.conftest import PASSWORDS
    from tests.ui.modal import answer_modal

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    req = _request(ws, households(1, seed=25)[0])
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.logout()
    ws.login("sup", PASSWORDS["sup"])
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    dlg.show()
    reasons = ws.cases.drop_reasons()
    assert len(reasons) == 6 and dlg.drop_btn.isVisible() and dlg.drop_btn.isEnabled()
    seen: list[list[str]] = []

    def answer(dd: DropDialog) -> None:
        seen.append([dd.reason.itemText(i) for i in range(dd.reason.count())])
        dd.reason.setFocus()
        qtbot.keyClick(dd.reason, Qt.Key.Key_Down)  # the first reason
        qtbot.keyClick(dd.reason, Qt.Key.Key_Down)  # the second
        qtbot.keyClicks(dd.detail, "Tres intentos sin respuesta.")
        qtbot.keyClick(dd.detail, Qt.Key.Key_Return)

    answer_modal(DropDialog, answer)
    qtbot.mouseClick(dlg.drop_btn, Qt.MouseButton.LeftButton)
    assert seen == [reasons]
    assert dlg.case.state == CaseState.DROPPED
    [d] = dlg.case.decisions
    assert (d.action, d.reason, d.detail) == ("desestimar", reasons[1],
                                              "Tres intentos sin respuesta.")
    assert "Rosa Quispe" in dlg.info.text() and reasons[1] in dlg.info.text()

    def reopen_reason(box: ReopenDialog) -> None:
        qtbot.keyClicks(box.reason, "El hogar regreso.")
        qtbot.keyClick(box.reason, Qt.Key.Key_Return)

    answer_modal(ReopenDialog, reopen_reason)
    qtbot.mouseClick(dlg.reopen_btn, Qt.MouseButton.LeftButton)
    assert dlg.case.state != CaseState.DROPPED
    assert dlg.case.decisions[-1].reason == "El hogar regreso."


def test_checklist_in_the_window_says_the_fsu_is_a_draft(logged_in, qtbot, clock):
    """A draft FSU is not shown as «registrada» nor its constancia as ready."""
    from app.ui.review.case_dialog import CaseDialog

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    ws = logged_in.ws
    req = _request(ws, households(1, seed=26)[0])
    ws.cases.record_visit(req, "2026-11-16", "10:00", "1")
    ws.new_draft("fsu", from_uuid=req)
    dlg = CaseDialog(ws, req, logged_in)
    qtbot.addWidget(dlg)
    text = dlg.checklist.text()
    assert "✘ <b>Ficha socioeconómica (FSU)</b>: en borrador: falta completarla" in text
    assert "✘ <b>Constancia de empadronamiento</b>: se emite cuando la FSU esté completa" in text
    assert "registrada" not in text and "disponible para entregar" not in text
