"""Pages of a form: which pages there are (sections, the roster, one page per
member) and the question rows on them. Rows read NodeState from the session and
show relevance, required marks, choices and the Spanish messages live."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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

from app.ui.widgets import HIDDEN, LABEL_ONLY, Editor, make_editor

if TYPE_CHECKING:
    from app.forms.definition import FormDef, NodeDef
    from app.forms.session import FormSession, NodeState

GENERAL_TITLE = "Datos generales"


@dataclass
class PageSpec:
    """One page of the form window.

    kind "section": the questions of a group (or loose top-level questions),
    kind "roster": the table of a repeat's instances, kind "member": one instance."""

    kind: str
    title: str
    path: str  # concrete path of the group / repeat / instance
    nodes: list[NodeDef] = field(default_factory=list)  # section: the top nodes it shows
    repeat: NodeDef | None = None
    index: int = 0  # member: 1-based

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.path}"


def _label(nd: NodeDef, lang: str | None) -> str:
    return nd.label(lang) or nd.name.replace("_", " ").capitalize()


def _has_repeat(nd: NodeDef) -> bool:
    return any(c.is_repeat or (c.kind == "group" and _has_repeat(c)) for c in nd.children)


def plan_pages(fd: FormDef, session: FormSession, lang: str | None) -> list[PageSpec]:
    """Pages in form order: each top-level group a section, loose questions in a
    "Datos generales" section, each repeat a roster followed by its members."""
    pages: list[PageSpec] = []
    root = "/" + fd.root.name
    loose: PageSpec | None = None

    def add_repeat(rep: NodeDef, base: str) -> None:
        rpath = f"{base}/{rep.name}"
        title = _label(rep, lang)
        pages.append(PageSpec("roster", title, rpath, repeat=rep))
        for i in range(1, session.repeat_count(rpath) + 1):
            pages.append(PageSpec("member", f"{title} {i}", f"{rpath}[{i}]", repeat=rep, index=i))

    def add_group(g: NodeDef, base: str) -> None:
        gpath = f"{base}/{g.name}"
        plain = [c for c in g.children if not c.is_repeat]
        if any(c.kind == "question" or c.kind == "group" for c in plain):
            pages.append(PageSpec("section", _label(g, lang), gpath, nodes=plain))
        for c in g.children:
            if c.is_repeat:
                add_repeat(c, gpath)

    for nd in fd.root.children:
        if nd.is_repeat:
            add_repeat(nd, root)
        elif nd.kind == "group":
            add_group(nd, root)
        elif nd.type not in HIDDEN:
            if loose is None:
                loose = PageSpec("section", GENERAL_TITLE, root)
                pages.append(loose)
            loose.nodes.append(nd)
    return pages


def page_question_paths(spec: PageSpec) -> Iterator[tuple[str, NodeDef]]:
    """Concrete (path, NodeDef) of every question and sub-group shown on a page."""
    if spec.kind == "roster":
        return
    if spec.kind == "member":
        assert spec.repeat is not None
        nodes, base = spec.repeat.children, spec.path
    else:
        nodes, base = spec.nodes, spec.path

    def walk(items: list[NodeDef], prefix: str) -> Iterator[tuple[str, NodeDef]]:
        for nd in items:
            p = f"{prefix}/{nd.name}"
            if nd.is_repeat:
                continue  # nested repeats are not shown (the bundled forms have none)
            if nd.kind == "group":
                yield p, nd
                yield from walk(nd.children, p)
            elif nd.type not in HIDDEN:
                yield p, nd

    yield from walk(nodes, base)


class QuestionRow(QFrame):
    """Label, hint, editor and the message beside it, for one concrete question."""

    def __init__(self, path: str, nd: NodeDef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.nd = nd
        self.is_group = nd.kind == "group"
        self.editor: Editor | None = None
        self.touched = False
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
        self.message.setMaximumWidth(360)
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
            self.message.setMaximumWidth(620)
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
        self.label.setText(f"{st.label or _label(self.nd, lang)}{mark}")
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
