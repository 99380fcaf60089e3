"""F1: the keyboard shortcuts of the form window, in a side panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QScrollArea, QWidget

SHORTCUTS: list[tuple[str, str]] = [
    ("Enter o Tab", "Guarda la respuesta y pasa a la pregunta siguiente"),
    ("Mayús+Tab", "Vuelve a la pregunta anterior"),
    ("Opciones", "Escriba el código (o las primeras letras); pasa sola cuando no hay duda"),
    ("Varias opciones", "Códigos separados por espacio y luego Enter"),
    ("Fechas", "Solo los 8 dígitos: ddmmaaaa (pasa sola al terminar)"),
    ("Horas", "4 dígitos: hhmm"),
    ("Integrantes", "En la lista: Enter agrega, ↓ y Enter abre, Supr quita, Tab sigue"),
    ("Ctrl+Ins", "Agregar un integrante desde cualquier página"),
    ("Ctrl+AvPág / Ctrl+RePág", "Sección siguiente / anterior"),
    ("F8", "Ir al siguiente error"),
    ("Ctrl+E", "Ir a la lista de errores y advertencias (Enter salta a la pregunta)"),
    ("Ctrl+Enter", "Completar: revisa toda la ficha y la marca como completa"),
    ("Ctrl+W", "Cerrar la ficha (lo ingresado ya está guardado)"),
    ("F1", "Mostrar u ocultar esta ayuda"),
]


def shortcuts_html() -> str:
    rows = "".join(
        f"<tr><td style='padding:3px 10px 3px 0'><b>{k}</b></td><td>{v}</td></tr>"
        for k, v in SHORTCUTS
    )
    return (
        "<p>Todo se hace con el teclado; cada respuesta se guarda al pasar a la "
        f"siguiente.</p><table>{rows}</table>"
    )


class HelpPanel(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Atajos de teclado (F1)", parent)
        self.setObjectName("help_panel")
        self.setAllowedAreas(Qt.DockWidgetArea.RightDockWidgetArea)
        self.text = QLabel(shortcuts_html())
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text.setContentsMargins(8, 8, 8, 8)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setWidget(self.text)
        self.setWidget(area)
        self.setMinimumWidth(320)
        self.setMaximumWidth(380)
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
