"""Screenshots of the screens changed for issue 16 items 8-10: «¿Olvidó su
contraseña?», the password a person must choose after logging in with one an
administrator gave, «Restablecer contraseña…» in Usuarios, the sync panel when
results arrive a sync later, and a list that says why it is empty.

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take_accounts.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from take import full, shot  # noqa: E402

from app.ui.common import styles  # noqa: E402
from app.ui.common.translations import install_qt_spanish  # noqa: E402
from app.ui.shell.app_window import build  # noqa: E402

PW = "clave-segura-1"


def wait_for(cond, ms: int = 20000) -> None:
    left = ms
    while not cond() and left > 0:
        QTest.qWait(50)
        left -= 50


def settled(win) -> None:
    """Wait until the records list finished reloading (after a broadcast)."""
    wait_for(lambda: win.records_page.status.text() != "Cargando…")


def main() -> int:
    from app.workspace import Workspace
    from app.demo import households
    from app.demo_answers import fsu_answers
    from app.forms import bundled_form
    from devtools.devserver import LocalServer, enroll_code

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    install_qt_spanish(app)
    tmp = Path(tempfile.mkdtemp())
    data = tmp / "datos"
    with LocalServer(tmp / "srv", centre_every_s=None, port=0) as srv:
        ws = Workspace.create(data, "atorres", PW, "150101", "Ana Torres Quispe")[0]
        ws.admin.add_user("mrojas", "empadronador", "clave-inicial-1", "María Rojas")
        ws.admin.add_user("jperez", "empadronador", "clave-juan-123", "Juan Pérez Mamani",
                          must_change=False)
        ws.centre.client().enroll(srv.url, enroll_code(srv.data_dir, "150101"))
        # two households written by Juan and approved by Ana (the author never approves)
        ws.logout()
        ws.login("jperez", "clave-juan-123")
        fsu = bundled_form("fsu")
        made = []
        for hh in households(2, seed=30):
            hh.ubigeo = "150101"
            made.append(ws.new_record("fsu", str(fsu.version), fsu_answers(hh)))
            ws.complete(made[-1])
        ws.logout()
        ws.login("atorres", PW)
        for uuid in made:
            ws.review.approve(uuid)
        ws.close()

        win = build(data)
        win.start()
        full(win)
        page = win.login_page

        # «¿Olvidó su contraseña?» for an enumerator: whom to ask, where it is done
        page.refresh("mrojas")
        dlg = page.forgot()
        shot("30-olvido-contrasena.png")
        dlg.reject()

        # first log-in with the password the administrator gave
        page.refresh("mrojas")
        page.password.setText("clave-inicial-1")
        page.submit()
        forced = win.password_dialog
        forced.old.setText("clave-inicial-1")
        forced.new.setText("clave-de-maria-9")
        forced.new2.setText("clave-de-maria")
        forced.submit()  # the two new ones differ: the message says so
        shot("31-elegir-contrasena.png")
        forced.new2.setText("clave-de-maria-9")
        forced.submit()
        wait_for(lambda: win.records_page.table_area.showing_note)
        shot("32-fichas-vacia.png")
        win.logout()

        # the administrator syncs: results come a sync later, counted in one line
        page.refresh("atorres")
        page.password.setText(PW)
        page.submit()
        ctl = win.sync_menu.ctl
        ctl.auto = False
        wait_for(lambda: not ctl.running)
        panel = win.sync_menu.open_panel()
        panel.move(320, 110)
        ctl.sync_now()
        wait_for(lambda: not ctl.running)
        settled(win)
        shot("33-sincronizacion-enviadas.png", 600)
        ctl.sync_now()
        wait_for(lambda: not ctl.running)
        srv.post_results()
        ctl.sync_now()
        wait_for(lambda: not ctl.running)
        settled(win)
        shot("34-sincronizacion-resultados.png", 600)
        panel.close()

        # Usuarios: a reset password must be changed at the next log-in
        sup = win.records_page.supervision.open_supervision()
        full(sup)
        sup.show_tab(sup.users)
        sup.users.select("jperez")
        reset = sup.users.reset_password()
        reset.password.setText("clave-temporal-1")
        reset.password2.setText("clave-temporal-1")
        reset.submit()
        sup.users.select("mrojas")
        sup.users.reset_password()
        shot("35-usuarios-restablecer.png")
        sup.close()

        # a DNI without a match says so
        rp = win.records_page
        rp.dni.setText("45871236")
        rp.search_dni()
        wait_for(lambda: rp.table_area.showing_note)
        shot("36-fichas-sin-coincidencias.png")
        win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
