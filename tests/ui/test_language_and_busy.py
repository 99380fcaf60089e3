"""Spanish everywhere (Qt's own dialogs and buttons, plurals) and a visible
«working» state for the steps that block the screen (issue 16, items 11 and 13)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.ui.common.busy import is_busy
from app.ui.common.translations import install_qt_spanish
from app.ui.common.wording import plural
from tests.review.conftest import Team


def test_qt_dialogs_and_standard_buttons_speak_spanish(qapp):
    assert install_qt_spanish(qapp)
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    texts = {b.text().replace("&", "") for b in box.buttons()}
    assert texts == {"Guardar", "Cancelar"}
    look_in = QCoreApplication.translate("QFileDialog", "Look in:")
    assert look_in != "Look in:" and look_in.strip()
    assert install_qt_spanish(qapp)  # a second call installs nothing twice
    assert sum(1 for t in qapp._siee_translators if t.objectName() == "qtbase_es") == 1


def test_one_helper_for_plurals():
    assert plural(1, "Se aprobó {n} ficha", "Se aprobaron {n} fichas") == "Se aprobó 1 ficha"
    assert plural(2, "Se aprobó {n} ficha", "Se aprobaron {n} fichas") == "Se aprobaron 2 fichas"
    assert plural(0, "{n} ficha", "{n} fichas") == "0 fichas"
    assert plural(0, "a", "b", zero="ninguna") == "ninguna"


def test_records_screen_counts_in_good_spanish(logged_in, qtbot):
    page = logged_in.records_page
    qtbot.waitUntil(lambda: page.status.text() == "0 fichas",
                    timeout=5000)
    page.new_record.emit("s100", "")
    qtbot.waitUntil(lambda: bool(logged_in.forms), timeout=5000)
    for w in list(logged_in.forms.values()):
        w.close()
    qtbot.waitUntil(lambda: page.status.text() == "1 ficha de 1 hogar (expediente)", timeout=5000)


def test_new_fsu_from_s100_shows_that_it_is_working(logged_in, qtbot, clock):
    win = logged_in
    ws = win.ws
    from app.demo import households

    s100 = Team(ws, clock).s100(households(1, seed=5)[0])
    seen: list[tuple[bool, object, str]] = []
    real = ws.new_record

    def watching(*args, **kw):  # the real call, watched from inside
        cursor = QApplication.overrideCursor()
        seen.append((is_busy(), cursor.shape() if cursor else None, win.records_page.status.text()))
        return real(*args, **kw)

    ws.new_record = watching
    try:
        w = win.new_record("fsu", s100)
    finally:
        del ws.new_record
    assert w is not None
    text = "Preparando la FSU con los datos de la S100…"
    assert seen == [(True, Qt.CursorShape.WaitCursor, text)]
    assert QApplication.overrideCursor() is None  # restored afterwards
    assert win.records_page.status.text() != text
    w.close()


def test_wizard_create_step_shows_that_it_is_working(shell, qtbot):
    win = shell()
    win.start()
    wiz = win.wizard
    a = wiz.admin_page
    a.name.setText("Rosa Quispe")
    a.username.setText("rquispe")
    a.password.setText("clave-segura-1")
    a.password2.setText("clave-segura-1")
    wiz.next()
    wiz.ubigeo_page.picker.set_value("080108")
    seen: list[tuple[bool, str]] = []
    real = wiz.create_workspace

    def watching(*args, **kw):
        seen.append((is_busy(), wiz.ubigeo_page.error.text()))
        return real(*args, **kw)

    wiz.create_workspace = watching
    wiz.next()
    assert wiz.currentPage() is wiz.recovery_page
    assert seen == [(True, "Creando la base de datos cifrada de este equipo…")]
    assert QApplication.overrideCursor() is None
    # finish the wizard (leaving it half-done would show a warning box)
    wiz.recovery_page.confirm.setText(wiz.recovery_code[-5:])
    wiz.recovery_page.ack.setChecked(True)
    wiz.next()
    wiz.accept()
    qtbot.waitUntil(lambda: win.isVisible(), timeout=5000)
