"""Pages of a form: which pages there are (sections, the roster, one page per
member) and the question rows on them. Rows read NodeState from the session and
show relevance, required marks, choices and the Spanish messages live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.forms.navigation import (
    LABEL_ONLY,
    PageSpec,
    node_label,
    page_question_paths,
)
from app.ui.entry.widgets import Editor, make_editor

if TYPE_CHECKING:
    from app.forms.definition import NodeDef
    from app.forms.session import NodeState

class QuestionRow(QFrame):
    """Label, hint, editor and the message beside it, for one concrete question."""

    def __init__(self, path: str, nd: NodeDef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.nd = nd
        self.is_group = nd.kind == "group"
        self.editor: Editor | None = None
        self.touched = False
        # An error this field found itself, which the form engine does not know: text
        # it could not read as an answer, or a value the engine refused to take ("" when
        # none). The window counts these from the rows and every other error from the
        # engine, so a message still standing on a page that is not in front is never
        # counted after the engine dropped it.
        self.local_error = ""
        # never squeezed below what it needs: a message or a list of choices that
        # appears makes the page longer (it scrolls) instead of overlapping rows
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setObjectName("question" if not self.is_group else "subtitle")
        self.hint = QLabel("")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(170)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 5, 8, 5)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.label, 0, 0, 1, 2)
        grid.addWidget(self.hint, 1, 0, 1, 2)
        if not self.is_group and nd.type not in LABEL_ONLY:
            self.editor = make_editor(nd.type)
        if self.editor is not None:
            # the message sits right under the line typed into, above any choices
            self.editor.box.insertWidget(1, self.message)
            grid.addWidget(self.editor, 2, 0, 1, 2, Qt.AlignmentFlag.AlignTop)
            self.label.setBuddy(self.editor.focus_widget())
        else:
            grid.addWidget(self.message, 2, 0, 1, 2)
        self.message.hide()

    @property
    def can_focus(self) -> bool:
        return self.editor is not None and not self.isHidden() and not self._ro

    _ro = False

    def refresh(self, st: NodeState, show_problems: bool, lang: str | None = None) -> None:
        self.setVisible(st.relevant)
        if not st.relevant:
            return
        mark = " *" if st.required and not self.is_group else ""
        self.label.setText(f"{st.label or node_label(self.nd, lang)}{mark}")
        self.hint.setText(st.hint)
        self.hint.setVisible(bool(st.hint))
        self._ro = st.read_only
        if self.editor is not None:
            if st.choices is not None:
                self.editor.set_choices(st.choices, lang)
            self.editor.set_read_only(st.read_only)
            if not self.editor.focus_widget().hasFocus():
                self.editor.set_value(st.value or None)
        self.show_message(st, show_problems or self.touched)

    def show_message(self, st: NodeState, show: bool) -> None:
        """The engine's message for the answer it holds (replaces a local error)."""
        self.local_error = ""
        if st.message and show:
            self.message.setObjectName("error")
            self.message.setText(f"✗ {st.message}")
        elif st.warning and show:
            self.message.setObjectName("warning")
            self.message.setText(f"⚠ {st.warning}")
        else:
            self.message.setObjectName("")
            self.message.setText("")
        self.message.setVisible(bool(self.message.text()))
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def show_parse_error(self, text: str) -> None:
        """An error the field found itself (see `local_error`): the typed text could
        not be read, or the engine refused the value."""
        self.show_problem(text)
        self.local_error = text

    def show_problem(self, text: str) -> None:
        """Show an error the form engine reports (a rule broken, a required answer
        missing, a computed field's problem shown at this question): it is counted from
        the engine, not from this row."""
        self.local_error = ""
        self.message.setObjectName("error")
        self.message.setText(f"✗ {text}")
        self.message.show()
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)


class QuestionPage(QScrollArea):
    """A scrolling page of question rows."""

    focus_row = Signal(object)

    def __init__(self, spec: PageSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self.lay = QVBoxLayout(inner)
        self.lay.setContentsMargins(4, 4, 12, 4)
        self.lay.setSpacing(2)
        self.title = QLabel(spec.title)
        self.title.setObjectName("title")
        self.lay.addWidget(self.title)
        self.rows: list[QuestionRow] = []
        for path, nd in page_question_paths(spec):
            row = QuestionRow(path, nd)
            self.rows.append(row)
            self.lay.addWidget(row)
        self.lay.addStretch(1)
        self.setWidget(inner)

    def row(self, path: str) -> QuestionRow | None:
        return next((r for r in self.rows if r.path == path), None)
