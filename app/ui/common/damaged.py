"""The window's answer to a damaged database (issue 17, IT walk-through): one Spanish
message that says what happened and what to do — the same steps as `siee-campo
doctor` and docs/guia-it.md §12 — instead of a console traceback the person never
sees. The damaged file is never written: the window checks it read-only
(app.store.inspect.database_damage) before opening anything."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("siee.ui.damaged")


def damaged_text(folder: Path | str | None) -> str:
    """What a person reads when the database of `folder` cannot be read (None: the
    folder is not known where the error surfaced)."""
    where = f" de la carpeta {folder}" if folder else ""
    return (
        f"La base de datos de SIEE Campo{where} está dañada (el disco falló o la laptop "
        "se apagó mal) y no se puede usar. El programa no cambió nada en ella."
    )


def damaged_steps(folder: Path | str | None) -> str:
    """The next steps (docs/guia-it.md §12), naming the wizard's choice and the command."""
    folder_text = str(folder) if folder else "CARPETA-DE-DATOS"
    return (
        "Qué hacer:\n"
        "1. Cierre el programa y no siga trabajando con estos datos.\n"
        f"2. Copie la carpeta {folder_text} completa a una memoria USB, como evidencia; "
        "no la borre.\n"
        "3. Restaure la copia de respaldo más reciente en una carpeta nueva: abra el "
        "programa con una carpeta de datos nueva (siee-campo --data CARPETA-NUEVA) y en "
        "el asistente elija «Restaurar una copia de respaldo…», o en la consola: "
        "siee-campo restore ARCHIVO.sieebak --data CARPETA-NUEVA (guía de TI, sección 9).\n"
        f"4. Para soporte: siee-campo doctor --data {folder_text} (guía de TI, sección 12)."
    )


def show_damaged_database(parent: QWidget | None, folder: Path, detail: str,
                          quit_on_close: bool = True) -> QMessageBox:
    """Open (not exec) the message about the damaged database of `folder`; `detail`
    (SQLite's English text) goes to the log and the box's «details» for support.
    With `quit_on_close`, closing it ends the program (nothing else can be done)."""
    log.error("database damaged, window not opened: %s", detail)
    box = QMessageBox(parent)
    box.setObjectName("damaged_database")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("SIEE Campo — base de datos dañada")
    box.setText(damaged_text(folder))
    box.setInformativeText(damaged_steps(folder))
    box.setDetailedText(f"Detalle técnico para soporte: {detail}")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.button(QMessageBox.StandardButton.Close).setText("Cerrar el programa")
    if quit_on_close:
        box.finished.connect(lambda _r: QApplication.quit())
    box.open()
    return box
