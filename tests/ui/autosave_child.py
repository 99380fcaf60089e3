"""Child process of test_autosave: types into the real form window and reports
each answer once its save is durable, then starts a field and waits to be killed.

usage: python -m tests.ui.autosave_child DATA_DIR RECORD_UUID"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.ui.entry.form_window import FormWindow
    from app.workspace import Workspace
    from bench.entry import HOGAR, UBICACION, VIVIENDA, KeyDriver
    from tests.conftest import ADMIN_PW, FAST_KDF

    data_dir, uuid = Path(sys.argv[1]), sys.argv[2]
    app = QApplication.instance() or QApplication([])
    ws = Workspace.open(data_dir, kdf=FAST_KDF)
    ws.login("admin", ADMIN_PW)
    w = FormWindow(ws, uuid)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    d = KeyDriver(w)
    for name, text in [*UBICACION, *VIVIENDA, *HOGAR[:-1]]:
        row_path = w.current_row.path
        d.answer(name, text)
        while not w.saver.idle:
            app.processEvents()
            QTest.qWait(1)
        if text:
            print(f"DURABLE {row_path} {w.session.get(row_path)}", flush=True)
    # the field being typed when the power goes: keys in, no Enter
    d.type_text("7")
    print(f"TYPING {w.current_row.path}", flush=True)
    while True:
        QTest.qWait(50)


if __name__ == "__main__":
    main()
