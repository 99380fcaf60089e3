"""The window with `make run`'s local server: the program is handed the server's
address and a one-time code (`run --server --enroll-code`, as devtools/run.py does),
enrolls itself when the administrator logs in, and every user's sync still works
after both the server and the program restart (the server keeps one address)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app.cli.main import build_parser
from app.core.errors import SieeError
from devtools.devserver import LocalServer, enroll_code, port_is_free
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE, add_queued

EMP_PW = "clave-emp-1234"
# Every wait of the restart test is bounded by this (ms); generous, because the
# machine is shared and earlier tests may still hold the global thread pool.
WAIT_MS = 60_000


@pytest.fixture
def window(qtbot, data_dir, clock):
    """A factory of started windows on `data_dir`, handed (url, code) like `make run`."""
    from app.ui.shell.app_window import build

    made = []

    def make(enrollment, ule=None):
        win = build(data_dir, {"kdf": FAST_KDF, "clock": clock}, enrollment=enrollment,
                    ule=ule)
        qtbot.addWidget(win)
        made.append(win)
        win.start()
        return win

    yield make
    for w in made:
        w.close()


def fixed_test_port() -> int:
    """A free port below the kernel's ephemeral range: no other program's outgoing
    connection can take it while the server is down between the two starts (a port
    from bind(0) can be, by any process on this shared machine)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    candidates = list(range(20000, min(low, 32768)))
    random.shuffle(candidates)
    for port in candidates[:200]:
        if port != 8741 and port_is_free(port):  # 8741: a developer's `make run`
            return port
    raise RuntimeError("no free test port below the ephemeral range")


class ModalGuard:
    """Closes any modal dialog or message box that opens during the test (a modal's
    own event loop would otherwise wait for a click forever, inside a waitUntil) and
    remembers its text, so the test fails saying what it was instead of hanging."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.sweep)
        self.timer.start()

    def sweep(self) -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QDialog) and w.isVisible() and w.isModal():
                text = w.text() if isinstance(w, QMessageBox) else w.windowTitle()
                self.seen.append(f"{type(w).__name__}: {text}")
                w.reject()

    def stop(self) -> None:
        self.timer.stop()
        self.sweep()


def settle(win, qtbot) -> None:
    """Log out and wait (bounded) until no sync or preparation job of this window runs,
    so no worker thread still uses the workspace when the window closes it."""
    ctl = win.sync_menu.ctl
    if win.ws is not None and win.ws.user is not None:
        win.logout()
    for job in (ctl.job, ctl.prep_job):
        if job is not None:
            assert job.wait(WAIT_MS / 1000), "a sync job did not end"
    qtbot.waitUntil(lambda: not ctl.running, timeout=WAIT_MS)


def log_in(win, username: str, password: str) -> None:
    win.login_page.user.setCurrentText(username)
    win.login_page.password.setText(password)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page


def test_window_enrolls_and_sees_the_whole_loop(window, ws_factory, tmp_path, qtbot):
    ws_factory(create=True).close()
    with LocalServer(tmp_path / "srv", centre_every_s=None, port=0) as srv:
        win = window((srv.url, enroll_code(srv.data_dir, ULE)))
        log_in(win, "admin", ADMIN_PW)
        ws, ctl = win.ws, win.sync_menu.ctl
        qtbot.waitUntil(lambda: ws.centre.device() is not None, timeout=15000)
        assert ws.centre.device().server_url == srv.url
        qtbot.waitUntil(lambda: not ctl.running and ctl.status and ctl.status.enrolled,
                        timeout=15000)
        uuids = add_queued(ws, 6, seed=701)
        ctl.sync_now()
        qtbot.waitUntil(lambda: not ctl.running and ws.centre.status().delivered == 6,
                        timeout=20000)
        assert srv.post_results() == 6
        ctl.sync_now()
        qtbot.waitUntil(lambda: not ctl.running and ws.centre.status().result == 6,
                        timeout=20000)
        assert ws.notes(uuids[0])["result"]["category"] in ("pobre_extremo", "pobre", "no_pobre")


def test_enumerator_syncs_after_server_and_program_restart(
        window, ws_factory, tmp_path, qtbot):
    """Issue 12 item 5: start, enroll, stop both, start both again, sync as an enumerator.

    Written so that it cannot hang: every wait is bounded (waitUntil timeouts, the
    server's own start and stop deadlines, job waits); a modal that opens is closed
    and fails the test with its text; the port is outside the ephemeral range; the
    first window's jobs end before it closes; the global thread pool has room for
    this test's jobs even when an earlier test left slow ones running."""
    pool = QThreadPool.globalInstance()
    threads = pool.maxThreadCount()
    pool.setMaxThreadCount(max(threads, 8))
    guard = ModalGuard()
    port = fixed_test_port()
    try:
        ws_factory(create=True).close()
        # first start: the administrator's log-in enrolls the laptop
        with LocalServer(tmp_path / "srv", centre_every_s=None, port=port) as srv:
            first_url = srv.url
            win = window((srv.url, enroll_code(srv.data_dir, ULE)))
            log_in(win, "admin", ADMIN_PW)
            ws, ctl = win.ws, win.sync_menu.ctl
            qtbot.waitUntil(lambda: guard.seen or ws.centre.device() is not None,
                            timeout=WAIT_MS)
            assert not guard.seen, guard.seen
            qtbot.waitUntil(lambda: not ctl.running and ctl.status and ctl.status.enrolled,
                            timeout=WAIT_MS)
            device = ws.centre.device().device_id
            ws.admin.add_user("emp", "empadronador", EMP_PW, "Juan Pérez", must_change=False)
            settle(win, qtbot)
            win.close()
        assert port_is_free(port)
        # both stopped; `make run` again: a new server process, a new program, a new code
        with LocalServer(tmp_path / "srv", centre_every_s=None, port=port) as srv:
            assert srv.url == first_url
            win = window((srv.url, enroll_code(srv.data_dir, ULE)))
            log_in(win, "emp", EMP_PW)  # an enumerator: may sync, may not enroll
            ws, ctl = win.ws, win.sync_menu.ctl
            assert ws.user.username == "emp"
            # the automatic first sync after log-in (if any) ends before the new work
            qtbot.waitUntil(lambda: not ctl.running, timeout=WAIT_MS)
            add_queued(ws, 3, seed=702)
            ctl.sync_now()  # «Sincronizar ahora»
            assert ctl.running
            qtbot.waitUntil(lambda: guard.seen or not ctl.running, timeout=WAIT_MS)
            assert not guard.seen, guard.seen
            st = ws.centre.status()
            assert st.delivered == 3 and st.pending == 0, (st, ws.centre.log(5))
            dev = ws.centre.device()
            assert (dev.device_id, dev.server_url) == (device, first_url)  # no new enrollment
            assert ctl.status.enrolled
            settle(win, qtbot)
    finally:
        guard.stop()
        pool.setMaxThreadCount(threads)
    assert not guard.seen, guard.seen


def test_run_takes_the_server_and_the_code_together(monkeypatch):
    from app.cli.main import _enrollment

    monkeypatch.delenv("SIEE_ENROLL_CODE", raising=False)
    args = build_parser().parse_args(["run", "--server", "http://127.0.0.1:8741"])
    with pytest.raises(SieeError) as e:
        _enrollment(args)
    assert "--enroll-code" in e.value.user_message
    monkeypatch.setenv("SIEE_ENROLL_CODE", "ABCD-EFGH-JKLM")
    args = build_parser().parse_args(["run", "--server", "http://127.0.0.1:8741/"])
    assert _enrollment(args) == ("http://127.0.0.1:8741", "ABCD-EFGH-JKLM")
    args = build_parser().parse_args(["run", "--server", "http://siee.example.pe",
                                      "--enroll-code", "X"])
    with pytest.raises(SieeError):  # plain http only to this computer
        _enrollment(args)
    monkeypatch.delenv("SIEE_ENROLL_CODE")
    assert _enrollment(build_parser().parse_args(["run"])) is None


def test_a_new_laptop_sees_the_address_and_code_in_the_wizard(window, data_dir):
    win = window(("http://127.0.0.1:8741", "ABCD-EFGH-JKLM"), ule="080101")
    wiz = win.wizard
    assert wiz is not None and wiz.isVisible()
    assert wiz.server_page.url.text() == "http://127.0.0.1:8741"
    assert wiz.server_page.code.text() == "ABCD-EFGH-JKLM"
    assert wiz.ubigeo_page.picker.value() == "080101"
    assert not data_dir.exists() or not any(data_dir.iterdir())  # nothing created yet
