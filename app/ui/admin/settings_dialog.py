"""Settings screen for administrators: each option with its value and where the
value comes from (default, IT's settings file, this laptop); options that IT
fixed in the file are shown read-only. Saving goes through Workspace.save_settings
(role check, validation, audit)."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import Perm, require
from app.ui.common.fingerprint import (
    COMPARE_HINT,
    fingerprint_label,
    fingerprint_of,
)
from app.ui.common.ubigeo_picker import UbigeoPicker
from app.ui.common.wording import LOCKED_TIP, plural
from app.ui.common.worker import user_text
from app.workspace import Workspace
from app.workspace.settings import MAX_AUTOLOCK_MINUTES, SETTINGS_FILE, machine_dir, program_dir

SOURCE_WORDS = {"predeterminado": "el valor inicial del programa"}

log = logging.getLogger("siee.ui.settings")


class SettingsDialog(QDialog):
    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        require(ws.current_user().role, Perm.SETTINGS_MANAGE)
        self.ws = ws
        self.setWindowTitle("SIEE Campo — configuración")
        self.setMinimumWidth(820)
        self.rows = {r["key"]: r for r in ws.settings.view()}

        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("https://servidor.gob.pe")
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setPlaceholderText("(los certificados incluidos en el programa)")
        self.ca_pick = QPushButton("&Elegir…")
        self.ca_pick.clicked.connect(self._pick_ca)
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(self.ca_pick)
        ca_box = QWidget()
        ca_box.setLayout(ca_row)
        self.ule = UbigeoPicker()
        self.autolock = QSpinBox()
        self.autolock.setRange(0, MAX_AUTOLOCK_MINUTES)
        self.autolock.setSuffix(" min")
        self.autolock.setSpecialValueText("nunca")
        self.review = QCheckBox("Obligatoria (el supervisor aprueba cada ficha)")

        self.editors: dict[str, QWidget] = {
            "server_url": self.server_url,
            "ca_bundle": ca_box,
            "ule_ubigeo": self.ule,
            "autolock_minutes": self.autolock,
            "review_required": self.review,
        }
        self.source_labels: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, editor in self.editors.items():
            row = self.rows[key]
            src = QLabel(self._source_text(row))
            src.setObjectName("hint")
            src.setWordWrap(True)
            self.source_labels[key] = src
            box = QVBoxLayout()
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(editor)
            box.addWidget(src)
            holder = QWidget()
            holder.setLayout(box)
            form.addRow(f"{row['label']}:", holder)
            if row["locked"]:
                editor.setEnabled(False)
                editor.setToolTip(LOCKED_TIP)
        self._load_values()

        fs = ws.settings.file()
        files = QLabel(self._files_text(fs))
        files.setObjectName("hint")
        files.setWordWrap(True)
        self.file_errors = QLabel("\n".join(fs.errors))
        self.file_errors.setObjectName("warning")
        self.file_errors.setWordWrap(True)
        self.file_errors.setVisible(bool(fs.errors))
        self.message = QLabel("")
        self.message.setObjectName("error")
        self.message.setWordWrap(True)

        buttons = QDialogButtonBox()
        self.save_btn = buttons.addButton("&Guardar", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_btn.setObjectName("primary")
        cancel = buttons.addButton("Cancelar", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_btn.clicked.connect(self.save)
        cancel.clicked.connect(self.reject)

        title = QLabel("Configuración del equipo")
        title.setObjectName("title")
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(files)
        lay.addWidget(self.file_errors)
        lay.addLayout(form)
        self._add_enrollment(lay)
        lay.addWidget(self.message)
        lay.addWidget(buttons)

    def _add_enrollment(self, lay: QVBoxLayout) -> None:
        """The enrollment as IT checks it: device, ULE, server and the fingerprint of the
        server key the laptop pinned (also for a laptop enrolled by the first-run
        wizard or the console)."""
        dev = self.ws.centre.device()
        head = QLabel("Inscripción en el servidor del SIEE")
        head.setObjectName("subtitle")
        self.enrollment = QLabel()
        self.enrollment.setWordWrap(True)
        self.fingerprint = fingerprint_label()
        lay.addWidget(head)
        lay.addWidget(self.enrollment)
        if dev is None:
            self.enrollment.setText("Este equipo no está inscrito: inscríbalo en el menú "
                                    "Sincronización → Inscribir equipo….")
            self.fingerprint.setVisible(False)
        else:
            self.enrollment.setText(
                f"Equipo {dev.device_id}, ULE {dev.ule_ubigeo}, en {dev.server_url}. "
                f"{COMPARE_HINT}")
            self.fingerprint.setText(fingerprint_of(dev))
        lay.addWidget(self.fingerprint)

    @staticmethod
    def _source_text(row: dict[str, Any]) -> str:
        source = SOURCE_WORDS.get(row["source"], row["source"])
        text = f"Valor tomado de: {source}."
        if row["in_file"] and not row["locked"] and row["source"] == "este equipo":
            text += " (El archivo de TI indica otro valor; el de este equipo tiene prioridad.)"
        return text

    @staticmethod
    def _files_text(fs: Any) -> str:
        if fs.files:
            found = "; ".join(str(p) for p in fs.files)
            what = plural(
                len(fs.files),
                "Archivo de configuración de TI en uso",
                "Archivos de configuración de TI en uso",
            )
            return f"{what}: {found}."
        return (
            "No hay archivo de configuración de TI: los valores se guardan en este equipo. "
            f"(Para TI: {SETTINGS_FILE} en {program_dir()} o en {machine_dir()}.)"
        )

    def _load_values(self) -> None:
        r = self.rows
        self.server_url.setText(r["server_url"]["value"] or "")
        self.ca_bundle.setText(r["ca_bundle"]["value"] or "")
        self.ule.set_value(r["ule_ubigeo"]["value"] or "")
        self.autolock.setValue(int(r["autolock_minutes"]["value"] or 0))
        self.review.setChecked(bool(r["review_required"]["value"]))

    def _pick_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Certificado de seguridad del servidor",
            "",
            "Certificados (*.pem *.crt);;Todos (*)",
        )
        if path:
            self.ca_bundle.setText(path)

    def values(self) -> dict[str, Any]:
        return {
            "server_url": self.server_url.text().strip() or None,
            "ca_bundle": self.ca_bundle.text().strip() or None,
            "ule_ubigeo": self.ule.value() or None,
            "autolock_minutes": self.autolock.value(),
            "review_required": self.review.isChecked(),
        }

    def changes(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.values().items()
            if v != self.rows[k]["value"] and not self.rows[k]["locked"]
        }

    def save(self) -> None:
        changes = self.changes()
        if not changes:
            self.accept()
            return
        try:
            self.ws.settings.save(**changes)
        except SieeError as e:
            self.message.setText(user_text(e))
            return
        log.info("settings saved: %s", ",".join(sorted(changes)))
        self.accept()
