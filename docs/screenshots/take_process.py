"""Screenshots of the whole process (issue 15, docs/process.md): the requests as
cases, a failed visit and its notice, a request without visit, a reevaluación
refused after 180 days, a desestimación, the dashboard per household and the D100.

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take_process.py

Writes the PNG files beside this script (whole 1366×768 screen, `import -window root`;
the notice and the D100 as their first page with pdftoppm)."""

from __future__ import annotations

import datetime as dt
import subprocess
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

PW = {"atorres": "clave-segura-1", "rquispe": "clave-rquispe-1", "jperez": "clave-jperez-1"}
OPTION = "/s100/solicitud/tipo_solicitud"
DATE = "/s100/solicitud/fecha_solicitud"



def pdf_shot(pdf: Path, name: str) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(HERE / name.removesuffix(".png"))], check=True)
    print("wrote", name)



class StepClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def make_data(data_dir: Path) -> dict[str, str]:
    """A ULE with one request on each path; returns the uuids by name."""
    from app.demo import households
    from app.demo_answers import fsu_answers, s100_answers
    from app.forms import bundled_form
    from app.store.db import transaction
    from app.workspace import Workspace

    today = dt.date.today()
    clock = StepClock(dt.datetime.combine(today - dt.timedelta(days=200), dt.time(9)).timestamp())
    ws, _code = Workspace.create(data_dir, "atorres", PW["atorres"], ule_ubigeo="080108",
                                 display_name="Ana Torres Quispe", clock=clock)
    ws.admin.add_user("rquispe", "supervisor", PW["rquispe"], "Rosa Quispe Huamán",
                      must_change=False)
    ws.admin.add_user("jperez", "empadronador", PW["jperez"], "Juan Pérez Mamani",
                      must_change=False)
    s100v = str(bundled_form("s100").version)
    homes = households(6, seed=15)
    out: dict[str, str] = {}

    def at(days_ago: int, hour: int = 9) -> str:
        clock.t = dt.datetime.combine(today - dt.timedelta(days=days_ago),
                                      dt.time(hour)).timestamp()
        return (today - dt.timedelta(days=days_ago)).isoformat()

    def as_(who: str) -> None:
        if ws.user is None or ws.user.username != who:
            ws.logout()
            ws.login(who, PW[who])

    # An old request with its result: the household of the reevaluaciones.
    as_("jperez")
    day = at(190)
    for key, hh in (("old_recent", homes[4]), ("old_late", homes[5])):
        u = ws.new_record("s100", s100v, {**s100_answers(hh), DATE: day})
        ws.complete(u)
        out[key] = u
    as_("rquispe")
    for key, days in (("old_recent", 100), ("old_late", 190)):
        ws.review.approve(out[key])
        m = ws.records.meta(ws.db.conn, out[key])
        with ws.lock, transaction(ws.db) as conn:
            notes = ws.records.notes(conn, m)
            notes["result"] = {"category": "pobre",
                               "result_date": (today - dt.timedelta(days=days)).isoformat(),
                               "valid_until": (today + dt.timedelta(days=900)).isoformat()}
            ws.records.write_notes(conn, m, notes)
            ws.records.update_meta(conn, out[key], state="DELIVERED")
            ws.records.update_meta(conn, out[key], state="RESULT")
    # 1. request, visit, FSU
    as_("jperez")
    day = at(9)
    req = ws.new_record("s100", s100v, {**s100_answers(homes[0]), DATE: day})
    ws.complete(req)
    at(7)
    ws.cases.record_visit(req, (today - dt.timedelta(days=7)).isoformat(), "10:00", "1")
    f = ws.new_draft("fsu", from_uuid=req)
    ws.save_answers(f, fsu_answers(homes[0]))
    ws.complete(f)
    out["visited"] = req
    # 2. absent household: two failed attempts (4: ausente, the FSU's result codes)
    day = at(6)
    req = ws.new_record("s100", s100v, {**s100_answers(homes[1]), DATE: day})
    ws.complete(req)
    at(5, 11)
    ws.cases.record_visit(req, (today - dt.timedelta(days=5)).isoformat(), "11:20", "4",
                          (today - dt.timedelta(days=3)).isoformat())
    at(3, 16)
    ws.cases.record_visit(req, (today - dt.timedelta(days=3)).isoformat(), "16:05", "4",
                          (today + dt.timedelta(days=1)).isoformat(),
                          "Vecina indica que trabajan en la chacra hasta tarde.")
    out["absent"] = req
    # 3. reevaluación within 180 days: no visit
    day = at(2)
    req = ws.new_record("s100", s100v, {**s100_answers(homes[4]), OPTION: "2.6", DATE: day})
    ws.complete(req)
    out["reeval"] = req
    # 4. a reevaluación after 180 days: stays a draft, refused
    day = at(1)
    out["reeval_late"] = ws.new_record(
        "s100", s100v, {**s100_answers(homes[5]), OPTION: "2.6", DATE: day})
    # 5. refusal: dropped by the supervisor
    day = at(12)
    req = ws.new_record("s100", s100v, {**s100_answers(homes[2]), DATE: day})
    ws.complete(req)
    at(11)
    ws.cases.record_visit(req, (today - dt.timedelta(days=11)).isoformat(), "09:40", "3",
                          (today - dt.timedelta(days=9)).isoformat())
    out["dropped"] = req
    # 6. a request waiting for its first visit
    day = at(4)
    req = ws.new_record("s100", s100v, {**s100_answers(homes[3]), DATE: day})
    ws.complete(req)
    as_("rquispe")
    at(2, 15)
    ws.cases.drop(out["dropped"], "Negativa del hogar a ser empadronado",
                  "El jefe de hogar no aceptó la visita en dos ocasiones.")
    ws.review.approve(out["reeval"])
    ws.close()
    return out


def main() -> int:
    from app.ui.review.case_dialog import DropDialog
    from app.ui.review.papers import write_notice_pdf
    from app.ui.shell.app_window import build

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    tmp = Path(tempfile.mkdtemp())
    data_dir = tmp / "datos"
    ids = make_data(data_dir)

    win = build(data_dir)
    win.start()
    full(win)
    win.login_page.user.setCurrentText("rquispe")
    win.login_page.password.setText(PW["rquispe"])
    win.login_page.submit()
    page = win.records_page
    ws = win.ws
    while page.load_job is not None and not page.load_job.done:
        QTest.qWait(100)
    QTest.qWait(300)

    def select(uuid: str) -> None:
        for r, row in enumerate(page.model.rows):
            if row.meta.uuid == uuid:
                page.table.selectRow(r)

    select(ids["absent"])
    shot("50-expedientes-lista.png")

    dlg = page.open_case()
    dlg.resize(1000, 620)
    dlg.move(180, 60)
    shot("51-expediente-visita-fallida.png")
    vd = dlg.visit_dialog()  # the supervisor names the empadronador who went
    vd.result.setCurrentIndex(vd.result.findData("4"))
    vd.notes.setText("Nadie en casa; se dejó la notificación bajo la puerta.")
    vd.show()
    vd.move(480, 250)
    shot("52-registrar-visita.png")
    vd.close()
    visit = dlg.case.visits[-1].uuid
    pdf_shot(write_notice_pdf(ws.cases.notice(visit), tmp / "aviso.pdf"), "53-notificacion.png")
    dlg.close()

    select(ids["reeval"])
    dlg = page.open_case()
    dlg.resize(1000, 560)
    dlg.move(180, 80)
    shot("54-expediente-sin-visita.png")
    dlg.close()

    select(ids["dropped"])
    dlg = page.open_case()
    dlg.resize(1000, 600)
    dlg.move(180, 60)
    dd = DropDialog(ws.cases.drop_reasons(), dlg)
    dd.reason.setCurrentIndex(1)
    dd.detail.setText("El jefe de hogar no aceptó la visita en dos ocasiones.")
    dd.show()
    dd.move(430, 120)
    dd.reason.showPopup()
    shot("55-desestimar.png")
    dd.reason.hidePopup()
    dd.close()
    shot("56-expediente-desestimado.png")
    dlg.close()

    win.logout()
    QTest.qWait(300)
    win.login_page.user.setCurrentText("jperez")
    win.login_page.password.setText(PW["jperez"])
    win.login_page.submit()
    w = win.open_record(ids["reeval_late"])
    full(w)
    w.complete()
    for _ in range(50):
        if "no procede" in w.save_status.text():
            break
        QTest.qWait(100)
    shot("57-reevaluacion-rechazada.png")
    w.close()

    win.logout()
    QTest.qWait(300)
    win.login_page.user.setCurrentText("rquispe")
    win.login_page.password.setText(PW["rquispe"])
    win.login_page.submit()
    sup = page.supervision.open_supervision()
    full(sup)
    sup.show_tab(sup.dashboard)
    QTest.qWait(300)
    while sup.dashboard.load_job is not None and not sup.dashboard.load_job.done:
        QTest.qWait(100)
    shot("58-tablero-hogares.png", 800)
    sup.show_tab(sup.d100)
    d100 = sup.d100
    d100.date_from.set_date(d100.date_from.date() - dt.timedelta(days=20))
    pdf = d100.generate(tmp / "d100.pdf")
    d100.mark("firmado")
    shot("59-d100.png")
    pdf_shot(pdf, "60-d100-pdf.png")
    sup.close()
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
