"""First run, log-in, lock-out, log-out and the inactivity lock, on the real windows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard

from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF


def test_first_run_wizard_then_login(shell, qtbot, data_dir):
    win = shell()
    win.start()
    wiz = win.wizard
    assert wiz is not None and wiz.isVisible()
    a = wiz.admin_page
    a.name.setText("Rosa Quispe")
    a.username.setText("rquispe")
    a.password.setText("clave-segura-1")
    a.password2.setText("otra-clave-xx")
    wiz.next()
    assert wiz.currentPage() is a  # mismatch refused
    assert "no coinciden" in a.error.text()
    a.password2.setText("clave-segura-1")
    wiz.next()
    assert wiz.currentPage() is wiz.ubigeo_page
    assert not wiz.ubigeo_page.isComplete()
    wiz.ubigeo_page.picker.set_value("080108")
    assert wiz.ubigeo_page.picker.value() == "080108"
    assert "080108" in wiz.ubigeo_page.picker.code_label.text()
    wiz.next()  # commit: creates the workspace
    assert wiz.currentPage() is wiz.recovery_page
    wiz.reject()  # Cancel before the code was confirmed is refused
    assert wiz.isVisible() and wiz.result() == 0
    code = wiz.recovery_code
    assert wiz.recovery_page.code.text() == code and len(code) == 23
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    pdf = data_dir.parent / "codigo.pdf"
    printer.setOutputFileName(str(pdf))
    wiz.recovery_page.print_to(printer)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    wiz.recovery_page.confirm.setText("ZZZZZ" if not code.endswith("ZZZZZ") else "YYYYY")
    wiz.recovery_page.ack.setChecked(True)
    assert not wiz.recovery_page.isComplete()
    wiz.recovery_page.confirm.clear()
    QTest.keyClicks(wiz.recovery_page.confirm, code[-5:].lower())
    assert wiz.recovery_page.isComplete()
    wiz.next()
    assert wiz.currentPage() is wiz.server_page
    wiz.server_page.url.setText("http://siee.example.pe")
    wiz.accept()
    assert "https://" in wiz.server_page.error.text()
    wiz.server_page.url.setText("https://siee.example.pe")
    wiz.accept()
    qtbot.waitUntil(lambda: win.isVisible())
    assert win.stack.currentWidget() is win.login_page
    assert win.login_page.user.currentText() == "rquispe"
    assert "Configuración terminada" in win.login_page.notice.text()
    assert win.login_page.place.text() == "ULE de Wanchaq (Cusco, Cusco)"
    # log in with the new password
    QTest.keyClicks(win.login_page.password, "clave-segura-1")
    QTest.keyClick(win.login_page.password, Qt.Key.Key_Return)
    assert win.stack.currentWidget() is win.records_page
    assert "Rosa Quispe" in win.records_page.who.text()
    assert win.ws.settings.values()["server_url"] == "https://siee.example.pe"
    assert win.ws.settings.values()["ule_ubigeo"] == "080108"
    # the recovery code really unlocks the data
    win.close()
    ws = Workspace.open(data_dir, kdf=FAST_KDF)
    ws.reset_password_with_recovery("rquispe", code, "nueva-clave-99")
    ws.login("rquispe", "nueva-clave-99")
    ws.close()


def test_wrong_password_then_lockout_with_wait(shell, ws_factory, qtbot):
    ws_factory(create=True).close()
    win = shell()
    win.start()
    page = win.login_page
    assert win.stack.currentWidget() is page
    assert page.user.currentText() == "admin"
    page.password.setText("equivocada")
    page.submit()
    assert "incorrectos" in page.message.text() and "4 intento" in page.message.text()
    assert win.stack.currentWidget() is page
    for _ in range(4):
        page.password.setText("equivocada")
        page.submit()
    assert "bloqueada" in page.message.text()
    assert "Tiempo restante: 30 s" in page.message.text()
    assert not page.button.isEnabled()
    # even the right password is refused while locked
    page.password.setText(ADMIN_PW)
    page.submit()
    assert win.stack.currentWidget() is page
    page._locked_until = 0.0001  # as if the wait ended
    page._tick()
    assert page.button.isEnabled() and "Ya puede" in page.message.text()


def test_logout_and_inactivity_lock(shell, ws_factory, qtbot):
    ws_factory(create=True).close()
    win = shell(autolock_ms=300)
    win.start()
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    assert win.ws.user is not None
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.login_page, timeout=3000)
    assert win.ws.user is None
    assert "inactividad" in win.login_page.notice.text()
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.ws.user is not None
    win.records_page.logout_btn.click()
    assert win.ws.user is None and win.stack.currentWidget() is win.login_page
    assert win.login_page.notice.text() == ""


def test_inactivity_lock_saves_and_closes_open_forms(shell, ws_factory, qtbot):
    from PySide6.QtWidgets import QApplication

    ws_factory(create=True).close()
    win = shell(autolock_ms=1500)
    win.start()
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    w = win.new_record("fsu")
    assert w is not None
    uuid = w.uuid
    QTest.qWaitForWindowActive(w, 3000)
    QTest.keyClicks(QApplication.focusWidget(), "15")  # departamento, auto-advances
    QTest.keyClicks(QApplication.focusWidget(), "15")  # provincia, still being typed
    qtbot.waitUntil(lambda: win.ws.user is None, timeout=5000)
    assert not win.forms and not w.isVisible()
    assert win.stack.currentWidget() is win.login_page
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    answers = win.ws.load_answers(uuid)["answers"]
    assert answers["/fsu/ubicacion/departamento"] == "15"


RUN_GUI_CHILD = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.ui.shell.main import run_gui

app = QApplication([])

def look_and_quit():
    for w in QApplication.topLevelWidgets():
        if w.isVisible():
            print("visible", type(w).__name__, w.windowTitle(), flush=True)
            w.close()
    QApplication.quit()

QTimer.singleShot(500, look_and_quit)
sys.exit(run_gui(Path(sys.argv[1])))
"""


def test_run_gui_opens_the_wizard_on_a_new_folder(tmp_path):
    # in a child process: once a QApplication's exec() returned, Qt ends every later
    # event loop at once, which would break the tests that follow in this process
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", RUN_GUI_CHILD, str(tmp_path / "nuevo")],
        cwd=root,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "visible FirstRunWizard SIEE Campo — configuración inicial" in out.stdout


def test_demo_mode_fills_an_empty_workspace(shell, ws_factory, data_dir, clock, qtbot):
    from app.ui.shell.app_window import build

    ws_factory(create=True).close()
    win = build(data_dir, {"kdf": FAST_KDF, "clock": clock}, demo=True)
    qtbot.addWidget(win)
    win.start()
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    page = win.records_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 24, timeout=30000)
    assert {r.meta.form_id for r in page.model.rows} == {"s100", "fsu"}
    assert all(r.cells()[0] and not r.cells()[0].startswith("(") for r in page.model.rows)
    win.close()


def test_record_of_a_form_version_not_installed_gives_a_spanish_message(logged_in, monkeypatch):
    import app.ui.shell.app_window as app_window

    shown: list[str] = []
    monkeypatch.setattr(app_window, "show_error", lambda _p, e: shown.append(e.user_message))
    uuid = logged_in.ws.new_record("fsu", "1999010101", {})
    assert logged_in.open_record(uuid) is None
    assert shown and "no está instalado" in shown[0]
    assert uuid not in logged_in.forms


def test_activity_in_the_window_postpones_the_lock(shell, ws_factory, qtbot):
    ws_factory(create=True).close()
    win = shell(autolock_ms=600)
    win.start()
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    handle = win.windowHandle()
    assert handle is not None
    for _ in range(6):  # 1.2 s of typing: longer than the lock delay
        QTest.keyClick(handle, Qt.Key.Key_Shift)
        qtbot.wait(200)
        assert win.ws.user is not None
    qtbot.waitUntil(lambda: win.ws.user is None, timeout=3000)  # then idle: it locks
