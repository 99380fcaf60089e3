"""A visit attempt is a step of its case, not a survey (new-clerk walk-through), on real
widgets offscreen: the review queue offers none, the records list and the dashboard do
not count one as a «ficha», and a corrected one says it went to the outbox."""

from __future__ import annotations

import datetime as dt

from app.ui.entry.form_window import FormWindow
from app.ui.review.dashboard import DashboardPage
from app.ui.review.review_queue import ReviewQueuePage
from app.ui.shell.main_window import RecordsPage
from tests.review.conftest import homes, team  # noqa: F401 - the ULE team's fixtures
from tests.review.helpers import centre_returns


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
    assert records.status.text() == "1 ficha de 1 hogar (expediente) · 2 intentos de visita"
    dash = DashboardPage(ws)
    qtbot.addWidget(dash)
    dash.reload()
    qtbot.waitUntil(lambda: dash.data is not None)
    assert dash.tiles["COMPLETE"].value.text() == "1"
    assert dash.tiles["QUEUED"].value.text() == "0"


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
