"""A list that says why it is empty (issue 16 item 9): a search or filter without a
match, or nothing yet, shows a sentence saying so and what to do next, in place of
an empty table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget


class TableOrNote(QStackedWidget):
    """Holds `table` and a note; `show_rows(n, note)` shows the table when n > 0,
    else the note (a Spanish sentence: what matched nothing, what to do)."""

    def __init__(self, table: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.note = QLabel("")
        self.note.setObjectName("empty_note")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setMargin(24)
        self.addWidget(table)
        self.addWidget(self.note)

    def show_rows(self, n: int, note: str) -> None:
        """Table when there are rows; otherwise `note`."""
        if n > 0:
            self.setCurrentWidget(self.table)
            self.note.setText("")
        else:
            self.note.setText(note)
            had_focus = self.table.hasFocus()
            self.setCurrentWidget(self.note)
            if had_focus:
                self.setFocus()

    @property
    def showing_note(self) -> bool:
        """True while the note is shown instead of the table."""
        return self.currentWidget() is self.note
