"""Results come a sync later (issue 16 item 8), in the real window against the real
local server on loopback: the person is told what to expect, the results of one
sync are counted in one line («Llegaron 2 resultados», never «Llegó 1 resultado»
twice), and the progress bar of a finished or unfinished sync never reads like a
finished «0 de 1 fichas»."""

from __future__ import annotations

import re

from devtools.devserver import LocalServer, enroll_code
from tests.sync.conftest import ULE, add_queued

NOT_DONE = re.compile(r"^0 de \d")


def _sync(qtbot, ctl) -> None:
    ctl.sync_now()
    assert ctl.running
    qtbot.waitUntil(lambda: not ctl.running, timeout=20000)


def test_results_arrive_later_and_are_counted_once(logged_in, qtbot, tmp_path):
    win = logged_in
    sm, ws = win.sync_menu, win.ws
    ctl = sm.ctl
    ctl.auto = False
    panel = sm.open_panel()
    assert panel.bar.text() == "Sin envíos en curso"
    with LocalServer(tmp_path / "srv", centre_every_s=None, port=0) as srv:
        ws.centre.client().enroll(srv.url, enroll_code(srv.data_dir, ULE))
        ctl.refresh()
        add_queued(ws, 2, seed=811)
        ctl.refresh()

        # 1. two records go; the person learns that results come later
        _sync(qtbot, ctl)
        msg = win.statusBar().currentMessage()
        assert "Se enviaron 2 registros." in msg
        assert "los resultados de la cse llegan cuando el siee los publica" in msg.lower()
        assert panel.bar.text() == "Listo: 2 registros enviados"
        assert panel.bar.value() == panel.bar.maximum() == 2
        qtbot.waitUntil(lambda: panel.counts["delivered_forms"].text() == "2", timeout=5000)
        assert panel.awaiting.isVisible()
        assert "2 fichas entregadas esperan su resultado" in panel.awaiting.text()

        # 2. at once again: nothing new, and the bar does not say «0 de 2»
        _sync(qtbot, ctl)
        assert not NOT_DONE.match(panel.bar.text()), panel.bar.text()
        assert panel.bar.text() == "Listo: no había registros por enviar"
        msg = win.statusBar().currentMessage()
        assert msg.startswith("Sin novedades del SIEE. 2 fichas entregadas esperan su resultado")
        assert "los resultados llegan cuando el SIEE los publica" in msg

        # 3. the centre publishes both results: one line counts them
        assert srv.post_results() == 2
        _sync(qtbot, ctl)
        msg = win.statusBar().currentMessage()
        assert "Llegaron 2 resultados de clasificación socioeconómica (CSE)." in msg
        assert "Llegó 1 resultado" not in msg
        log_lines = [panel.log.item(i).text() for i in range(panel.log.count())]
        assert sum("resultado" in line and "Llegaron" in line for line in log_lines) == 1
        assert not any("Llegó 1 resultado" in line for line in log_lines)
        assert panel.counts["result"].text() == "2"
        assert panel.awaiting.text() == "" and not panel.awaiting.isVisible()
        # the records screen shows them without a manual reload (the change broadcast)
        qtbot.waitUntil(lambda: "Con resultado: 2" in " ".join(
            b.text() for b in win.records_page.count_buttons.values()), timeout=5000)

    # 4. the server is gone: the bar says the sync did not finish, not «0 de …»
    add_queued(ws, 1, seed=812)
    ctl.refresh()
    _sync(qtbot, ctl)
    assert panel.bar.text().startswith("Sin terminar: no se envió nada"), panel.bar.text()
    assert not NOT_DONE.match(panel.bar.text())
