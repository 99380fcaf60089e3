"""Fixtures for the window tests: the real shell over a temp data folder, fast scrypt."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PW, FAST_KDF
from tests.ui.hooks import form_hooks


@pytest.fixture
def shell(qtbot, data_dir: Path, clock):
    """A factory for the application window on `data_dir` (not yet started)."""
    from app.ui.app_window import build

    made = []

    def make(autolock_ms: int | None = None):
        kw = {"kdf": FAST_KDF, "clock": clock, "hooks": form_hooks()}
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
    ws = ws_factory(hooks=form_hooks(), create=True)
    ws.close()
    win = shell()
    win.start()
    win.login_page.user.setCurrentText("admin")
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    return win
