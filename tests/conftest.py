"""Shared fixtures. Real SQLite files in tmp folders; scrypt cost lowered for
speed in most tests (the production cost is exercised in tests/store/test_vault.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.store.crypto import KdfParams  # noqa: E402

FAST_KDF = KdfParams(n=2**10, r=8, p=1)
ADMIN_PW = "clave-admin-123"


class Clock:
    """A controllable wall clock for lock-out and timestamps."""

    def __init__(self, t: float = 1_790_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 0.001
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "datos"


@pytest.fixture
def ws_factory(data_dir: Path, clock: Clock):
    """Create (once) and reopen workspaces on the same data folder."""
    from app.workspace import Workspace

    opened: list[Workspace] = []

    def make(hooks=None, create: bool = False):
        if create:
            ws, code = Workspace.create(
                data_dir,
                "admin",
                ADMIN_PW,
                ule_ubigeo="150101",
                kdf=FAST_KDF,
                clock=clock,
                hooks=hooks,
            )
            ws.recovery_code = code  # type: ignore[attr-defined]
        else:
            ws = Workspace.open(data_dir, kdf=FAST_KDF, clock=clock, hooks=hooks)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        try:
            ws.close()
        except Exception:
            pass


def qt_windows() -> set[int]:
    """The C++ addresses of the application's top-level widgets now (see end_windows)."""
    from PySide6.QtWidgets import QApplication
    from shiboken6 import getCppPointer

    return {getCppPointer(w)[0] for w in QApplication.topLevelWidgets()}


def end_windows(before: set[int]) -> None:
    """After a window test: close what it left open, let its background jobs deliver,
    then delete every top-level widget it made (`before`: qt_windows() at its start).

    A window closed but not deleted stays alive for the rest of the process (the
    application-wide change broadcaster, app.ui.common.changes, holds each subscribed
    screen), and a shown-then-closed form window left alive made the next test's
    windows fail to become active under load: tests/practice/test_practice_ui.py
    failed after tests/ui/test_cases_window.py in the same run."""
    from PySide6.QtCore import QEvent, QThreadPool
    from PySide6.QtWidgets import QApplication
    from shiboken6 import getCppPointer, isValid

    for w in QApplication.topLevelWidgets():
        if w.isVisible():
            w.close()
    QThreadPool.globalInstance().waitForDone(30_000)
    QApplication.processEvents()  # results of finished jobs reach their screens
    for w in QApplication.topLevelWidgets():
        if isValid(w) and getCppPointer(w)[0] not in before:
            w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QApplication.processEvents()
