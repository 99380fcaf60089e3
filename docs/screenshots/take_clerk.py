"""Screenshots of what a new clerk's walk-through changed: the first log-in that asks
only the new password, the S100's first member filled from the requester, the FSU's
number of people following the members, the review queue opened on its first row,
the records list at 1366×768 and the visit dialog with its empadronador.

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take_clerk.py

Writes 61-66 beside this script (whole screen, `import -window root`)."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.ui.common import styles  # noqa: E402
from take import full, shot  # noqa: E402 - the shared screenshot helpers

PW = {"atorres": "clave-segura-1", "rquispe": "clave-rquispe-1", "jperez": "clave-jperez-1",
      "lcondori": "clave-inicial-1"}




def make_data(data_dir: Path) -> None:
    from app.demo import households
    from app.demo_answers import fsu_answers, s100_answers
    from app.forms import bundled_form
    from app.workspace import Workspace
    from tests.review.helpers import post_result

    ws, _code = Workspace.create(data_dir, "atorres", PW["atorres"], ule_ubigeo="080108",
                                 display_name="Ana Torres Quispe")
    ws.admin.add_user("rquispe", "supervisor", PW["rquispe"], "Rosa Quispe Huamán",
                      must_change=False)
    ws.admin.add_user("jperez", "empadronador", PW["jperez"], "Juan Pérez Mamani",
                      must_change=False)
    ws.admin.add_user("lcondori", "empadronador", PW["lcondori"], "Luz Condori Apaza")
    ws.logout()
    ws.login("jperez", PW["jperez"])
    s100v = str(bundled_form("s100").version)
    homes = households(6, seed=61)
    reqs = []
    for hh in homes:
        u = ws.new_record("s100", s100v, s100_answers(hh))
        ws.complete(u)
        reqs.append(u)
    for hh, req in zip(homes[:3], reqs[:3], strict=True):
        f = ws.new_draft("fsu", from_uuid=req)
        ws.save_answers(f, fsu_answers(hh))
        ws.complete(f)
    today = dt.date.today()
    ws.cases.record_visit(reqs[4], today.isoformat(), "09:10", "3",
                          (today + dt.timedelta(days=2)).isoformat())
    ws.logout()
    ws.login("rquispe", PW["rquispe"])
    ws.review.approve(reqs[5])
    post_result(ws, reqs[5], "pobre_extremo", today.isoformat(),
                (today + dt.timedelta(days=1095)).isoformat())
    ws.review.return_record(reqs[3], "Revise la edad del integrante 3: no corresponde al nivel "
                                     "educativo declarado.")
    ws.close()


def login(win, user: str) -> None:
    win.login_page.user.setCurrentText(user)
    win.login_page.password.setText(PW[user])
    win.login_page.submit()


def main() -> int:
    from app.ui.shell.app_window import build

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    tmp = Path(tempfile.mkdtemp())
    data_dir = tmp / "datos"
    make_data(data_dir)
    win = build(data_dir)
    win.start()
    full(win)

    # the first log-in with the password the administrator gave: only the new one
    login(win, "lcondori")
    QTest.qWait(300)
    dlg = win.password_dialog
    dlg.move(420, 220)
    shot("61-primer-ingreso.png")
    dlg.new.setText("clave-de-luz-9")
    dlg.new2.setText("clave-de-luz-9")
    dlg.submit()
    win.logout()

    # the S100: the first member comes from the requester
    login(win, "jperez")
    page = win.records_page
    w = win.new_record("s100")
    full(w)
    sol = "/s100/solicitante/"
    for name, value in (("sol_apellido_paterno", "Quispe"), ("sol_apellido_materno", "Mamani"),
                        ("sol_nombres", "Rosa Elena"), ("sol_tipo_doc", "1"),
                        ("sol_num_doc", "41234567")):
        w.session.set(sol + name, value)
    w.replan()
    w.add_member("/s100/integrantes")
    w.jump("/s100/integrantes[1]/apellidos")
    shot("62-s100-integrante-solicitante.png")
    w.close()

    # the FSU: «¿Cuántas personas…?» follows the members listed
    w = win.new_record("fsu")
    full(w)
    for _ in range(4):
        w.add_member("/fsu/integrantes")
    w.jump("/fsu/hogar/num_personas")
    shot("63-fsu-personas.png")
    w.close()
    win.logout()

    # the supervisor: the list at 1366×768, the queue on its first row, the visit dialog
    login(win, "rquispe")
    while page.load_job is not None and not page.load_job.done:
        QTest.qWait(100)
    shot("64-fichas-1366.png", 800)
    sup = page.supervision.open_supervision()
    full(sup)
    QTest.qWait(800)
    shot("65-revision-foco.png")
    sup.close()
    for r, row in enumerate(page.model.rows):
        if row.meta.form_id == "s100" and row.meta.state == "COMPLETE":
            page.table.selectRow(r)
            break
    dlg = page.open_case()
    dlg.resize(1000, 600)
    dlg.move(180, 60)
    vd = dlg.visit_dialog()
    vd.result.setCurrentIndex(vd.result.findData("4"))
    vd.show()
    vd.move(470, 220)
    shot("66-registrar-visita-empadronador.png")
    vd.close()
    dlg.close()
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
