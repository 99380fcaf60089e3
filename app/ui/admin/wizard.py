"""First run: a new laptop or the restore of a backup (a replaced laptop); then the
administrator account, ULE ubigeo, recovery code (shown once), optional server
address. The workspace is created when the ubigeo page is left; a restore fills
the still empty data folder instead and ends the wizard."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core.errors import SieeError
from app.store.backup import RestoreResult
from app.ui.admin.backup_dialog import RestoreDialog
from app.ui.common.busy import busy
from app.ui.common.help_panel import show_guide
from app.ui.common.shortcuts import install_help
from app.ui.common.ubigeo_picker import UbigeoPicker
from app.ui.common.worker import user_text
from app.workspace import Workspace

log = logging.getLogger("siee.ui.wizard")

MIN_PASSWORD = 8


def _error_label() -> QLabel:
    lab = QLabel("")
    lab.setObjectName("error")
    lab.setWordWrap(True)
    return lab


class AdminPage(QWizardPage):
    """The first page: the administrator of a new laptop, or «Restaurar una copia»
    (a replaced laptop) before anything is written to the data folder."""

    def __init__(self, restore: Callable[[], object] | None = None) -> None:
        super().__init__()
        self.setTitle("Cuenta del administrador")
        self.setSubTitle(
            "Esta persona configura el equipo, crea los usuarios de la ULE y recupera "
            "contraseñas olvidadas."
        )
        self.name = QLineEdit()
        self.username = QLineEdit("admin")
        self.password = QLineEdit()
        self.password2 = QLineEdit()
        for w in (self.password, self.password2):
            w.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = _error_label()
        form = QFormLayout(self)
        form.addRow("Nombre completo:", self.name)
        form.addRow("&Usuario:", self.username)
        form.addRow("&Contraseña:", self.password)
        form.addRow("&Repita la contraseña:", self.password2)
        hint = QLabel(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
        hint.setObjectName("hint")
        form.addRow("", hint)
        form.addRow("", self.error)
        for w in (self.username, self.password, self.password2):
            w.textChanged.connect(self.completeChanged)
        self.restore_btn = QPushButton("Restaurar una copia de respal&do…")
        restore_hint = QLabel(
            "¿Esta laptop reemplaza a otra (dañada, robada o cambiada)? No cree un "
            "administrador nuevo: restaure la última copia de respaldo. Los usuarios entran "
            "con sus mismas contraseñas y las fichas no enviadas se conservan.")
        restore_hint.setObjectName("hint")
        restore_hint.setWordWrap(True)
        form.addRow("", restore_hint)
        form.addRow("", self.restore_btn)
        if restore is not None:
            self.restore_btn.clicked.connect(restore)

    def isComplete(self) -> bool:
        return bool(self.username.text().strip() and self.password.text())

    def validatePage(self) -> bool:
        if len(self.password.text()) < MIN_PASSWORD:
            self.error.setText(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
            return False
        if self.password.text() != self.password2.text():
            self.error.setText("Las contraseñas no coinciden. Escríbalas de nuevo.")
            self.password2.clear()
            self.password2.setFocus()
            return False
        self.error.clear()
        return True


class UbigeoPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Ubicación de la ULE")
        self.setSubTitle(
            "Elija el distrito de la municipalidad. Al continuar se crean los datos "
            "cifrados de este equipo."
        )
        self.picker = UbigeoPicker()
        self.error = _error_label()
        lay = QVBoxLayout(self)
        lay.addWidget(self.picker)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self.picker.changed.connect(self.completeChanged)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Crear y &continuar")

    def isComplete(self) -> bool:
        return bool(self.picker.value())

    def validatePage(self) -> bool:
        try:
            with busy(self.error, "Creando la base de datos cifrada de este equipo…"):
                self.wiz.create_workspace(self.picker.value())
        except SieeError as e:
            self.error.setText(user_text(e))
            return False
        return True


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Código de recuperación")
        self.setSubTitle(
            "Con este código se recupera el acceso si se olvida una contraseña. Se muestra "
            "UNA SOLA VEZ: anótelo o imprímalo y guárdelo bajo llave, lejos del equipo."
        )
        self.code = QLabel("")
        self.code.setObjectName("recovery")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.print_btn = QPushButton("&Imprimir…")
        self.print_btn.clicked.connect(self.print_code)
        self.confirm = QLineEdit()
        self.confirm.setMaxLength(5)
        self.confirm.setPlaceholderText("5 caracteres")
        self.confirm.textChanged.connect(self.completeChanged)
        self.ack = QCheckBox("Anoté el código y lo guardaré en un lugar seguro.")
        self.ack.toggled.connect(self.completeChanged)
        lay = QVBoxLayout(self)
        lay.addWidget(self.code)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.print_btn)
        lay.addLayout(row)
        lab = QLabel("Para comprobar que lo anotó, escriba el &último grupo del código:")
        lab.setBuddy(self.confirm)
        lay.addWidget(lab)
        lay.addWidget(self.confirm)
        lay.addWidget(self.ack)
        lay.addStretch(1)

    def initializePage(self) -> None:
        self.code.setText(self.wiz.recovery_code)
        self.confirm.setFocus()

    def isComplete(self) -> bool:
        last = self.wiz.recovery_code.rsplit("-", 1)[-1]
        return self.confirm.text().strip().upper() == last and self.ack.isChecked()

    def print_code(self) -> None:
        # Deferred on purpose: QtPrintSupport loads the platform's print system, only
        # wanted when someone prints (tests/test_layers.py DEFERRED_OK).
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        dlg = QPrintDialog(printer, self)
        dlg.setWindowTitle("Imprimir código de recuperación")
        if dlg.exec() != QPrintDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: Any) -> None:
        doc = QTextDocument()
        doc.setHtml(recovery_sheet_html(self.wiz.recovery_code, self.wiz.ubigeo))
        doc.print_(printer)


def recovery_sheet_html(code: str, ubigeo: str) -> str:
    return (
        "<h2>SIEE Campo — código de recuperación</h2>"
        f"<p>ULE (ubigeo): {ubigeo}</p>"
        f"<p style='font-size:20pt; font-family:monospace'><b>{code}</b></p>"
        "<p>Guárdelo bajo llave. Sirve para recuperar el acceso a los datos de este "
        "equipo si se olvida una contraseña.</p>"
    )


class ServerPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Servidor del SIEE (opcional)")
        self.setSubTitle(
            "Si ya tiene la dirección del servidor y el código de inscripción, escríbalos. "
            "Puede dejarlos en blanco y completarlos después."
        )
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://siee.ejemplo.gob.pe")
        self.code = QLineEdit()
        self.error = _error_label()
        form = QFormLayout(self)
        form.addRow("&Dirección del servidor:", self.url)
        form.addRow("Código de &inscripción:", self.code)
        form.addRow("", self.error)

    def validatePage(self) -> bool:
        url = self.url.text().strip()
        if url and not valid_server_url(url):
            self.error.setText(
                "La dirección debe empezar con https:// (http:// solo para este mismo equipo)."
            )
            return False
        self.error.clear()
        return True


def valid_server_url(url: str) -> bool:
    if url.startswith("https://") and len(url) > len("https://"):
        return True
    local = ("http://localhost", "http://127.0.0.1", "http://[::1]")
    return any(url == p or url.startswith(p + ":") or url.startswith(p + "/") for p in local)


class FirstRunWizard(QWizard):
    """Emits `accepted` (QDialog) when done; `self.ws` is then the new workspace with
    the administrator logged in."""

    def __init__(
        self,
        data_dir: Path,
        ws_kwargs: dict[str, Any] | None = None,
        parent: QWidget | None = None,
        on_created: Callable[[Workspace], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.ws_kwargs = ws_kwargs or {}
        self.ws: Workspace | None = None
        self.recovery_code = ""
        self.ubigeo = ""
        self.enrollment_code = ""
        self._on_created = on_created
        self.setWindowTitle("SIEE Campo — configuración inicial")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.NextButton, "&Siguiente >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< &Atrás")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Terminar")
        self.setButtonText(QWizard.WizardButton.CancelButton, "Cancelar")
        self.setOption(QWizard.WizardOption.HaveHelpButton, True)
        self.setButtonText(QWizard.WizardButton.HelpButton, "Ayuda (F1)")
        self.helpRequested.connect(lambda: show_guide(self, "wizard"))
        install_help(self, lambda: show_guide(self, "wizard"))
        self.restored: RestoreResult | None = None
        self.restore_dialog: RestoreDialog | None = None
        self.admin_page = AdminPage(self.start_restore)
        self.ubigeo_page = UbigeoPage(self)
        self.recovery_page = RecoveryPage(self)
        self.server_page = ServerPage()
        for p in (self.admin_page, self.ubigeo_page, self.recovery_page, self.server_page):
            self.addPage(p)
        self.resize(760, 560)

    def preset(self, enrollment: tuple[str, str] | None, ule: str | None) -> None:
        """What IT handed the program (`run --server --enroll-code --ule`): the server
        page shows the address and code, the district page proposes the ULE. The
        person can still change them."""
        if enrollment is not None:
            self.server_page.url.setText(enrollment[0])
            self.server_page.code.setText(enrollment[1])
        if ule:
            self.ubigeo_page.picker.set_value(ule)

    def start_restore(self) -> RestoreDialog:
        """«Restaurar una copia»: the restore dialog, into this (still empty) data folder;
        when it succeeds the wizard ends with `restored` set."""
        if self.ws is not None:  # a new workspace was already created here
            raise SieeError("restore after set-up", "Esta carpeta ya tiene datos.")
        dlg = RestoreDialog(self.data_dir, self, program_folder=True)
        dlg.target.setReadOnly(True)  # the folder the program opens
        dlg.accepted.connect(lambda: self._restored(dlg))
        self.restore_dialog = dlg
        dlg.open()
        return dlg

    def _restored(self, dlg: RestoreDialog) -> None:
        self.restored = dlg.result
        log.info("first run: backup restored instead of a new set-up")
        # QDialog's done: QWizard.done(Accepted) would first validate the (unfilled)
        # administrator page and stay open
        QDialog.done(self, QDialog.DialogCode.Accepted)

    def create_workspace(self, ubigeo: str) -> None:
        if self.ws is not None:
            return
        a = self.admin_page
        self.ws, self.recovery_code = Workspace.create(
            self.data_dir,
            a.username.text().strip(),
            a.password.text(),
            ule_ubigeo=ubigeo,
            display_name=a.name.text().strip(),
            **self.ws_kwargs,
        )
        self.ubigeo = ubigeo
        log.info("first-run workspace created")
        if self._on_created:
            self._on_created(self.ws)

    def accept(self) -> None:
        if self.ws is not None:
            url = self.server_page.url.text().strip()
            self.enrollment_code = self.server_page.code.text().strip()
            if url:
                try:
                    self.ws.settings.update(server_url=url)
                except SieeError as e:
                    self.server_page.error.setText(user_text(e))
                    return
        super().accept()

    def reject(self) -> None:
        if self.ws is not None and not self.recovery_page.isComplete():
            # the data already exist: the code must not be lost by a hasty Cancel
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("Código de recuperación")
            box.setText(
                "Los datos ya se crearon. Anote el código de recuperación y escriba su "
                "último grupo antes de salir: no se volverá a mostrar."
            )
            box.open()
            return
        super().reject()

    @property
    def admin_username(self) -> str:
        return self.admin_page.username.text().strip().lower()
