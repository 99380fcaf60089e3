"""Screenshots of the entry screens changed for issue 16 (choices always shown,
whole names typed, refused answers held beside the field, named members and a
repeated DNI, the CSE result in the list and the record, F1 guide).

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take_entry.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from take import full, key, keys, shot  # noqa: E402

from app.ui.common import styles  # noqa: E402
from app.ui.shell.app_window import build  # noqa: E402
from app.ui.common.translations import install_qt_spanish  # noqa: E402

PW = "clave-segura-1"


def main() -> int:
    from app.demo import households
    from app.demo_answers import fsu_answers
    from app.forms import bundled_form
    from app.workspace import Workspace

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    install_qt_spanish(app)
    tmp = Path(tempfile.mkdtemp()) / "datos"
    ws = Workspace.create(tmp, "atorres", PW, "080108", "Ana Torres Quispe")[0]
    ws.login("atorres", PW)
    ws.add_user("rquispe", "supervisor", "clave-rosa-1", "Rosa Quispe")
    fsu = bundled_form("fsu")
    hh = households(1, seed=11)[0]
    hh.ubigeo = "080108"
    done = ws.new_record("fsu", fsu.version, fsu_answers(hh, "Ana Torres Quispe"))
    ws.complete(done)
    ws.logout()
    ws.login("rquispe", "clave-rosa-1")
    ws.approve(done)
    from tests.review.helpers import post_result

    post_result(ws, done, "no_pobre", "2026-11-25", "2029-11-25")
    ws.close()

    win = build(tmp)
    win.start()
    full(win)
    page = win.login_page
    page.refresh("atorres")
    page.password.setText(PW)
    page.submit()

    # S100: the department list is shown whole; a typed name waits for Enter
    w = win.new_record("s100")
    full(w)
    w.jump("/s100/domicilio/departamento")
    keys("Cus")
    shot("12-ficha-opciones.png")
    key(Qt.Key.Key_Return)
    # a refused answer: the message under the field, the cursor stays
    w.jump("/s100/solicitud/fecha_solicitud")
    QApplication.focusWidget().selectAll()
    keys("01012099")
    shot("13-ficha-rechazo.png")
    w.close()

    # FSU: a multiple choice with its 15 options; a member named, a repeated DNI
    w = win.new_record("fsu")
    full(w)
    w.jump("/fsu/hogar/equipamiento")
    keys("1 4 7")
    shot("14-ficha-multiple.png")
    key(Qt.Key.Key_Return)
    people = (("Quispe", "Flores", "Juan"), ("Rojas", "Paz", "Maria"))
    for i, (pat, mat, nom) in enumerate(people, 1):
        w.add_member("/fsu/integrantes")
        for name, value in (
            ("apellido_paterno", pat),
            ("apellido_materno", mat),
            ("nombres", nom),
            ("tipo_doc", "1"),
            ("num_doc", "41234567"),
        ):
            w.jump(f"/fsu/integrantes[{i}]/{name}")
            keys(value)
            if w.current_row.path.endswith(name):
                key(Qt.Key.Key_Return)
    w.jump("/fsu/integrantes[2]/num_doc")
    w.update_marks()
    shot("15-ficha-dni-repetido.png", 400)
    w.close()

    # the list with the CSE result, and the F1 guide of the screen
    rp = win.records_page
    rp.reload()
    for _ in range(20):
        QApplication.processEvents()
        if rp.load_job is not None and rp.load_job.done:
            break
        QTest.qWait(100)
    rp.table.setFocus()
    key(Qt.Key.Key_F1)
    guide = win._guide_dialog
    guide.move(780, 240)
    shot("16-fichas-resultado-ayuda.png", 400)
    guide.close()
    w = win.open_record(done)
    full(w)
    shot("17-ficha-resultado.png")
    w.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
