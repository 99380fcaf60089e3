"""The window with `make run`'s local server: the program is handed the server's
address and a one-time code (`run --server --enroll-code`, as devtools/run.py does),
enrolls itself when the administrator logs in, and every user's sync still works
after both the server and the program restart (the server keeps one address)."""

from __future__ import annotations

import pytest

from app.cli.main import build_parser
from app.core.errors import SieeError
from devtools.devserver import LocalServer, enroll_code
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE, add_queued

EMP_PW = "clave-emp-1234"


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
