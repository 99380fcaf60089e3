"""Screenshots of practice mode (issue 18), taken from real windows on an X server.

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take_practice.py

Writes 40-practica-*.png beside this script (whole 1366×768 screen,
`import -window root`)."""

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

from app.ui.common import styles  # noqa: E402
from take import full, shot  # noqa: E402 - the shared screenshot helpers

PW = "clave-segura-1"




class StepClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def make_data(real: Path) -> None:
    """A real workspace and its practice workspace with two weeks of training."""
    import time

    from app.forms import FormSession
    from app.practice import exercises as ex
    from app.practice.scoring import floor_keys
    from app.workspace import Workspace
    from app.workspace.practice import practice_dir

    Workspace.create(real, "atorres", PW, ule_ubigeo="080108",
                     display_name="Ana Torres Quispe")[0].close()
    clock = StepClock(time.time() - 14 * 86400)
    ws, _ = Workspace.create(practice_dir(real), "atorres", PW, ule_ubigeo="080108",
                             display_name="Ana Torres Quispe", practice=True, clock=clock)
    ws.admin.add_user("mflores", "digitador", PW, "María Flores Ccama", must_change=False)
    ws.admin.add_user("jquispe", "digitador", PW, "José Quispe Poma", must_change=False)
    for user, accs in (("mflores", (88.0, 94.5, 97.0, 99.2)), ("jquispe", (81.0, 90.3, 95.1))):
        ws.logout()
        ws.login(user, PW)
        for i, acc in enumerate(accs):
            code = "fsu1" if i == 0 else "fsu4"
            uuid = ex.start_entry(ws, code, seed=100 + i)
            s = FormSession(ex.fsu(), ex.answer_key(code, 100 + i))
            key = ex.answer_key(code, 100 + i)
            wrong = [p for p in key if p.endswith("/nombres") or p.endswith("/pisos")]
            for p in wrong[: max(0, round((100 - acc) / 3))]:
                s.set(p, key[p] + "x" if p.endswith("nombres") else "")
            ws.save_answers(uuid, s.to_json())
            clock.t += 86400 * 2
            ex.score_record(ws, uuid, seconds=600 - 60 * i, keys=int(1.25 * floor_keys(key)))
    ws.close()


def main() -> int:
    from app.practice import exercises as ex
    from app.practice.scoring import floor_keys
    from app.ui.practice.band import mark_window
    from app.ui.practice.results import EntryResultDialog
    from app.ui.shell.app_window import build
    from app.ui.shell.practice_window import open_practice

    app = QApplication.instance() or QApplication(sys.argv[:1])
    styles.apply(app)
    tmp = Path(tempfile.mkdtemp(prefix="siee-shots-practica-"))
    real_dir = tmp / "campo"
    make_data(real_dir)
    real = build(real_dir)
    real.start()
    full(real)
    shot("40-practica-boton.png")
    win = open_practice(real)
    assert win is not None
    full(win)
    win.login_page.user.setCurrentText("mflores")
    win.login_page.password.setText(PW)
    win.login_page.submit()
    full(win)
    shot("41-practica-fichas.png")
    pw = win.open_exercises()
    assert pw is not None
    uuid = pw.exercises.start("fsu4", seed=321)
    form = win.forms[uuid]
    full(form)
    form.jump("/fsu/vivienda/tipo_vivienda")
    shot("42-practica-ficha-sugerencia.png")
    # a typing with three mistakes, then its result
    from app.forms import FormSession

    key = ex.answer_key("fsu4", 321)
    s = FormSession(ex.fsu(), dict(key))
    s.set("/fsu/integrantes[2]/nombres", key["/fsu/integrantes[2]/nombres"] + "h")
    s.set("/fsu/vivienda/techos", "2" if key["/fsu/vivienda/techos"] != "2" else "3")
    s.set("/fsu/ubicacion/telefono", "")
    form.close()
    win.ws.save_answers(uuid, s.to_json())
    score = ex.score_record(win.ws, uuid, seconds=512.0, keys=int(1.31 * floor_keys(key)))
    dlg = EntryResultDialog(score, ex.EXERCISES["fsu4"].title, 98.0, win)
    mark_window(dlg)
    dlg.resize(1000, 640)
    dlg.show()
    QTest.qWaitForWindowActive(dlg, 3000)
    shot("43-practica-resultado.png")
    dlg.close()
    win.close_forms()
    win.logout()
    win.login_page.user.setCurrentText("atorres")
    win.login_page.password.setText(PW)
    win.login_page.submit()
    pw = win.open_exercises()
    full(pw)
    pw.tabs.setCurrentIndex(1)
    shot("44-practica-avance.png")
    pw.tabs.setCurrentIndex(0)
    set_id = pw.exercises.start("review", seed=5)
    from app.practice.review_exercise import review_sets

    uuids = review_sets(win.ws)[set_id]
    for i, u in enumerate(uuids):
        info = win.ws.practice.exercise(u) or {}
        if info["planted"] and i % 3:
            win.ws.review.return_record(u, "Revisar la edad del integrante",
                                        questions=info["paths"])
        elif not info["planted"] and i == 0:
            win.ws.review.return_record(u, "Confirmar el teléfono")
        else:
            win.ws.review.approve(u)
    win.close_forms()
    pw = win.open_exercises()
    full(pw)
    pw.exercises.reload()
    pw.exercises.select_key(set_id)
    d2 = pw.exercises.score_selected()
    assert d2 is not None
    d2.resize(1200, 560)
    QTest.qWaitForWindowActive(d2, 3000)
    shot("45-practica-revision.png")

    for w in QApplication.topLevelWidgets():
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
