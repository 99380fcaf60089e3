"""Backup and restore screens for administrators.

BackupDialog writes an encrypted copy of the whole workspace (in the background,
with progress). RestoreDialog opens a backup with the recovery code or an
administrator's password and restores it into a new or empty folder; it needs no
open workspace, so it also serves a new laptop."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import Perm, require
from app.core.states import STATE_LABELS
from app.paths import backup_folder, same_disk
from app.store.backup import (
    SUFFIX,
    BackupInfo,
    RestoreResult,
    backup_target,
    inspect_backup,
    restore_backup,
)
from app.ui.common.worker import Job, run_job, user_text
from app.workspace import Workspace

log = logging.getLogger("siee.ui.backup")


class WrapLabel(QLabel):
    """A word-wrapped label whose dialog grows to show all of it when its text changes
    after the dialog is shown (an error under the description, a backup's summary):
    Qt sizes a dialog once, and a longer text was cut off (issue 17, IT's day)."""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        grow_to_fit(self.window())


def grow_to_fit(window: QWidget) -> None:
    """Make `window` tall enough for its layout at its current width (word-wrapped
    labels included), within the screen's available height; never shrinks it."""
    lay = window.layout()
    if lay is None or not window.isVisible():
        return
    lay.activate()
    need = lay.heightForWidth(window.width()) if lay.hasHeightForWidth() \
        else lay.sizeHint().height()
    screen = window.screen()
    if screen is not None:
        need = min(need, screen.availableGeometry().height() - 40)
    if need > window.height():
        window.resize(window.width(), need)


def _label(name: str = "hint") -> QLabel:
    lab = WrapLabel("")
    lab.setObjectName(name)
    lab.setWordWrap(True)
    return lab


def default_backup_name() -> str:
    return time.strftime("siee-campo-%Y%m%d-%H%M") + SUFFIX


def describe(info: BackupInfo) -> str:
    when = time.strftime("%d/%m/%Y %H:%M", time.localtime(info.created_at))
    labels = {st.value: text for st, text in STATE_LABELS.items()}
    parts = [f"{labels.get(s, s)}: {n}" for s, n in info.counts.items() if n]
    return (
        f"Copia del {when}, programa {info.program_version}, {info.records} fichas"
        + (f" ({', '.join(parts)})" if parts else "")
        + f". Administradores que pueden abrirla: {', '.join(info.admins) or 'ninguno'}."
    )


class BackupDialog(QDialog):
    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        require(ws.current_user().role, Perm.BACKUP)
        self.ws = ws
        self.job: Job | None = None
        self.result_info: BackupInfo | None = None
        self.setWindowTitle("SIEE Campo — copia de respaldo")
        self.setMinimumWidth(600)

        title = QLabel("Copia de respaldo cifrada")
        title.setObjectName("title")
        intro = _label()
        intro.setText(
            "Guarda todas las fichas (también las no enviadas), los usuarios, la bitácora y "
            "los formularios en un solo archivo cifrado. Solo se abre con el código de "
            "recuperación o con la contraseña de un administrador. Guárdelo fuera de esta "
            "laptop (memoria USB o carpeta de red)."
        )
        folder, _off = backup_folder(ws.data_dir)
        self.path = QLineEdit(str(folder / default_backup_name()))
        self.where = _label("warning")
        self.path.textChanged.connect(self._check_place)
        pick = QPushButton("&Elegir…")
        pick.clicked.connect(self._pick)
        row = QHBoxLayout()
        file_label = QLabel("&Archivo:")
        file_label.setBuddy(self.path)
        row.addWidget(file_label)
        row.addWidget(self.path, 1)
        row.addWidget(pick)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = _label()
        self.error = _label("error")
        buttons = QDialogButtonBox()
        self.start_btn = buttons.addButton("&Crear copia", QDialogButtonBox.ButtonRole.ActionRole)
        self.start_btn.setObjectName("primary")
        self.close_btn = buttons.addButton("Cerrar", QDialogButtonBox.ButtonRole.RejectRole)
        self.start_btn.clicked.connect(self.start)
        self.close_btn.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (title, intro):
            lay.addWidget(w)
        lay.addLayout(row)
        for w in (self.where, self.progress, self.status, self.error, buttons):
            lay.addWidget(w)
        self._check_place()

    def _check_place(self) -> None:
        """Warn when the chosen file stays on this laptop (same disk as its data)."""
        text = self.path.text().strip()
        if not text:
            self.where.clear()
            return
        target = Path(text)
        data = Path(self.ws.data_dir)
        if data.resolve() in target.resolve().parents:
            self.where.setText("No guarde la copia dentro de la carpeta de datos del programa: "
                               "elija una memoria USB o una carpeta de red.")
        elif same_disk(target.parent, data):
            self.where.setText(
                "Atención: este archivo queda en esta laptop. Si la laptop se daña o se "
                "pierde, la copia se pierde con ella: elija una memoria USB o una carpeta de "
                "red, o copie el archivo allí después.")
        else:
            self.where.clear()

    def _pick(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Guardar copia de respaldo", self.path.text(), f"Copia SIEE (*{SUFFIX})"
        )
        if path:
            self.path.setText(path if path.endswith(SUFFIX) else path + SUFFIX)

    def start(self) -> None:
        if not self.path.text().strip():
            self.error.setText("Elija dónde guardar la copia.")
            return
        try:  # the console's rule: .sieebak added, a missing folder refused
            target = backup_target(Path(self.path.text().strip()))
        except SieeError as e:
            self.error.setText(e.user_message)
            return
        self.path.setText(str(target))
        self.error.clear()
        self.start_btn.setEnabled(False)
        self.status.setText("Creando la copia…")
        ws = self.ws

        def work(job: Job) -> BackupInfo:
            return ws.admin.backup_to(target, progress=job.progress)

        self.job = run_job(
            work,
            on_result=self._done,
            on_error=self._failed,
            on_progress=lambda d, t: self.progress.setValue(int(100 * d / max(t, 1))),
        )

    def _done(self, info: BackupInfo) -> None:
        self.result_info = info
        self.progress.setValue(100)
        self.start_btn.setEnabled(True)
        self.status.setObjectName("ok")
        self.status.setText(
            f"Copia creada: {info.path} ({info.size / 1e6:.1f} MB, {info.records} fichas)."
        )
        log.info("backup done from the screen")

    def _failed(self, exc: BaseException) -> None:
        self.start_btn.setEnabled(True)
        self.status.clear()
        self.error.setText(user_text(exc))


class RestoreDialog(QDialog):
    """Restore a backup into `target` (a new or empty folder). `program_folder`: the
    target is the data folder the program will open (the first-run wizard); otherwise
    it is a folder apart (Administración → Restaurar una copia…), usually a test of the
    copy, which must not be enrolled."""

    def __init__(self, target: Path | None = None, parent: QWidget | None = None,
                 program_folder: bool = False) -> None:
        super().__init__(parent)
        self.program_folder = program_folder
        self.job: Job | None = None
        self.info: BackupInfo | None = None
        self.result: RestoreResult | None = None
        self.setWindowTitle("SIEE Campo — restaurar copia de respaldo")
        self.setMinimumWidth(640)
        title = QLabel("Restaurar una copia de respaldo")
        title.setObjectName("title")
        intro = _label()
        intro.setText(
            "Restaura una copia en una carpeta nueva o vacía (nunca sobre datos existentes). "
            "Las fichas no enviadas se conservan; después inscriba este equipo en el servidor "
            "para enviarlas."
        )
        self.file = QLineEdit()
        self.file.editingFinished.connect(self._inspect)
        pick = QPushButton("&Elegir…")
        pick.clicked.connect(self._pick_file)
        frow = QHBoxLayout()
        frow.addWidget(self.file, 1)
        frow.addWidget(pick)
        self.summary = _label()
        self.target = QLineEdit(str(target) if target else "")
        tpick = QPushButton("Ele&gir…")
        tpick.clicked.connect(self._pick_target)
        trow = QHBoxLayout()
        trow.addWidget(self.target, 1)
        trow.addWidget(tpick)
        self.use_code = QRadioButton("Código de recu&peración")
        self.use_admin = QRadioButton("&Usuario y contraseña de administrador")
        self.use_code.setChecked(True)
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX")
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        for w in (self.use_code, self.use_admin):
            w.toggled.connect(self._mode)
        form = QFormLayout()
        form.addRow("&Copia:", _wrap(frow))
        form.addRow("", self.summary)
        form.addRow("Carpeta de &destino:", _wrap(trow))
        form.addRow("Abrir con:", self.use_code)
        form.addRow("", self.code)
        form.addRow("", self.use_admin)
        form.addRow("Usuario:", self.username)
        form.addRow("Contraseña:", self.password)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.status = _label("ok")
        self.error = _label("error")
        buttons = QDialogButtonBox()
        self.start_btn = buttons.addButton("&Restaurar", QDialogButtonBox.ButtonRole.ActionRole)
        self.start_btn.setObjectName("primary")
        self.close_btn = buttons.addButton("Cerrar", QDialogButtonBox.ButtonRole.RejectRole)
        self.start_btn.clicked.connect(self.start)
        self.close_btn.clicked.connect(self._close)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addLayout(form)
        for w in (self.progress, self.status, self.error, buttons):
            lay.addWidget(w)
        self._mode()

    def _mode(self) -> None:
        code = self.use_code.isChecked()
        self.code.setEnabled(code)
        self.username.setEnabled(not code)
        self.password.setEnabled(not code)

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Copia de respaldo", "", f"Copia SIEE (*{SUFFIX});;Todos (*)"
        )
        if path:
            self.file.setText(path)
            self._inspect()

    def _pick_target(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Carpeta de destino (vacía)")
        if path:
            self.target.setText(path)

    def _inspect(self) -> None:
        self.info = None
        self.summary.clear()
        self.error.clear()
        if not self.file.text().strip():
            return
        try:
            self.info = inspect_backup(Path(self.file.text().strip()))
        except SieeError as e:
            self.error.setText(user_text(e))
            return
        except OSError:
            self.error.setText("No se pudo leer el archivo. Revise la ruta.")
            return
        self.summary.setText(describe(self.info))
        if self.info.admins and not self.username.text():
            self.username.setText(self.info.admins[0])

    def start(self) -> None:
        self._inspect()
        if self.info is None:
            if not self.error.text():
                self.error.setText("Elija el archivo de la copia de respaldo.")
            return
        if not self.target.text().strip():
            self.error.setText("Elija la carpeta de destino (nueva o vacía).")
            return
        path, target = self.info.path, Path(self.target.text().strip())
        if self.use_code.isChecked():
            kw = {"recovery_code": self.code.text()}
        else:
            kw = {"username": self.username.text(), "password": self.password.text()}
        self.start_btn.setEnabled(False)
        self.progress.show()
        self.status.setText("Verificando y restaurando…")

        def work(_job: Job) -> RestoreResult:
            return restore_backup(path, target, **kw)

        self.job = run_job(work, on_result=self._done, on_error=self._failed)

    def _done(self, res: RestoreResult) -> None:
        self.result = res
        self.progress.hide()
        self.password.clear()
        self.code.clear()
        msg = f"Restauradas {res.records} fichas en {res.target}."
        if res.enrollment_cleared and self.program_folder:
            msg += " Inscriba este equipo en el servidor para enviar las fichas pendientes."
        elif not self.program_folder:
            msg += (" Es una carpeta aparte: el programa sigue abriendo sus datos de siempre. "
                    "Si solo probaba la copia, no la inscriba en el servidor: revísela "
                    f"abriendo el programa con «siee-campo --data {res.target}» y bórrela al "
                    "terminar.")
        self.status.setText(msg)
        self.close_btn.setText("Terminar")

    def _failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self.status.clear()
        self.start_btn.setEnabled(True)
        self.password.clear()
        self.error.setText(user_text(exc))

    def _close(self) -> None:
        if self.result is not None:
            self.accept()
        else:
            self.reject()


def _wrap(layout: QHBoxLayout) -> QWidget:
    layout.setContentsMargins(0, 0, 0, 0)
    w = QWidget()
    w.setLayout(layout)
    return w
