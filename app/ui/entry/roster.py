"""The members roster: a repeat shown as a table, one row per member, with
add / remove / open. Keyboard: Enter on «Agregar integrante» (or Ins anywhere
on the page) adds a member; in the table, Enter opens the highlighted member and
never adds one; Supr removes; Tab continues with the next section. Coming back
from a member, the table has the focus on that member's row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.common import styles

if TYPE_CHECKING:
    from app.forms.definition import NodeDef
    from app.forms.session import FormSession
    from app.ui.entry.form_view import PageSpec

SUMMARY_TYPES = ("text", "select_one", "integer", "date")
MAX_COLUMNS = 5


def summary_fields(rep: NodeDef) -> list[NodeDef]:
    """The first few answerable questions of the repeat (in form order)."""
    out: list[NodeDef] = []

    def walk(items: list[NodeDef]) -> None:
        for nd in items:
            if len(out) >= MAX_COLUMNS:
                return
            if nd.kind == "group" and not nd.is_repeat:
                walk(nd.children)
            elif nd.kind == "question" and nd.type in SUMMARY_TYPES:
                out.append(nd)

    walk(rep.children)
    return out


class RosterPage(QWidget):
    add_requested = Signal()
    remove_requested = Signal(int)  # 1-based member
    open_requested = Signal(int)
    nav = Signal(int)

    def __init__(self, spec: PageSpec, lang: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert spec.repeat is not None
        self.spec = spec
        self.lang = lang
        self.fields = summary_fields(spec.repeat)
        self.counted = spec.repeat.repeat_count is not None
        title = QLabel(spec.title)
        title.setObjectName("title")
        self.help = QLabel(
            "Ins (o Enter sobre «Agregar integrante»): agregar un integrante · "
            "↑/↓ y Enter: abrir el integrante marcado · Supr: quitar el integrante marcado · "
            "Tab: seguir con la sección siguiente"
            if not self.counted
            else "El número de filas lo fija una pregunta anterior. Enter: abrir el integrante."
        )
        self.help.setObjectName("hint")
        self.help.setWordWrap(True)
        self.table = QTableWidget(0, len(self.fields) + 2)
        headers = ["N°"] + [f.label(lang) or f.name for f in self.fields] + ["Estado"]
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.table.installEventFilter(self)
        self.table.doubleClicked.connect(lambda i: self.open_requested.emit(i.row() + 1))
        self.add_btn = QPushButton("&Agregar integrante (Enter)")
        self.add_btn.setObjectName("primary")
        self.add_btn.clicked.connect(self.add_requested)
        self.add_btn.installEventFilter(self)
        self.remove_btn = QPushButton("&Quitar integrante (Supr)")
        self.remove_btn.clicked.connect(self._remove_selected)
        self.remove_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.add_btn.setEnabled(not self.counted)
        self.remove_btn.setEnabled(not self.counted)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.help)
        lay.addLayout(buttons)
        lay.addWidget(self.table, 1)

    def focus_widget(self) -> QWidget:
        return self.add_btn if self.add_btn.isEnabled() else self.table

    def focus_start(self) -> None:
        """Arriving at the list (not from one of its members): the focus on
        «Agregar integrante» (or the table of a counted repeat) and no row
        highlighted, so nothing looks chosen that Enter would not open."""
        self.table.setCurrentCell(-1, -1)
        self.table.clearSelection()
        self.focus_widget().setFocus()

    def focus_member(self, index: int) -> None:
        """Focus the table on member `index` (1-based), e.g. the one just left, so
        that Enter opens that member again; out of range: the usual focus."""
        if not 1 <= index <= self.table.rowCount():
            self.focus_widget().setFocus()
            return
        self.table.setFocus()
        self.table.setCurrentCell(index - 1, 0)
        self.table.selectRow(index - 1)

    def refresh(self, session: FormSession, marks: dict[int, str]) -> None:
        n = session.repeat_count(self.spec.path)
        self.table.setRowCount(n)
        for i in range(1, n + 1):
            base = f"{self.spec.path}[{i}]"
            cells = [str(i)]
            for f in self.fields:
                rel = "/".join(f.path[len(self.spec.repeat.path) :]) if self.spec.repeat else ""
                p = f"{base}/{rel}"
                try:
                    st = session.state(p)
                except Exception:  # noqa: BLE001 - a summary cell never breaks the table
                    cells.append("")
                    continue
                value = st.value
                if st.choices is not None:
                    value = next((lab for name, lab in st.choices if name == value), value)
                elif f.type == "date" and len(value) >= 10:
                    value = f"{value[8:10]}/{value[5:7]}/{value[:4]}"
                cells.append(value if st.relevant else "")
            cells.append(marks.get(i, ""))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == len(cells) - 1 and text.startswith("✗"):
                    item.setForeground(QColor(styles.ERROR))
                self.table.setItem(i - 1, col, item)
        self.remove_btn.setEnabled(not self.counted and n > 0)

    def _remove_selected(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.remove_requested.emit(row + 1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key == Qt.Key.Key_Backtab or (
            key == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.ShiftModifier
        ):
            self.nav.emit(-1)
            return True
        if key == Qt.Key.Key_Tab:
            self.nav.emit(1)
            return True
        if watched is self.add_btn:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Insert):
                if self.add_btn.isEnabled():
                    self.add_requested.emit()
                else:
                    self.nav.emit(1)
                return True
            if key == Qt.Key.Key_Down and self.table.rowCount():
                row = self.table.currentRow()
                self.focus_member(row + 1 if row >= 0 else 1)
                return True
        if watched is self.table:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                # only ever opens: adding is Ins or the button (a new clerk once
                # added empty members by pressing Enter on a highlighted row)
                if self.table.currentRow() >= 0:
                    self.open_requested.emit(self.table.currentRow() + 1)
                return True
            if key == Qt.Key.Key_Insert and self.add_btn.isEnabled():
                self.add_requested.emit()
                return True
            if key == Qt.Key.Key_Delete and self.remove_btn.isEnabled():
                self._remove_selected()
                return True
            if key == Qt.Key.Key_Up and self.table.currentRow() <= 0:
                self.focus_widget().setFocus()
                return True
        return False
