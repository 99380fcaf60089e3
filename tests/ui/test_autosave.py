"""Every committed answer survives: a killed process (SIGKILL mid-form) and a
closed window lose at most the keystrokes of the field being typed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.ui.entry.form_window import FormWindow, create_record
from bench.entry import HOGAR, UBICACION, VIVIENDA

ROOT = Path(__file__).resolve().parents[2]


def test_answers_survive_sigkill(ws_factory, data_dir):
    ws = ws_factory(create=True)
    uuid = create_record(ws, "fsu")
    ws.close()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.autosave_child", str(data_dir), uuid],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    durable: dict[str, str] = {}
    typing = None
    try:
        assert child.stdout is not None
        for line in child.stdout:
            kind, path, *value = line.rstrip("\n").split(" ", 2)
            if kind == "DURABLE":
                durable[path] = value[0] if value else ""
            elif kind == "TYPING":
                typing = path
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert typing == "/fsu/hogar/num_personas"
    # every answer the child typed before the last field (bench/entry.py's script)
    assert len(durable) == sum(1 for _, text in [*UBICACION, *VIVIENDA, *HOGAR[:-1]] if text)
    assert len(durable) == 27
    ws = ws_factory()
    ws.login("admin", "clave-admin-123")
    stored = ws.load_answers(uuid)["answers"]
    missing = {p: v for p, v in durable.items() if stored.get(p) != v}
    assert not missing
    assert stored["/fsu/ubicacion/referencia"] == "Frente al mercado"
    assert "/fsu/hogar/num_personas" not in stored  # the field being typed


def test_closing_the_window_keeps_the_field_being_typed(ws_factory, qtbot):
    ws = ws_factory(create=True)
    uuid = create_record(ws, "fsu")
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    for code in ("15", "1501", "150132"):  # codes auto-advance
        QTest.keyClicks(QApplication.focusWidget(), code)
    field = QApplication.focusWidget()
    assert w.current_row.path == "/fsu/ubicacion/centro_poblado"
    QTest.keyClicks(field, "1501320001")  # typed, no Enter yet
    QTest.keyClick(field, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not w.isVisible()
    stored = ws.load_answers(uuid)["answers"]
    assert stored["/fsu/ubicacion/distrito"] == "150132"
    assert stored["/fsu/ubicacion/centro_poblado"] == "1501320001"
