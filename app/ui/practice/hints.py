"""The guided first survey: in practice mode, a form window shows one short hint per
section the first time the trainee enters it (texts: app/practice/hints.py). The
hint sits above the questions and closes with its button or Ctrl+Shift+P; once
closed it does not come back for that trainee."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from app.core.errors import SieeError
from app.practice.hints import HINTS, section_of
from app.workspace import Workspace

HINT_STYLE = ("QWidget#practiceHint { background: #fff4d6; border: 1px solid #d99a00; }"
              "QLabel { color: #3d2c00; }")


class SectionHints(QToolBar):
    """The hint bar of one form window (`form` has `.stack`, whose pages have `.spec`)."""

    def __init__(self, ws: Workspace, form: QMainWindow) -> None:
        super().__init__("Sugerencias de práctica", form)
        self.ws = ws
        self.form = form
        self.setMovable(False)
        self.setFloatable(False)
        self.section = ""
        box = QWidget()
        box.setObjectName("practiceHint")
        box.setStyleSheet(HINT_STYLE)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.ok = QPushButton("Entendido (Ctrl+Mayús+P)")
        self.ok.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing keeps its focus
        self.ok.clicked.connect(self.dismiss)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        lay = QHBoxLayout(box)
        lay.setContentsMargins(8, 4, 8, 4)
        tag = QLabel("<b>Sugerencia</b>")
        lay.addWidget(tag)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.ok)
        self.addWidget(box)
        form.addToolBarBreak()
        form.addToolBar(Qt.ToolBarArea.TopToolBarArea, self)
        QShortcut(QKeySequence("Ctrl+Shift+P"), form, self.dismiss)
        try:
            self.seen = ws.practice.hints_seen()
        except SieeError:
            self.seen = set(HINTS)
        stack = getattr(form, "stack", None)
        if stack is not None:
            stack.currentChanged.connect(lambda _i: self.on_page(stack.currentWidget()))
            self.on_page(stack.currentWidget())
        else:
            self.hide()

    def on_page(self, page: QWidget | None) -> None:
        spec = getattr(page, "spec", None)
        section = section_of(getattr(spec, "path", "") or "")
        text = HINTS.get(section)
        if not text or section in self.seen:
            self.section = ""
            self.hide()
            return
        self.section = section
        self.text.setText(text)
        self.show()

    def dismiss(self) -> None:
        if not self.section:
            return
        self.seen.add(self.section)
        try:
            self.ws.practice.hint_seen(self.section)
        except SieeError:
            pass  # not remembered: it shows again next time, nothing else is lost
        self.section = ""
        self.hide()
