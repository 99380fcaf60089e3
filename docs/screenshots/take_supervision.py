"""Screenshots of the supervisor's screens (review, dashboard, exports, users,
audit log, constancia), taken from real windows on an X server.

    Xvfb :98 -screen 0 1366x768x24 &
    DISPLAY=:98 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/take_supervision.py

Writes the PNG files beside this script (whole 1366×768 screen, `import -window root`;
the constancia's first page with pdftoppm)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
import threading
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
      "lcondori": "clave-lcondori-1"}




class StepClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def make_data(data_dir: Path) -> None:
    """A ULE with three weeks of work: requests, visits, reviews, results, returns."""
    from app.core.states import State
    from app.demo import households
    from app.demo_answers import fsu_answers, s100_answers
    from app.forms import bundled_form
    from app.store.db import transaction
    from app.workspace import Workspace

    today = dt.date.today()
    start = dt.datetime.combine(today - dt.timedelta(days=24), dt.time(9, 0))
    clock = StepClock(start.timestamp())
    ws, _code = Workspace.create(
        data_dir, "atorres", PW["atorres"], ule_ubigeo="080108",
        display_name="Ana Torres Quispe", clock=clock,
    )
    ws.admin.add_user("rquispe", "supervisor", PW["rquispe"], "Rosa Quispe Huamán", must_change=False)
    ws.admin.add_user("jperez", "empadronador", PW["jperez"], "Juan Pérez Mamani", must_change=False)
    ws.admin.add_user("lcondori", "empadronador", PW["lcondori"], "Luz Condori Apaza", must_change=False)
    s100v, fsuv = str(bundled_form("s100").version), str(bundled_form("fsu").version)
    homes = households(24, seed=7)
    made: list[tuple[str, str]] = []  # (fsu uuid, enumerator)
    for i, hh in enumerate(homes):
        who = "jperez" if i % 3 else "lcondori"
        if ws.user is None or ws.user.username != who:
            ws.logout()
            ws.login(who, PW[who])
        clock.t = (start + dt.timedelta(days=i * 20 / len(homes), hours=i % 5)).timestamp()
        ago = {20: 15, 21: 9, 22: 3}.get(i, 42 - i)
        req = (today - dt.timedelta(days=ago)).isoformat()
        answers = {**s100_answers(hh), "/s100/solicitud/fecha_solicitud": req}
        u = ws.new_record("s100", s100v, answers)
        ws.complete(u)
        if i in (20, 21, 22):
            continue  # requests still waiting for the visit
        clock.t += 3600 * 24 * 2
        answers = fsu_answers(hh)
        if i in (13, 15, 17):
            answers["/fsu/vivienda/horas_capital"] = "96"  # a soft warning for the supervisor
        f = ws.new_record("fsu", fsuv, answers)
        if i == 23:
            continue  # still a draft
        ws.complete(f)
        made.append((f, who))
    ws.logout()
    ws.login("rquispe", PW["rquispe"])
    s100s = [m.uuid for m in ws.list_records(state="COMPLETE", form_id="s100")]
    for n, (f, _who) in enumerate(made[:12]):
        clock.t = (start + dt.timedelta(days=8 + n)).timestamp()
        ws.review.approve(f)
    ws.review.approve_many(sorted(s100s)[:14])
    # the sync client's work, done by hand: delivered, results, a return from the centre
    for n, (f, _who) in enumerate(made[:10]):
        with ws.lock, transaction(ws.db) as conn:
            ws.records.update_meta(conn, f, state="DELIVERED", delivered_at=clock.t + n * 3600)
    for f, cat in zip([m[0] for m in made[:6]], ["pobre", "pobre_extremo", "no_pobre", "pobre",
                                                 "pobre", "pobre_extremo"], strict=True):
        m = ws.records.meta(ws.db.conn, f)
        with ws.lock, transaction(ws.db) as conn:
            notes = ws.records.notes(conn, m)
            notes["result"] = {"category": cat, "date": today.isoformat(),
                               "valid_until": (today + dt.timedelta(days=3 * 365)).isoformat()}
            ws.records.write_notes(conn, m, notes)
            ws.records.update_meta(conn, f, state="RESULT")
    m = ws.records.meta(ws.db.conn, made[7][0])
    ws._add_return(m, State.RETURNED, {
        "by": "", "source": "server", "questions": [],
        "reason": "El número de suministro eléctrico no corresponde al distrito."})
    clock.t = dt.datetime.now().timestamp() - 3600
    ws.review.return_record(made[13][0], "Revise la edad del cónyuge: parece la del hijo.",
                     ["/fsu/integrantes[2]/fecha_nacimiento"])
    ws.new_record("fsu", fsuv, fsu_answers(homes[23]))  # the supervisor's own survey
    own = ws.list_records(state="DRAFT", owner="rquispe")[0].uuid
    ws.complete(own)
    ws.close()


def main() -> int:
    from app.ui.shell.app_window import build
    from app.ui.review.constancia import write_constancia_pdf
    from app.ui.admin.users_admin import NewUserDialog

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    tmp = Path(tempfile.mkdtemp())
    data_dir = tmp / "datos"
    make_data(data_dir)

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
    # select an FSU with its result: the Constancia button is enabled
    for r, row in enumerate(page.model.rows):
        if row.meta.form_id == "fsu" and row.meta.state == "RESULT":
            page.table.selectRow(r)
            break
    shot("20-fichas-supervisor.png")

    sup = page.supervision.open_supervision()
    assert sup is not None
    full(sup)
    q = sup.queue
    QTest.qWait(800)
    q.table.selectRow(0)
    shot("21-revision-cola.png")

    warned = next(it for it in q.model.items if it.warnings)
    rw = q.open_record(warned.uuid)
    full(rw)
    rw.jump("/fsu/vivienda/horas_capital")
    rw.set_pinned("/fsu/vivienda/horas_capital")
    rw.reason.setPlainText(
        "96 horas hasta la capital del distrito parece excesivo: confirme con el informante."
    )
    shot("22-revision-ficha.png")
    rw.close()

    # bulk approval, held half-way so that the progress shows
    gate = threading.Event()
    approve = ws.review.approve
    count = [0]

    def held(uuid: str) -> None:
        count[0] += 1
        if count[0] == 4:
            gate.wait(10)
        approve(uuid)

    ws.review.approve = held  # type: ignore[method-assign]
    q.select_all()
    q.approve_selected()
    QTest.qWait(1200)
    shot("23-revision-aprobando.png", 100)
    gate.set()
    while q.approve_job is not None:
        QTest.qWait(100)
    shot("24-revision-aprobadas.png", 600)
    q.result_box.close()
    ws.review.approve = approve  # type: ignore[method-assign]

    sup.show_tab(sup.dashboard)
    QTest.qWait(1000)
    shot("25-tablero.png")

    dlg = sup.open_export()
    dlg.kind.setCurrentIndex(dlg.kind.findData("answers"))
    dlg.start_export(tmp / "respuestas-fsu.xlsx")
    QTest.qWait(1500)
    dlg.move(400, 200)
    shot("26-exportar.png")
    dlg.close()

    # the administrator's tabs
    win.logout()
    QTest.qWait(300)
    win.login_page.user.setCurrentText("atorres")
    win.login_page.password.setText(PW["atorres"])
    win.login_page.submit()
    sup = page.supervision.open_supervision()
    assert sup is not None and sup.users is not None
    full(sup)
    sup.show_tab(sup.users)
    QTest.qWait(400)
    sup.users.select("lcondori")
    nu = NewUserDialog(ws, sup)
    nu.username.setText("mflores")
    nu.display.setText("María Flores Ticona")
    nu.role.setCurrentIndex(nu.role.findData("digitador"))
    nu.password.setText("clave-mflores-1")
    nu.password2.setText("clave-mflores-1")
    nu.show()
    nu.move(450, 250)
    shot("27-usuarios.png")
    nu.submit()

    sup.show_tab(sup.audit)
    QTest.qWait(800)
    sup.audit.verify()
    QTest.qWait(800)
    shot("28-bitacora.png")

    # the constancia: the PDF's first page as an image
    uuid = next(m.uuid for m in ws.list_records(state="RESULT"))
    pdf = write_constancia_pdf(ws.documents.constancia(uuid), tmp / "constancia.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(HERE / "29-constancia")],
        check=True,
    )
    print("wrote 29-constancia.png")
    sup.close()
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
