"""The supervisor's screens follow the case (new-clerk walk-through), on real widgets
offscreen. A visit attempt is a step of its case, not a survey: the review queue offers
none, the records list and the dashboard do not count one as a «ficha», and a corrected
one says it went to the outbox. The forms of a dropped case read «Desestimada» in the
records list, leave the review queue, cannot be decided in the review window and no
longer make the dashboard's oldest unreviewed record, until the expediente reopens the
case."""

from __future__ import annotations

import datetime as dt

from app.core.cases import HELD
from app.ui.entry.form_window import FormWindow
from app.ui.review.case_dialog import CaseDialog
from app.ui.review.dashboard import DashboardPage
from app.ui.review.review_queue import ReviewQueuePage
from app.ui.review.review_view import ReviewWindow
from app.ui.shell.main_window import RecordsPage
from tests.review.conftest import homes, team  # noqa: F401 - the ULE team's fixtures
from tests.review.helpers import centre_returns

OLDEST = "Completa más antigua sin revisar"


def _monday(team) -> None:  # noqa: F811 - the fixture's value, passed in
    team.clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()


def _queue(ws, qtbot) -> ReviewQueuePage:
    page = ReviewQueuePage(ws)
    qtbot.addWidget(page)
    page.show()
    page.reload()
    qtbot.waitUntil(lambda: page.load_job.done and page.status.text() != "Cargando…")
    return page


def _records(ws, qtbot, n: int) -> RecordsPage:
    page = RecordsPage(ws)
    qtbot.addWidget(page)
    page.on_login()  # loads the list as the logged-in user
    qtbot.waitUntil(lambda: len(page.model.rows) == n, timeout=5000)
    return page


def test_visit_attempts_are_neither_reviewed_nor_counted_as_fichas(team, homes, qtbot):  # noqa: F811
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[0])
    ws.cases.record_visit(req, "2026-11-16", "09:30", "4", "2026-11-18")
    ws.cases.record_visit(req, "2026-11-16", "12:00", "3")
    ws = team.as_("sup")
    queue = _queue(ws, qtbot)
    assert [it.uuid for it in queue.model.rows] == [req]
    assert queue.status.text() == "1 ficha por revisar"
    offered = [queue.form_box.itemData(i) for i in range(queue.form_box.count())]
    assert offered == ["", "s100", "fsu"]  # no «Intento de visita» to filter by
    records = _records(ws, qtbot, 3)
    assert records.status.text() == "1 ficha de 1 hogar (expediente) · 2 visitas"
    # a long count wraps under the list: it never widens the window past a 1366 px screen
    records.status.setText("1234 fichas de 987 hogares (expedientes) · 456 visitas · "
                           "78 desestimaciones")
    assert records.minimumSizeHint().width() < 1000
    dash = DashboardPage(ws)
    qtbot.addWidget(dash)
    dash.reload()
    qtbot.waitUntil(lambda: dash.data is not None)
    assert dash.tiles["COMPLETE"].value.text() == "1"
    # the send queue: the two visits go with the next sync, as the list's counter says
    assert dash.tiles["QUEUED"].value.text() == "2"


def test_a_corrected_visit_says_it_went_to_the_outbox(team, homes, qtbot):  # noqa: F811
    """The centre returned a visit attempt; once corrected and completed in its window it
    is queued, and the window says so, not «queda para la revisión del supervisor»."""
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[2])
    visit = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", "2026-11-18")
    centre_returns(ws, visit, "La hora de la visita no es legible.")
    ws.reopen(visit)  # what the first save of the clerk's fix does: a new draft revision
    w = FormWindow(ws, visit)
    qtbot.addWidget(w)
    assert w.editable
    with qtbot.waitSignal(w.completed, timeout=10000):
        w.complete()
    assert ws.get(visit).state == "QUEUED"
    assert "cola de envío" in w.banner.text() and "revisión" not in w.banner.text()
    assert "En cola de envío" in w.state_label.text()


def test_a_dropped_case_reads_desestimada_until_it_is_reopened(team, homes, qtbot):  # noqa: F811
    _monday(team)
    ws = team.as_("emp")
    req = team.s100(homes[1])
    fsu = team.fsu(homes[1])
    ws = team.as_("sup")
    records = _records(ws, qtbot, 2)
    queue = _queue(ws, qtbot)
    assert {it.uuid for it in queue.model.rows} == {req, fsu}
    window = ReviewWindow(ws, fsu)
    qtbot.addWidget(window)
    assert window.approve_btn.isEnabled()

    case = CaseDialog(ws, req)
    qtbot.addWidget(case)
    assert case.drop(ws.cases.drop_reasons()[1], "Se negó en la segunda visita.")
    qtbot.waitUntil(lambda: len(records.model.rows) == 3, timeout=5000)
    rows = {r.meta.uuid: r for r in records.model.rows}
    for uuid in (req, fsu):
        cells = rows[uuid].cells()
        assert (cells[4], cells[7]) == ("Desestimada (sin revisar)", "Desestimado")
    # the counters say what the rows say: no «Completa» left, the two counted apart
    assert records.count_buttons["COMPLETE"].text() == "Completa: 0"
    assert records.status.text() == ("2 fichas de 1 hogar (expediente), 2 desestimadas · "
                                     "1 desestimación")
    qtbot.waitUntil(lambda: queue.model.rows == [] and queue.load_job.done)
    assert queue.status.text() == "0 fichas por revisar"
    assert not window.approve_btn.isEnabled() and not window.return_btn.isEnabled()
    assert window.note.isVisibleTo(window) and "desestimada" in window.note.text()
    window.approve()  # Ctrl+Enter on a disabled button does nothing either
    assert ws.get(fsu).state == "COMPLETE"
    dash = DashboardPage(ws)
    qtbot.addWidget(dash)
    dash.reload()
    qtbot.waitUntil(lambda: dash.data is not None)
    assert OLDEST not in dash.delivery.text()
    assert dash.tiles["COMPLETE"].value.text() == "0"
    assert dash.data.counts[HELD] == 2
    assert "2 fichas" in dash.tiles["dropped"].toolTip()

    assert case.reopen("El hogar aceptó la visita.")
    qtbot.waitUntil(lambda: {it.uuid for it in queue.model.rows} == {req, fsu}, timeout=5000)
    qtbot.waitUntil(lambda: {r.meta.uuid: r.cells()[4] for r in records.model.rows}.get(fsu)
                    == "Completa", timeout=5000)
    assert window.approve_btn.isEnabled() and not window.note.isVisibleTo(window)
    # a reopening is a decision, never a second «desestimación»
    qtbot.waitUntil(lambda: records.status.text() == (
        "2 fichas de 1 hogar (expediente) · 1 desestimación · 1 reapertura"), timeout=5000)
    assert records.count_buttons["COMPLETE"].text() == "Completa: 2"
    dash.reload()
    qtbot.waitUntil(lambda: OLDEST in dash.delivery.text())
