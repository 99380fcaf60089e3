"""F1: the guide of the form window and its keyboard shortcuts, in a side
panel; and the guide dialog other screens show on F1 / «Ayuda»."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QLabel,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.common.help_texts import guide_html

SHORTCUTS: list[tuple[str, str]] = [
    ("Enter o Tab", "Guarda la respuesta y pasa a la pregunta siguiente"),
    ("Mayús+Tab", "Vuelve a la pregunta anterior"),
    ("Opciones", "Escriba el código (pasa solo cuando no hay duda) o el nombre y Enter"),
    ("Varias opciones", "Códigos separados por espacio y luego Enter"),
    ("Fechas", "Solo los 8 dígitos: ddmmaaaa (pasa sola al terminar)"),
    ("Horas", "4 dígitos: hhmm"),
    ("Integrantes", "En la lista: Ins (o Enter sobre «Agregar integrante») agrega; "
                    "↑/↓ y Enter abre el integrante marcado; Supr quita; Tab sigue"),
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
    _title, guide = guide_html("form")
    return f"{guide}<p><b>Teclas</b></p><table>{rows}</table>"


class HelpPanel(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Ayuda de la ficha (F1)", parent)
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


class GuideDialog(QDialog):
    """The guide of one screen, beside the work (not modal); Esc closes it."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        title, html = guide_html(key)
        self.setWindowTitle(f"Ayuda — {title}")
        self.text = QTextBrowser()
        self.text.setHtml(f"<h3>{title}</h3>{html}")
        self.text.setOpenExternalLinks(False)
        close = QPushButton("Cerrar")
        close.clicked.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(520, 420)


def show_guide(parent: QWidget, key: str) -> GuideDialog:
    """Show (or bring back) the guide of screen `key` over `parent`."""
    dlg = getattr(parent, "_guide_dialog", None)
    if not isinstance(dlg, GuideDialog) or dlg.key != key:
        if isinstance(dlg, GuideDialog):
            dlg.close()
        dlg = GuideDialog(key, parent)
        parent._guide_dialog = dlg  # type: ignore[attr-defined]
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    return dlg
