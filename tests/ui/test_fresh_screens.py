"""Every visible screen shows the new truth (issue 16 item 9): an approval made in
the review queue reaches the dashboard shown beside it and the sync counts; a new
record reaches the list under its form window; a search or filter without a match,
and an empty queue, say so instead of showing an empty table; the set-up notice
never stays beside a wrong-password error."""

from __future__ import annotations

import pytest

from app.core.states import State
from app.demo import households
from app.ui.admin.audit_view import AuditPage
from tests.review.conftest import PASSWORDS, Team


@pytest.fixture
def team(ws_factory, clock) -> Team:
    ws = ws_factory(create=True)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    return Team(ws, clock)


def _window_as(shell, team: Team, username: str):
    team.ws.logout()
    win = shell()
    win.start()
    win.login_page.user.setCurrentText(username)
    win.login_page.password.setText(PASSWORDS[username])
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    return win


def test_an_approval_reaches_every_open_screen(team, shell, qtbot):
    team.as_("emp")
    uuid = team.fsu(households(1, seed=21)[0])
    win = _window_as(shell, team, "sup")
    ctl = win.sync_menu.ctl
    ctl.auto = False
    panel = win.sync_menu.open_panel()
    assert panel.counts["pending"].text() == "0"
    sup = win.records_page.supervision.open_supervision()
    dash = sup.dashboard
    sup.show_tab(dash)
    qtbot.waitUntil(lambda: dash.tiles[State.COMPLETE.value].value.text() == "1", timeout=10000)
    # the dashboard stays in front; the approval is made from the queue's code path
    queue = sup.queue
    queue.reload()
    qtbot.waitUntil(lambda: queue.model.rowCount() == 1, timeout=10000)
    job = queue.approve([uuid])
    qtbot.waitUntil(lambda: job.done and queue.approve_job is None, timeout=20000)
    assert win.ws.get(uuid).state == State.QUEUED.value
    qtbot.waitUntil(lambda: dash.tiles[State.QUEUED.value].value.text() == "1", timeout=10000)
    assert dash.tiles[State.COMPLETE.value].value.text() == "0"
    qtbot.waitUntil(lambda: panel.counts["pending"].text() == "1", timeout=5000)
    # the records list under the supervision window follows too
    qtbot.waitUntil(lambda: "En cola de envío: 1" in " ".join(
        b.text() for b in win.records_page.count_buttons.values()), timeout=10000)
    # the queue is now empty: it says so, with what to expect
    qtbot.waitUntil(lambda: queue.table_area.showing_note, timeout=10000)
    assert "No hay fichas por revisar" in queue.table_area.note.text()


def test_a_new_record_reaches_the_list_under_its_form_window(team, shell, qtbot):
    win = _window_as(shell, team, "emp")
    page = win.records_page
    qtbot.waitUntil(lambda: page.table_area.showing_note, timeout=10000)
    assert page.model.rowCount() == 0
    assert "Nueva S100" in page.table_area.note.text()
    form = win.new_record("s100")
    assert form is not None and form.isVisible()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    assert not page.table_area.showing_note
    form.close()


def test_searches_and_filters_without_a_match_say_so(team, shell, qtbot):
    team.as_("emp")
    team.fsu(households(1, seed=22)[0])
    win = _window_as(shell, team, "emp")
    page = win.records_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    assert not page.table_area.showing_note and page.table.isVisible()
    page.dni.setText("45871236")
    page.search_dni()
    qtbot.waitUntil(lambda: page.table_area.showing_note, timeout=10000)
    assert "Ninguna ficha con el DNI 45871236" in page.table_area.note.text()
    assert not page.table.isVisible() and page.table_area.note.isVisible()
    page.clear_filters()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    assert page.table.isVisible()
    page.set_state_filter(State.RESULT.value)
    qtbot.waitUntil(lambda: page.table_area.showing_note, timeout=10000)
    assert "Ninguna ficha en estado «Con resultado»" in page.table_area.note.text()
    assert "Limpiar" in page.table_area.note.text()


def test_the_audit_page_says_when_nothing_matches(team, qtbot):
    ws = team.as_("admin")
    page = AuditPage(ws)
    qtbot.addWidget(page)
    page.show()
    page.record.setText("no-existe")
    page.reload()
    qtbot.waitUntil(lambda: page.load_job.done and page.table_area.showing_note,
                    timeout=10000)
    assert "Ningún registro" in page.table_area.note.text()


def test_the_set_up_notice_leaves_when_the_password_is_wrong(team, shell):
    team.ws.logout()
    win = shell()
    win.start()
    win.show_login("admin", "Configuración terminada. Ingrese con la contraseña que acaba "
                   "de crear.")
    page = win.login_page
    assert page.notice.isVisibleTo(win)
    page.password.setText("equivocada")
    page.submit()
    assert "incorrectos" in page.message.text()
    assert not page.notice.isVisibleTo(win)


def test_an_open_read_only_record_follows_its_state(team, qtbot):
    from app.ui.common.changes import RECORDS, REVIEW, SYNC, broadcast
    from app.ui.entry.form_window import FormWindow
    from tests.review.helpers import post_result

    team.as_("emp")
    uuid = team.fsu(households(1, seed=23)[0])
    ws = team.as_("sup")
    ws.review.approve(uuid)
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    assert not w.editable and "«En cola de envío»: solo lectura" in w.banner.text()
    post_result(ws, uuid, "no_pobre", "2026-11-25", "2029-11-25")
    broadcast({SYNC, RECORDS, REVIEW})  # what a sync says when it brought something
    assert "Resultado del SIEE" in w.banner.text()
    assert w.state_label.text() == "Estado: Con resultado"
    assert w.banner.objectName() == "ok"
    w.close()
