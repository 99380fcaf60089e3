"""Fixtures for the window tests: the real shell over a temp data folder, fast scrypt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PW, FAST_KDF, end_windows, qt_windows


@pytest.fixture(autouse=True)
def _close_stray_windows(qapp):
    """A message box or window a test leaves open, or closed but alive, must not leak
    into the next test (tests.conftest.end_windows)."""
    before = qt_windows()
    yield
    end_windows(before)


@pytest.fixture
def shell(qtbot, data_dir: Path, clock):
    """A factory for the application window on `data_dir` (not yet started)."""
    from app.ui.shell.app_window import build

    made = []

    def make(autolock_ms: int | None = None):
        kw = {"kdf": FAST_KDF, "clock": clock}
        win = build(data_dir, kw, autolock_ms=autolock_ms)
        qtbot.addWidget(win)
        made.append(win)
        return win

    yield make
    for w in made:
        w.close()


@pytest.fixture
def logged_in(shell, ws_factory):
    """A started window on a created workspace, admin logged in on the records screen."""
    ws = ws_factory(create=True)
    ws.close()
    win = shell()
    win.start()
    win.login_page.user.setCurrentText("admin")
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    return win
