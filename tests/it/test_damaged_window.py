"""Issue 17, IT walk-through item 1: the window on a damaged laptop database says, in
Spanish and in the window, what happened and what to do (restore a backup: the
wizard's choice and the console command) — no traceback, no log-in screen, and not
one byte of the damaged files changed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.store.inspect import database_damage
from app.ui.common.worker import user_text
from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF, ROOT
from tests.sync.conftest import ULE, add_queued


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("siee-campo.db*"))}


def _header_overwritten(db: Path) -> None:
    with open(db, "r+b") as fh:
        fh.write(b"\x13" * 32768)


def _pages_garbled(db: Path) -> None:
    blob = bytearray(db.read_bytes())
    for i in range(4096 * 2, len(blob) - 4096, 4096):
        blob[i:i + 64] = b"\xff" * 64
    db.write_bytes(bytes(blob))


@pytest.fixture
def damaged(request, tmp_path: Path) -> Path:
    d = tmp_path / "datos"
    ws, _ = Workspace.create(d, "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)
    add_queued(ws, 30, seed=5)
    ws.close()  # checkpointed: the records are in the main file
    for extra in ("-wal", "-shm"):
        Path(str(d / "siee-campo.db") + extra).unlink(missing_ok=True)
    request.param(d / "siee-campo.db")
    return d


@pytest.mark.parametrize("damaged", [_header_overwritten, _pages_garbled], indirect=True)
def test_the_window_says_what_to_do_and_writes_nothing(damaged: Path, qtbot):
    from app.ui.shell.app_window import build

    assert database_damage(damaged)
    before = _fingerprint(damaged)
    win = build(damaged, {"kdf": FAST_KDF})
    qtbot.addWidget(win)
    win.start()
    box = win.damaged_box
    assert box is not None and box.isVisible()
    qtbot.addWidget(box)
    assert win.ws is None and win.login_page is None and not win.isVisible()
    said = box.text() + "\n" + box.informativeText()
    assert f"La base de datos de SIEE Campo de la carpeta {damaged} está dañada" in said
    assert "no cambió nada" in said
    assert "«Restaurar una copia de respaldo…»" in said
    assert "siee-campo restore ARCHIVO.sieebak --data CARPETA-NUEVA" in said
    assert f"siee-campo doctor --data {damaged}" in said
    assert "Error" not in said and "sqlite" not in said.lower()
    assert "Detalle técnico" in box.detailedText()
    assert _fingerprint(damaged) == before


def test_a_healthy_database_opens_as_usual(tmp_path: Path, qtbot):
    from app.ui.shell.app_window import build

    d = tmp_path / "datos"
    Workspace.create(d, "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)[0].close()
    assert database_damage(d) is None and database_damage(tmp_path / "nada") is None
    win = build(d, {"kdf": FAST_KDF})
    qtbot.addWidget(win)
    win.start()
    assert win.damaged_box is None and win.stack.currentWidget() is win.login_page
    win.close()


def test_damage_met_later_reads_the_same_in_any_message():
    text = user_text(sqlite3.DatabaseError("database disk image is malformed"))
    assert "está dañada" in text and "siee-campo restore" in text
    assert "malformed" not in text


def test_the_program_started_from_its_icon_shows_it(tmp_path: Path):
    """`siee-campo --data D` (what the launcher runs): the first window shown is the
    message, and no traceback reaches the console."""
    d = tmp_path / "datos"
    Workspace.create(d, "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)[0].close()
    for extra in ("-wal", "-shm"):
        Path(str(d / "siee-campo.db") + extra).unlink(missing_ok=True)
    _header_overwritten(d / "siee-campo.db")
    before = _fingerprint(d)
    env = {**os.environ, "SIEE_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, "-m", "app", "--data", str(d)], cwd=ROOT, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    assert "Traceback" not in p.stderr, p.stderr
    assert "window=QMessageBox" in p.stdout and "base de datos dañada" in p.stdout, p.stdout
    assert _fingerprint(d) == before
