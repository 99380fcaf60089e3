"""Fixtures of the practice-mode tests: real practice workspaces in tmp folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PW, FAST_KDF

ULE = "150101"
TRAINEE_PW = "clave-alumno-123"


@pytest.fixture
def practice_ws(tmp_path: Path):
    """A practice workspace, its instructor (admin) logged in."""
    from app.workspace import Workspace
    from app.workspace.practice import practice_dir

    w, _code = Workspace.create(practice_dir(tmp_path / "campo"), "instructor", ADMIN_PW,
                                ule_ubigeo=ULE, kdf=FAST_KDF, practice=True)
    yield w
    try:
        w.close()
    except Exception:  # noqa: BLE001 - the test closed it already
        pass


def as_user(ws, username: str, role: str, password: str = TRAINEE_PW):
    """Add `username` (as the logged-in admin) and log in as them."""
    ws.admin.add_user(username, role, password, display_name=username.title(), must_change=False)
    ws.logout()
    ws.login(username, password)
    return ws
