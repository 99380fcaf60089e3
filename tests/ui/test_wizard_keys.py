"""The first-run wizard by keyboard alone: Enter on the district picker creates the data."""

from PySide6.QtCore import Qt

from app.ui.admin.wizard import FirstRunWizard
from tests.conftest import FAST_KDF


def test_enter_on_the_pickers_moves_on(qtbot, data_dir):
    wiz = FirstRunWizard(data_dir, {"kdf": FAST_KDF})
    qtbot.addWidget(wiz)
    wiz.show()
    page = wiz.currentPage()
    page.name.setText("Rosa Quispe")
    page.password.setText("clave-admin-1")
    page.password2.setText("clave-admin-1")
    qtbot.keyClick(page.password2, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: hasattr(wiz.currentPage(), "picker"), timeout=3000)
    picker = wiz.currentPage().picker
    picker.dep.setFocus()
    qtbot.keyClicks(picker.dep, "Cusco")
    qtbot.keyClick(picker.dep, Qt.Key.Key_Tab)
    qtbot.keyClicks(picker.prov, "Cusco")
    qtbot.keyClick(picker.prov, Qt.Key.Key_Tab)
    qtbot.keyClicks(picker.dist, "Wanchaq")
    assert picker.value() == "080108"
    qtbot.keyClick(picker.dist, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: wiz.ws is not None, timeout=5000)
    assert wiz.ubigeo == "080108"
