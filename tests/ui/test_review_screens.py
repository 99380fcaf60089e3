"""The supervision screens on real widgets: the hook on the records screen per
role, the review window's decisions, the dashboard, the export dialog, user
administration and the audit log."""

from __future__ import annotations

import csv
import sqlite3
import threading

import openpyxl
import pytest
from PySide6.QtCore import Qt

from app.core.states import State
from app.demo import households
from app.ui.admin.audit_view import AuditPage
from app.ui.admin.users_admin import UsersPage
from app.ui.review.dashboard import DashboardPage
from app.ui.review.export_dialog import ExportDialog
from app.ui.review.review_queue import ReviewQueuePage
from app.ui.review.review_view import WARNING_BG, ReviewWindow
from app.ui.shell.supervision import SupervisionWindow
from tests.conftest import ADMIN_PW
from tests.review.conftest import PASSWORDS, Team

HOURS = "/fsu/vivienda/horas_capital"


@pytest.fixture
def team(ws_factory, clock) -> Team:
    ws = ws_factory(create=True)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    ws.admin.add_user("emp2", "empadronador", PASSWORDS["emp2"], "Luz Condori", must_change=False)
    return Team(ws, clock)


@pytest.fixture
def homes():
    return households(6, seed=31)


def test_review_window_return_then_approve(team, homes, qtbot):
    ws = team.as_("emp")
    warned = team.fsu(homes[0], **{HOURS: "100"})
    clean = team.fsu(homes[1])
    ws = team.as_("sup")
    own = team.fsu(homes[2])

    page = ReviewQueuePage(ws)
    qtbot.addWidget(page)
    page.show()
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    rows = {it.uuid: r for r, it in enumerate(page.model.rows)}
    warn_cell = page.model.index(rows[warned], 5)
    assert warn_cell.data() == "1"
    assert warn_cell.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert page.model.index(rows[warned], 3).data() == "Juan Pérez (emp)"
    assert page.model.index(rows[own], 3).data().endswith("— usted")
    # the own record is left out of a bulk approval
    page.select_all()
    assert "(2)" in page.approve_btn.text()

    w = ReviewWindow(ws, warned)
    qtbot.addWidget(w)
    assert w.approve_btn.isEnabled() and w.return_btn.isEnabled()
    assert w.warn_list.count() == 1 and "72 horas" in w.warn_list.item(0).text()
    item = w.items[HOURS]
    assert item.background(0).color() == WARNING_BG
    assert "72 horas" in item.text(2) and item.text(1) == "100"
    tenencia = w.items["/fsu/vivienda/tenencia"]
    assert not tenencia.text(1).isdigit()  # choice labels, not codes
    w.warn_list.itemClicked.emit(w.warn_list.item(0))
    assert w.tree.currentItem() is item
    # an empty reason is refused on the screen (and by the workspace)
    w.return_record()
    assert "motivo" in w.status.text() and ws.get(warned).state == State.COMPLETE.value
    w.set_pinned(HOURS)
    assert w.pinned() == [HOURS] and "Horas hasta la capital" in w.pins_label.text()
    w.reason.setPlainText("Confirme las horas hasta la capital.")
    with qtbot.waitSignal(w.changed):
        w.return_record()
    assert ws.get(warned).state == State.RETURNED.value
    ret = ws.notes(warned)["returns"][-1]
    assert ret["questions"] == [HOURS] and ret["reason"].startswith("Confirme")
    assert not w.approve_btn.isEnabled() and not w.return_btn.isEnabled()

    w2 = ReviewWindow(ws, clean)
    qtbot.addWidget(w2)
    with qtbot.waitSignal(w2.changed):
        w2.approve()
    assert ws.get(clean).state == State.QUEUED.value
    assert "cola de envío" in w2.status.text()

    w3 = ReviewWindow(ws, own)
    qtbot.addWidget(w3)
    assert not w3.approve_btn.isEnabled()
    w3.approve()  # the shortcut is ignored too
    assert ws.get(own).state == State.COMPLETE.value
    for win in (w, w2, w3):
        win.close()
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    qtbot.waitUntil(lambda: page.load_job.done)


def test_hook_on_the_records_screen_per_role(logged_in, qtbot):
    win = logged_in
    page = win.records_page
    tools = page.supervision
    ws = win.ws
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], must_change=False)
    assert tools.open_btn.isVisibleTo(page)
    sup = tools.open_supervision()
    assert isinstance(sup, SupervisionWindow)
    tabs = [sup.tabs.tabText(i) for i in range(sup.tabs.count())]
    assert tabs == ["&Revisión", "&Tablero", "D&100", "&Usuarios", "&Bitácora"]
    assert sup.export_action.isVisible()
    assert tools.open_supervision() is sup  # one window per session
    # logging out closes the supervision window with the session
    win.logout()
    qtbot.waitUntil(lambda: not sup.isVisible())
    assert tools.window is None
    # an enumerator does not see it, and cannot open it
    win.login_page.user.setCurrentText("emp")
    win.login_page.password.setText(PASSWORDS["emp"])
    win.login_page.submit()
    assert win.stack.currentWidget() is page
    assert not tools.open_btn.isVisibleTo(page)
    assert tools.open_supervision() is None
    assert not tools.constancia_btn.isEnabled()


def test_supervisor_window_has_no_user_admin(team, qtbot):
    ws = team.as_("sup")
    w = SupervisionWindow(ws)
    qtbot.addWidget(w)
    tabs = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert tabs == ["&Revisión", "&Tablero", "D&100", "&Bitácora"]
    assert w.users is None
    # the session guard closes it when the user changes
    team.as_("emp")
    w.check_session()
    assert not w.isVisible()


def test_dashboard_page_shows_counts_and_targets(team, homes, qtbot):
    team.as_("emp")
    team.s100(homes[0], **{"/s100/solicitud/fecha_solicitud": "2026-09-01"})
    team.fsu(homes[1])
    ws = team.as_("sup")
    page = DashboardPage(ws)
    qtbot.addWidget(page)
    page.reload()
    qtbot.waitUntil(lambda: page.data is not None)
    assert page.tiles[State.COMPLETE.value].value.text() == "2"
    assert page.tiles["visits"].value.text() == "1 (1 vencidas)"
    assert page.enum_table.rowCount() == 1
    assert page.enum_table.item(0, 0).text() == "Juan Pérez (emp)"
    assert page.wait_table.rowCount() == 2
    stages = {page.wait_table.item(r, 1).text() for r in range(2)}
    assert stages == {"Visita pendiente", "FSU en revisión del supervisor"}
    late = next(r for r in range(2) if page.wait_table.item(r, 1).text() == "Visita pendiente")
    assert "vencido" in page.wait_table.item(late, 6).text()
    assert page.day_table.rowCount() == 14
    with qtbot.waitSignal(page.open_record) as sig:
        page.wait_table.cellDoubleClicked.emit(late, 0)
    assert sig.args[0] == page.data.waiting[late].uuid


def test_export_dialog_writes_the_chosen_file(team, homes, qtbot, tmp_path):
    team.as_("emp")
    for hh in homes[:3]:
        team.fsu(hh)
    ws = team.as_("sup")
    dlg = ExportDialog(ws)
    qtbot.addWidget(dlg)
    dlg.kind.setCurrentIndex(dlg.kind.findData("members"))
    assert dlg.form.currentData() == "fsu"
    dlg.csv_btn.setChecked(True)
    assert dlg.suggested_name().startswith("integrantes-fsu-")
    target = tmp_path / "integrantes.csv"
    job = dlg.start_export(target)
    assert not dlg.export_btn.isEnabled()
    qtbot.waitUntil(lambda: dlg.job is None, timeout=20_000)
    assert job.done and dlg.result is not None
    n = sum(len(h.members) for h in homes[:3])
    assert dlg.result.rows == n and (f"{n} filas" if n != 1 else "1 fila") in dlg.message.text()
    with open(target, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert len(rows) == n + 1 and "Parentesco con el jefe del hogar" in rows[0]
    # xlsx of the record list
    dlg.kind.setCurrentIndex(dlg.kind.findData("records"))
    dlg.xlsx_btn.setChecked(True)
    dlg.start_export(tmp_path / "fichas.xlsx")
    qtbot.waitUntil(lambda: dlg.job is None, timeout=20_000)
    assert len(list(openpyxl.load_workbook(tmp_path / "fichas.xlsx").active.values)) == 4
    # cancelled while it runs: no file, and the dialog says so
    gate = threading.Event()
    answers_of = ws.documents._answers_of

    def slow(m):
        gate.wait(5)
        return answers_of(m)

    ws.documents._answers_of = slow
    dlg.kind.setCurrentIndex(dlg.kind.findData("answers"))
    dlg.start_export(tmp_path / "cancelada.xlsx")
    assert dlg.cancel_btn.isVisibleTo(dlg)
    dlg.cancel()
    gate.set()
    qtbot.waitUntil(lambda: dlg.job is None, timeout=20_000)
    assert dlg.result is None and "cancelada" in dlg.message.text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != "") == [
        "fichas.xlsx", "integrantes.csv"
    ]
    files = [e.detail["file"] for e in ws.admin.audit_entries(action="export")]
    assert files == ["fichas.xlsx", "integrantes.csv"]


def test_users_admin_create_disable_reset(team, qtbot, ws_factory):
    ws = team.as_("admin")
    page = UsersPage(ws)
    qtbot.addWidget(page)
    page.reload()
    assert page.table.rowCount() == 4
    dlg = page.new_user()
    dlg.username.setText("mflores")
    dlg.display.setText("María Flores")
    dlg.role.setCurrentIndex(dlg.role.findData("digitador"))
    dlg.password.setText("clave-mflores-1")
    dlg.password2.setText("otra-clave-xx")
    dlg.submit()
    assert "no coinciden" in dlg.error.text() and dlg.isVisible()
    dlg.password2.setText("clave-mflores-1")
    dlg.submit()
    assert not dlg.isVisible()
    assert page.selected_username() == "mflores"
    assert "creado" in page.status.text()
    assert {u.username: u.role.value for u in ws.admin.list_users()}["mflores"] == "digitador"
    # a duplicate is refused with the workspace's message
    dup = page.new_user()
    dup.username.setText("mflores")
    dup.password.setText("clave-mflores-1")
    dup.password2.setText("clave-mflores-1")
    dup.submit()
    assert "ya existe" in dup.error.text()
    dup.reject()
    # disable (confirmed), then enable again
    page.confirm = lambda box: (box.buttons()[0].click(), True)[1]
    page.toggle_active()
    assert not next(u for u in ws.admin.list_users() if u.username == "mflores").active
    assert page.toggle_btn.text() == "&Activar"
    page.toggle_active()
    assert next(u for u in ws.admin.list_users() if u.username == "mflores").active
    # own account cannot be disabled from here
    page.select("admin")
    assert not page.toggle_btn.isEnabled()
    # one's own password is not reset here (Cuenta › Cambiar mi contraseña)
    assert not page.reset_btn.isEnabled()
    # forgotten password: the administrator gives a new one, to be changed at log-in
    page.select("emp")
    reset = page.reset_password()
    reset.password.setText("nueva-clave-emp1")
    reset.password2.setText("nueva-clave-emp2")
    reset.submit()
    assert reset.isVisible() and "no coinciden" in reset.error.text()
    reset.password2.setText("nueva-clave-emp1")
    reset.submit()
    assert reset.done_ok and "restablecida" in page.status.text()
    row = next(r for r in range(page.table.rowCount()) if page.table.item(r, 0).text() == "emp")
    assert "debe cambiar su contraseña" in page.table.item(row, 3).text()
    ws.logout()
    assert ws.login("emp", "nueva-clave-emp1").must_change_password


def test_audit_page_filters_and_verifies_the_chain(team, homes, qtbot, data_dir):
    team.as_("emp")
    uuid = team.fsu(homes[0])
    ws = team.as_("admin")
    page = AuditPage(ws)
    qtbot.addWidget(page)
    page.reload()
    qtbot.waitUntil(lambda: page.load_job.done and page.table.rowCount() > 0)
    assert page.table.item(0, 3).text() == "Inicio de sesión"
    page.record.setText(uuid)
    page.reload()
    qtbot.waitUntil(lambda: page.load_job.done and page.table.rowCount() == 2)
    assert [page.table.item(r, 3).text() for r in range(2)] == [
        "Ficha completada", "Ficha creada"
    ]
    assert page.table.item(0, 2).text() == "emp"
    page.record.clear()
    page.action.setCurrentIndex(page.action.findData("user_add"))
    qtbot.waitUntil(lambda: page.load_job.done and page.table.rowCount() == 3)
    assert "usuario: emp2" in page.table.item(0, 5).text()

    page.verify()
    qtbot.waitUntil(lambda: page.verify_job.done and page.verify_btn.isEnabled())
    assert page.verify_label.text().startswith("Cadena íntegra")
    # someone edits the log behind the program's back
    raw = sqlite3.connect(data_dir / "siee-campo.db")
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET action='save' WHERE seq=3")
    raw.commit()
    raw.close()
    page.verify()
    qtbot.waitUntil(lambda: page.verify_job.done and page.verify_btn.isEnabled())
    assert "Cadena rota en el registro N° 3" in page.verify_label.text()
    assert ws.user is not None and ADMIN_PW


def test_return_reaches_the_enumerator_in_the_shell(shell, ws_factory, qtbot):
    """Supervisor returns from the review window; the enumerator logs in on the same
    laptop and sees the reason and the pinned question on the record."""
    ws = ws_factory(create=True)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    team = Team(ws, None)
    team.as_("emp")
    uuid = team.fsu(households(1, seed=41)[0])
    ws.close()

    win = shell()
    win.start()

    def login(name: str) -> None:
        win.login_page.user.setCurrentText(name)
        win.login_page.password.setText(PASSWORDS[name])
        win.login_page.submit()
        assert win.stack.currentWidget() is win.records_page

    login("sup")
    sup = win.records_page.supervision.open_supervision()
    qtbot.waitUntil(lambda: sup.queue.model.rowCount() == 1)
    sup.queue.table.selectRow(0)
    rw = sup.queue.return_selected()
    assert rw is not None and rw.reason.isEnabled()
    rw.set_pinned("/fsu/integrantes[1]/fecha_nacimiento")
    rw.reason.setPlainText("Falta confirmar la fecha de nacimiento del jefe.")
    rw.return_record()
    assert win.ws.get(uuid).state == State.RETURNED.value
    win.logout()
    qtbot.waitUntil(lambda: not sup.isVisible())

    login("emp")
    page = win.records_page
    qtbot.waitUntil(lambda: page.returned_banner.isVisibleTo(page))  # the list reloaded
    assert page.model.rowCount() == 1
    page.table.selectRow(0)
    assert "Falta confirmar la fecha de nacimiento" in page.detail.text()
    form = win.open_record(uuid)
    assert form is not None
    assert "Falta confirmar la fecha de nacimiento del jefe." in form.banner.text()
    assert "Fecha de nacimiento" in form.banner.text()  # the pinned question, by its label
    form.close()


def test_reassign_from_the_queue(team, homes, qtbot, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    team.as_("emp")
    uuid = team.fsu(homes[0])
    ws = team.as_("sup")
    page = ReviewQueuePage(ws)
    qtbot.addWidget(page)
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    page.table.selectRow(0)
    offered = []

    def pick(_parent, _title, _label, items, *_a, **_k):
        offered.extend(items)
        return "Luz Condori (emp2)", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(pick))
    with qtbot.waitSignal(page.changed):
        page.reassign_selected()
    assert "Juan Pérez (emp)" in offered and "Luz Condori (emp2)" in offered
    meta = ws.get(uuid)
    assert ws.username_of(meta.assignee_id) == "emp2"
    qtbot.waitUntil(lambda: page.model.rows[0].enumerator == "Luz Condori (emp2)")
    qtbot.waitUntil(lambda: page.load_job.done)
