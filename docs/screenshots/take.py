"""Screenshots of the main screens, taken from real windows on an X server.

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take.py

Writes the PNG files beside this script (whole 1366×768 screen, `import -window root`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.ui.common import styles  # noqa: E402
from app.ui.shell.app_window import build  # noqa: E402
from app.ui.common.translations import install_qt_spanish  # noqa: E402

PW = "clave-segura-1"


def shot(name: str, wait: int = 500) -> None:
    QTest.qWait(wait)
    subprocess.run(["import", "-window", "root", str(HERE / name)], check=True)
    print("wrote", name)


def full(w: QWidget) -> None:
    w.setGeometry(QApplication.primaryScreen().availableGeometry())
    w.show()
    w.raise_()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)


def keys(text: str) -> None:
    QTest.keyClicks(QApplication.focusWidget(), text)


def key(k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(QApplication.focusWidget(), k, mod)


def main() -> int:
    from app.demo import households
    from app.demo_answers import fsu_answers, s100_answers
    from app.forms import bundled_form

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    install_qt_spanish(app)
    tmp = Path(tempfile.mkdtemp()) / "datos"
    win = build(tmp)
    win.start()
    wiz = win.wizard
    assert wiz is not None
    wiz.move(303, 104)
    wiz.activateWindow()
    QTest.qWaitForWindowActive(wiz, 3000)
    a = wiz.admin_page
    a.name.setText("Ana Torres Quispe")
    a.username.setText("atorres")
    a.password.setText(PW)
    a.password2.setText(PW)
    shot("01-asistente-cuenta.png")
    wiz.next()
    wiz.ubigeo_page.picker.set_value("080108")
    shot("02-asistente-ubigeo.png")
    wiz.next()
    wiz.recovery_page.confirm.setText(wiz.recovery_code[-5:])
    wiz.recovery_page.ack.setChecked(True)
    shot("03-asistente-codigo.png")
    wiz.next()
    wiz.server_page.url.setText("https://siee.midis.gob.pe")
    shot("04-asistente-servidor.png")
    wiz.accept()
    QTest.qWait(100)
    full(win)

    ws = win.ws
    assert ws is not None
    # data: the admin adds an enumerator, who registers households; one comes back
    ws.login("atorres", PW)
    ws.admin.add_user("msoto", "empadronador", "clave-maria-1", "María Soto", must_change=False)
    ws.logout()
    ws.login("msoto", "clave-maria-1")
    s100, fsu = bundled_form("s100"), bundled_form("fsu")
    made = []
    for hh in households(6, seed=11):
        hh.ubigeo = "080108"
        made.append(ws.new_record("s100", s100.version, s100_answers(hh, "María Soto")))
        made.append(ws.new_record("fsu", fsu.version, fsu_answers(hh, "María Soto")))
    done = []
    for uuid in made[:6]:
        try:
            ws.complete(uuid)
            done.append(uuid)
        except Exception as e:  # noqa: BLE001 - a demo household may not validate
            print("not completed:", type(e).__name__, file=sys.stderr)
    ws.logout()
    ws.login("atorres", PW)
    if done:
        ws.review.return_record(
            done[-1],
            "La fecha de nacimiento del segundo integrante no coincide con su DNI",
            [],
        )
    ws.logout()

    page = win.login_page
    page.refresh("msoto")
    page.password.setText("equivocada")
    page.submit()
    shot("05-inicio-sesion.png")
    page.password.setText("clave-maria-1")
    page.submit()
    rp = win.records_page
    QTest.qWait(500)
    rp.table.selectRow(0)
    shot("06-fichas.png", 400)

    # a new FSU typed with the keyboard, with a message beside a question
    win.new_record("fsu")
    (uuid,) = list(win.forms)
    fw = win.forms[uuid]
    full(fw)
    for text in ("15", "1501", "150132"):
        keys(text)
    keys("15013")
    key(Qt.Key.Key_Return)
    keys("2")
    keys("Los Incas")
    key(Qt.Key.Key_Return)
    shot("07-ficha-ubicacion.png")
    # the roster and a member page
    roster_i = next(i for i, s in enumerate(fw.specs) if s.kind == "roster")
    fw.enter_page(roster_i, 1)
    for name in ("Quispe", "Mamani"):
        key(Qt.Key.Key_Return)
        keys(name)
        key(Qt.Key.Key_Return)
        keys("Flores")
        key(Qt.Key.Key_Return)
        keys("Juan Carlos" if name == "Quispe" else "Rosa")
        key(Qt.Key.Key_Return)
        keys("14031980" if name == "Quispe" else "02092031")
        if name == "Mamani":
            key(Qt.Key.Key_Return)  # a future date is held: a second Enter goes on
        keys("1")
        keys("41234567" if name == "Quispe" else "42345678")
        key(Qt.Key.Key_Return)
        keys("1" if name == "Quispe" else "2")
        if name == "Quispe":
            key(Qt.Key.Key_Return)
        if name == "Mamani":
            shot("08-ficha-integrante.png")
        fw.enter_page(roster_i, 1)
    shot("09-ficha-integrantes.png")
    key(Qt.Key.Key_F1)
    fw.next_error()
    shot("10-ficha-ayuda-errores.png")
    fw.close()
    QTest.qWait(200)
    if done:
        win.open_record(done[-1])
        rw = win.forms[done[-1]]
        full(rw)
        shot("11-ficha-observada.png")
        rw.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
