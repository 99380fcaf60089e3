"""The sync menu, panel, indicator, enrollment dialog and USB actions in the real
window, against the real server on loopback."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QLabel

from app.sync.protocol import key_fingerprint
from app.ui.common.wording import QUEUE_TIP
from server.cli import import_batch
from server.testing import running_server
from tests.review.conftest import PASSWORDS
from tests.sync.conftest import ULE, add_queued, assert_exactly_once


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv


def test_sync_in_the_window(logged_in, server, qtbot, tmp_path):
    win = logged_in
    sm = win.sync_menu
    ctl = sm.ctl
    ctl.auto = False  # driven by hand first; the timer is tested at the end
    ws = win.ws
    assert sm.menu_action.isVisible() and sm.enroll_action.isVisible()
    assert "Sin inscribir" in sm.indicator.text()

    dlg = sm.open_enroll()
    dlg.url.setText(server.url)
    dlg.code.setText("MAL0-MAL0-MAL0")
    dlg.submit()
    qtbot.waitUntil(lambda: "código" in dlg.message.text(), timeout=10000)
    dlg.code.setText(server.admin.enroll_code(ULE))
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result_info is not None, timeout=10000)
    assert "huella de la clave del servidor" in dlg.message.text()
    assert dlg.fingerprint.text() == key_fingerprint(server.signing_public)
    dlg.close()

    uuids = add_queued(ws, 30, seed=601)
    ctl.refresh()
    panel = sm.open_panel()
    assert panel.counts["pending"].text() == "30"
    seen = []
    ctl.progressed.connect(seen.append)
    ctl.sync_now()
    assert ctl.running and not panel.now_btn.isEnabled() and panel.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: not ctl.running, timeout=20000)
    assert_exactly_once(server, ws, uuids)
    # the counts refresh on the GUI thread just after the sync ends
    qtbot.waitUntil(lambda: panel.counts["delivered_forms"].text() == "30", timeout=5000)
    assert panel.counts["pending"].text() == "0"
    assert panel.bar.value() == panel.bar.maximum() == 30
    assert "enviados" in panel.bytes.text()
    assert any(p.phase == "send" and p.bytes_done for p in seen)
    assert "Se enviaron 30 registros." in panel.log.item(0).text()
    assert sm.indicator.text().startswith("0 registros en cola de envío")
    assert "nunca" not in sm.indicator.text()
    assert "Se enviaron 30 registros." in win.statusBar().currentMessage()

    # USB: export, the centre imports, the receipt comes back.
    more = add_queued(ws, 4, seed=602)
    got: list = []
    ctl.export_to(tmp_path, on_done=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    (batch,) = got[0]
    assert import_batch(server.admin.service, batch, None) == 0
    receipt = next(tmp_path.glob("siee-receipt-*.json"))
    lines: list = []
    ctl.import_files([receipt, receipt], on_done=lines.append)
    qtbot.waitUntil(lambda: bool(lines), timeout=10000)
    assert "Se enviaron 4 registros" in lines[0][0] and "no cambió nada" in lines[0][1]
    assert panel.counts["delivered_forms"].text() == "34"

    # The timer syncs by itself when it is due (here: the centre returned a record).
    server.admin.return_record(uuids[0], None, ["Falta la firma"])
    ctl.auto = True
    ctl.policy.next_at = 0.0
    qtbot.waitUntil(lambda: panel.counts["returned"].text() == "1", timeout=20000)
    assert ws.notes(uuids[0])["returns"][-1]["reason"] == "Falta la firma."
    assert_exactly_once(server, ws, uuids[1:] + more)

    win.logout()
    assert not sm.indicator.isVisible() and not sm.menu_action.isVisible()
    assert not ctl.timer.isActive()


def test_idle_window_prepares_queued_records(logged_in, server, qtbot):
    win = logged_in
    ctl = win.sync_menu.ctl
    ws = win.ws
    ctl.auto = False

    ws.centre.client().enroll(server.url, server.admin.enroll_code(ULE))
    add_queued(ws, 5, seed=603)
    ctl.refresh()
    ctl.policy.on_success(time.monotonic())  # next sync far away
    ctl.auto = True

    def prepared() -> int:
        return ws.db.execute("SELECT COUNT(*) FROM sync_submissions").fetchone()[0]

    qtbot.waitUntil(lambda: prepared() == 5, timeout=10000)
    assert ws.centre.status().pending == 5  # prepared, not sent yet
    ctl.sync_now()
    qtbot.waitUntil(lambda: not ctl.running and ws.centre.status().delivered == 5,
                    timeout=20000)
    assert prepared() == 0


def test_indicator_counts_down_while_offline(logged_in, qtbot):
    from app.sync.model import NetworkError

    win = logged_in
    ctl = win.sync_menu.ctl
    ctl.auto = False
    ctl.refresh()
    ctl.policy.on_failure(time.monotonic(), NetworkError("down"))
    ctl.policy.next_at = time.monotonic() + 50
    ctl.tick()
    text = win.sync_menu.indicator.text()
    # Not enrolled wins over the countdown; once enrolled the countdown shows.
    assert "Sin inscribir" in text
    ctl.status = type(ctl.status)(**{**ctl.status.__dict__, "enrolled": True})
    ctl.tick()
    assert "Sin conexión — reintento en" in win.sync_menu.indicator.text()


def test_one_queue_figure_in_the_list_the_status_bar_and_the_panel(logged_in, server, qtbot,
                                                                  clock):
    """A new clerk saw «En cola de envío: 0» above the list and «1 en cola» in the status
    bar at the same moment: the list's counter counted its own rows (S100s and FSUs the
    user may see), the status bar the laptop's send queue (a desestimación, visits,
    other users' records go too). Now the three say the one figure the next sync sends,
    read from one status, in words a clerk reads: «registros en cola de envío», since the
queue holds steps of a case (a visit, a desestimación) that are not «fichas». What waits
for a CSE result counts only the household's forms: a step never gets one."""
    import datetime as dt

    from app.core.states import State
    from app.demo import households
    from app.demo_answers import s100_answers
    from app.forms import bundled_form

    clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    win = logged_in
    page, sm = win.records_page, win.sync_menu
    ctl, ws = sm.ctl, win.ws
    ctl.auto = False
    ws.centre.client().enroll(server.url, server.admin.enroll_code(ULE))
    req = ws.new_record("s100", str(bundled_form("s100").version),
                        s100_answers(households(1, seed=604)[0]))
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    page.table.selectRow(0)
    dlg = page.open_case()
    assert dlg.case.case_uuid == req
    assert dlg.drop(ws.cases.drop_reasons()[0])  # straight to the send queue
    panel = sm.open_panel()
    queued = page.count_buttons[State.QUEUED.value]

    def shown() -> tuple[str, str, str]:
        return queued.text(), sm.indicator.text(), panel.counts["pending"].text()

    qtbot.waitUntil(lambda: shown()[0] == "En cola de envío: 1", timeout=5000)
    assert ws.centre.status().pending == 1
    assert shown()[1].startswith("1 registro en cola de envío · última sincronización")
    assert shown()[2] == "1"
    [name] = [w for w in panel.findChildren(QLabel) if w.text() == "Registros en cola de envío:"]
    assert name.toolTip() == panel.counts["pending"].toolTip() == QUEUE_TIP
    assert "próxima sincronización" in queued.toolTip()
    # two FSUs approved elsewhere (the store written directly): one figure again
    add_queued(ws, 2, seed=605)
    ctl.refresh()
    button, indicator, count = shown()
    assert (button, count) == ("En cola de envío: 3", "3")
    assert indicator.startswith("3 registros en cola de envío")
    # an empadronador lists only their own records, and the next sync sends all three
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez",
                      must_change=False)
    dlg.close()
    win.logout()
    win.login_page.user.setCurrentText("emp")
    win.login_page.password.setText(PASSWORDS["emp"])
    win.login_page.submit()
    assert win.stack.currentWidget() is page and ws.user.username == "emp"
    qtbot.waitUntil(lambda: page.table_area.showing_note, timeout=5000)  # none of theirs
    assert page.model.rowCount() == 0
    note = page.table_area.note.text()  # the laptop holds fichas: it says they have none
    assert "no hay fichas en este equipo" not in note and "Usted todavía no tiene" in note
    panel = sm.open_panel()  # the window closed the administrator's at log-out
    button, indicator, count = shown()
    assert (button, count) == ("En cola de envío: 3", "3")
    assert indicator.startswith("3 registros en cola de envío")
    ctl.sync_now()
    qtbot.waitUntil(lambda: not ctl.running, timeout=20000)
    qtbot.waitUntil(lambda: shown()[0] == "En cola de envío: 0", timeout=5000)
    assert shown()[1].startswith("0 registros en cola de envío") and shown()[2] == "0"
    # delivered: the desestimación and two FSUs; only the two FSUs can get a result
    st = ws.centre.status()
    assert (st.delivered, st.delivered_forms) == (3, 2)
    assert panel.counts["delivered_forms"].text() == "2"
    assert panel.awaiting.text().startswith("2 fichas entregadas esperan su resultado")
    assert "Se enviaron 3 registros" in " ".join(
        panel.log.item(i).text() for i in range(panel.log.count()))
