"""The form window: sections in a side list with completion marks, the pages of
questions, the members roster, the summary of errors and warnings, `Completar`.

Every committed answer goes to the FormSession (which re-evaluates what
depends on it) and is then saved through a SerialSaver, off the GUI thread.
Closing the window commits the field being typed and waits for the saves."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError, ValidationError
from app.core.states import STATE_LABELS, State
from app.forms import bundled_form
from app.forms.navigation import (
    PageSpec,
    next_error,
    next_page_index,
    page_after,
    page_index,
    page_question_paths,
    visible_pages,
)
from app.forms.session import FormSession
from app.ui.common import styles
from app.ui.common.changes import RECORDS, REVIEW, SYNC, Change, subscribe
from app.ui.common.help_panel import HelpPanel
from app.ui.common.record_list import result_text
from app.ui.common.shortcuts import enter_presses_buttons, install_help
from app.ui.common.wording import plural
from app.ui.common.worker import Job, SerialSaver, run_job, show_error, user_text
from app.ui.entry.derived import follow_count, member_count, requester_answers
from app.ui.entry.form_view import QuestionPage, QuestionRow
from app.ui.entry.problem_place import rule_settled_by_earlier_answers, shown_path
from app.ui.entry.roster import RosterPage

if TYPE_CHECKING:
    from app.forms.definition import FormDef
    from app.forms.session import FormSession, NodeState
    from app.workspace import Workspace

log = logging.getLogger("siee.ui.form")

MARK_DONE, MARK_ERROR, MARK_PARTIAL, MARK_EMPTY = "✓", "✗", "◐", "○"


def form_def(form_id: str, version: str | None = None, ws: Workspace | None = None) -> FormDef:
    """The definition a record was made with (the workspace knows the installed
    versions); without a version, the bundled one, for new records."""
    if version and ws is not None and hasattr(ws.hooks, "formdef"):
        return ws.hooks.formdef(form_id, str(version))
    return bundled_form(form_id)


def new_session(fd: FormDef, answers: dict | None) -> FormSession:
    return FormSession(fd, answers or None)


def create_record(ws: Workspace, form_id: str, from_uuid: str | None = None) -> str:
    """A new draft of `form_id`; an FSU made from an S100 gets its household data
    (the rule lives in Workspace.new_draft)."""
    return ws.new_draft(form_id, from_uuid)


class FormWindow(QMainWindow):
    closed = Signal()
    saved = Signal()  # a save reached the disk (tests and the bench wait on it)
    completed = Signal(str)  # new state

    def __init__(self, ws: Workspace, uuid: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.uuid = uuid
        meta = ws.get(uuid)
        self.meta = meta
        self.fd = form_def(meta.form_id, meta.form_version, ws)
        stored = ws.load_answers(uuid)
        self.session = new_session(self.fd, stored)
        # where the clerk stopped: kept beside the answers of the draft (see request_save)
        resume = stored.get("resume") if isinstance(stored, dict) else None
        self._resume: str | None = resume if isinstance(resume, str) else None
        self._saved_resume = self._resume
        self._insisted: set[str] = set()  # refused answers the clerk chose to leave
        self.lang = self.session.language
        self.editable = ws.can_edit(meta)
        self.show_all = False
        self.current_row: QuestionRow | None = None
        self.saver = SerialSaver(lambda answers: ws.save_answers(uuid, answers), self)
        self.saver.saved.connect(self._saved)
        self.saver.failed.connect(self._save_failed)
        self._save_error_shown = False
        self.complete_job: Job | None = None
        self._closing = False
        answered = {
            p for p in self.session.answers() if self.fd.node(p).type not in ("calculate", "note")
        }

        self.setWindowTitle(f"{self.fd.title} — SIEE Campo")
        self.sections = QListWidget()
        self.sections.setMinimumWidth(230)
        self.sections.setMaximumWidth(300)
        self.sections.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sections.itemActivated.connect(self._section_activated)
        self.sections.itemClicked.connect(self._section_activated)
        self.stack = QStackedWidget()
        self.issues = QListWidget()
        self.issues.setMaximumHeight(96)
        self.issues.setWordWrap(True)
        self.issues.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.issues.itemActivated.connect(lambda it: self.jump(it.data(Qt.ItemDataRole.UserRole)))
        self.issues.itemDoubleClicked.connect(
            lambda it: self.jump(it.data(Qt.ItemDataRole.UserRole))
        )
        self.issues_title = QLabel("Errores y advertencias")
        self.issues_title.setObjectName("hint")
        self.banner = QLabel("")
        self.banner.setObjectName("returned")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.save_status = QLabel("")
        self.save_status.setObjectName("hint")
        # A long message (a refused reevaluación, an error) wraps onto more lines in the
        # room the buttons leave: its width never drives the window's (it once grew to
        # ~1990 px and pushed «Completar» and «Cerrar» off a 1366 px screen).
        self.save_status.setWordWrap(True)
        self.save_status.setSizePolicy(QSizePolicy.Policy.Ignored,
                                       QSizePolicy.Policy.Preferred)
        self.save_status.setMinimumWidth(120)
        self.complete_btn = QPushButton("&Completar (Ctrl+Enter)")
        self.complete_btn.setObjectName("primary")
        self.complete_btn.clicked.connect(self.complete)
        self.close_btn = QPushButton("Cerrar (Ctrl+W)")
        self.close_btn.clicked.connect(self.close)
        self.help = HelpPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.help)
        self.help.hide()

        center = QWidget()
        cl = QVBoxLayout(center)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.banner)
        cl.addWidget(self.stack, 1)
        cl.addWidget(self.issues_title)
        cl.addWidget(self.issues)
        split = QSplitter()
        split.addWidget(self.sections)
        split.addWidget(center)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        bottom = QHBoxLayout()
        state_text = STATE_LABELS.get(State(meta.state), meta.state)
        self.state_label = QLabel(f"Estado: {state_text}")
        bottom.addWidget(self.state_label)
        bottom.addSpacing(16)
        bottom.addWidget(self.save_status, 1)
        help_btn = QPushButton("Ayuda (F1)")
        help_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        help_btn.clicked.connect(self.toggle_help)
        bottom.addWidget(help_btn)
        bottom.addWidget(self.complete_btn)
        bottom.addWidget(self.close_btn)
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.addWidget(split, 1)
        bl.addLayout(bottom)
        self.setCentralWidget(body)

        self._marks_timer = QTimer(self)
        self._marks_timer.setSingleShot(True)
        self._marks_timer.setInterval(120)
        self._marks_timer.timeout.connect(self.update_marks)

        self.specs: list[PageSpec] = []
        self.pages: dict[str, QWidget] = {}
        self._touched = answered
        # The number of people follows the members listed while the clerk has not typed
        # another number (app/ui/entry/derived.py); an answer equal to the list counts
        # as followed.
        mc = member_count(self.fd.form_id)
        self._count_set: str | None = None
        if mc is not None and self.editable:
            try:
                listed = str(self.session.repeat_count(mc.repeat))
            except (SieeError, KeyError):
                listed = ""
            self._count_set = follow_count(self.session, self.fd.form_id, listed)
        self.replan()
        self._show_banner()
        if not self.editable:
            self.complete_btn.setEnabled(False)
        self._shortcuts()
        install_help(self, self.toggle_help, f1=False)  # F1 is in _shortcuts
        subscribe(self, self.on_changes)
        enter_presses_buttons(self)
        self.update_marks()
        QTimer.singleShot(0, self.focus_first)

    # -- layout of pages -----------------------------------------------------------------------
    def replan(self) -> None:
        """(Re)compute the pages after a member was added or removed, or a section
        stopped (or started) being relevant."""
        specs = visible_pages(self.fd, self.session, self.lang)
        self.specs = specs
        keys = {s.key for s in specs}
        for key in [k for k in self.pages if k not in keys]:
            w = self.pages.pop(key)
            self.stack.removeWidget(w)
            w.deleteLater()
        self.sections.blockSignals(True)
        current = self.current_spec()
        self.sections.clear()
        for s in specs:
            item = QListWidgetItem(self._section_text(s, ""))
            item.setData(Qt.ItemDataRole.UserRole, s.key)
            self.sections.addItem(item)
        self.sections.blockSignals(False)
        if current is not None:
            self._select_section(current.key)

    def _section_text(self, spec: PageSpec, mark: str) -> str:
        indent = "      " if spec.kind == "member" else ""
        title = spec.title
        if spec.kind == "member":
            name = self._member_name(spec)
            # named as on its page: the person when known, else «Integrante N»
            title = f"{spec.index}. {name}" if name else f"Integrante {spec.index}"
        elif spec.kind == "roster":
            title = f"{spec.title} ({self.session.repeat_count(spec.path)})"
        return f"{indent}{mark + ' ' if mark else ''}{title}"

    def _member_name(self, spec: PageSpec, full: bool = False) -> str:
        parts = []
        assert spec.repeat is not None
        for c in spec.repeat.children:
            if c.kind == "question" and c.type == "text" and len(parts) < 3:
                try:
                    v = self.session.get(f"{spec.path}/{c.name}")
                except SieeError:
                    v = ""
                if v:
                    parts.append(v)
        if full and len(parts) == 3:  # page title: «María Rojas Quispe»
            return " ".join(parts[2:] + parts[:2])
        # «Quispe Juan Carlos»: first surname and the names fit the side list
        return " ".join(parts[:1] + parts[2:]) if len(parts) == 3 else " ".join(parts)

    def spec_index(self, key: str) -> int:
        return page_index(self.specs, key)

    def current_spec(self) -> PageSpec | None:
        w = self.stack.currentWidget()
        spec = getattr(w, "spec", None)
        return spec if spec is not None and spec.key in {s.key for s in self.specs} else None

    def page(self, spec: PageSpec) -> QWidget:
        w = self.pages.get(spec.key)
        if w is None:
            if spec.kind == "roster":
                r = RosterPage(spec, self.lang)
                r.add_requested.connect(lambda p=spec.path: self.add_member(p))
                r.remove_requested.connect(lambda i, p=spec.path: self.remove_member(p, i))
                r.open_requested.connect(lambda i, p=spec.path: self.open_member(p, i))
                r.nav.connect(lambda step: self.advance_page(step))
                w = r
            else:
                q = QuestionPage(spec)
                for row in q.rows:
                    self._wire(row)
                    line = getattr(row.editor, "line", None)
                    if line is not None and member_count(self.fd.form_id, row.path):
                        line.setPlaceholderText("se llena con los integrantes que registre")
                w = q
            self.pages[spec.key] = w
            self.stack.addWidget(w)
        else:
            w.spec = spec  # type: ignore[attr-defined]
        self.refresh_page(w)
        return w

    def _wire(self, row: QuestionRow) -> None:
        ed = row.editor
        if ed is None:
            return
        ed.committed.connect(lambda value, r=row: self.on_commit(r, value))
        ed.live.connect(lambda value, r=row: self.on_live(r, value))
        ed.nav.connect(lambda step, r=row: self._nav_from(r, step))
        ed.parsed.connect(lambda _value, r=row: self._message_follows(r))
        ed.parse_failed.connect(row.show_parse_error)
        ed.parse_failed.connect(lambda _text: self.update_issues())
        ed.focus_widget().installEventFilter(self)

    def _message_follows(self, row: QuestionRow) -> None:
        """The text typed was read as an answer: the message under the question is
        the one of the answer it holds now, not of text typed before (the value may
        be the one already stored, which commits nothing)."""
        if row.message.isHidden():
            return
        page = self._page_of(row)
        if page is not None:
            self.refresh_page(page)
            self.update_issues()

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.FocusIn:
            row = self._row_of(watched)
            if row is not None:
                self._set_current(row)
        return False

    def _row_of(self, widget: Any) -> QuestionRow | None:
        w = widget
        while w is not None and not isinstance(w, QuestionRow):
            w = w.parentWidget()
        return w

    def _set_current(self, row: QuestionRow) -> None:
        if self.current_row is row:
            return
        if self.current_row is not None:
            try:
                self.current_row.setObjectName("")
                self.current_row.setStyle(self.current_row.style())
            except RuntimeError:
                pass
        self.current_row = row
        row.setObjectName("current")
        row.setStyle(row.style())

    def refresh_page(self, w: QWidget | None = None) -> None:
        w = w or self.stack.currentWidget()
        if isinstance(w, QuestionPage):
            w.title.setText(self.page_title(w.spec))
            computed = self._computed_problems(w.spec)
            for row in w.rows:
                try:
                    st = self.session.state(row.path)
                except SieeError:
                    row.hide()
                    continue
                row.touched = row.touched or row.path in self._touched
                row.refresh(st, self.show_all, self.lang)
                extra = computed.get(row.path)
                if extra and not st.message and (row.touched or self.show_all):
                    row.show_problem(extra)
                if row.editor is not None and not self.editable:
                    row.editor.set_read_only(True)
        elif isinstance(w, RosterPage):
            marks = {}
            for s in self.specs:
                if s.kind == "member" and s.path.startswith(w.spec.path + "["):
                    marks[s.index] = self._mark_text(self.page_mark(s))
            w.refresh(self.session, marks)
            if not self.editable:
                w.add_btn.setEnabled(False)
                w.remove_btn.setEnabled(False)

    # -- showing pages and moving around -------------------------------------------------------
    def show_spec(self, spec: PageSpec) -> QWidget:
        w = self.page(spec)
        self.stack.setCurrentWidget(w)
        self._select_section(spec.key)
        return w

    def _select_section(self, key: str) -> None:
        i = self.spec_index(key)
        if i >= 0:
            self.sections.blockSignals(True)
            self.sections.setCurrentRow(i)
            self.sections.blockSignals(False)

    def _section_activated(self, item: QListWidgetItem) -> None:
        i = self.spec_index(item.data(Qt.ItemDataRole.UserRole))
        if i >= 0:
            self.enter_page(i, 1)

    def focus_first(self) -> None:
        """Start where the clerk stopped (a reopened draft), else at the first question."""
        if self._resume and self.editable and self._focus_path(self._resume):
            self.save_status.setText("Continúa donde se quedó la última vez.")
            return
        if self.specs:
            self.enter_page(0, 1)

    def _focus_path(self, path: str) -> bool:
        spec = self.spec_for(path)
        if spec is None:
            return False
        w = self.show_spec(spec)
        if isinstance(w, QuestionPage):
            row = w.row(path)
            if row is not None and row.can_focus:
                self.focus_row(row)
                return True
        return False

    def page_title(self, spec: PageSpec) -> str:
        """The heading of a page; a member page names the person:
        'Integrante 2: María Rojas' (or 'Integrante 2' before a name is typed)."""
        if spec.kind != "member":
            return spec.title
        name = self._member_name(spec, full=True)
        return f"Integrante {spec.index}: {name}" if name else f"Integrante {spec.index}"

    def _computed_problems(self, spec: PageSpec) -> dict[str, str]:
        """Messages of rules on computed fields of a page, keyed by the question
        that shows them (see problem_place)."""
        if spec.kind == "member" and spec.repeat is not None:
            base, nodes = spec.path, spec.repeat.children
        elif spec.kind == "section":
            base, nodes = spec.path, spec.nodes
        else:
            return {}
        out: dict[str, str] = {}
        for nd in nodes:
            if nd.kind != "question" or nd.type != "calculate" or not nd.constraint:
                continue
            path = f"{base}/{nd.name}"
            try:
                st = self.session.state(path)
            except SieeError:
                continue
            if st.relevant and st.message:
                target = shown_path(self.fd, path)
                if target != path:
                    out.setdefault(target, st.message)
        return out

    def _nav_from(self, row: QuestionRow, step: int) -> None:
        """Enter/Tab on a question. A refused answer (a rule of the form says no)
        or an empty required one keeps the clerk there with the message under the
        field; pressing Enter again on the same answer goes on on purpose (to
        correct it later), and the error stays counted in the summary."""
        if step > 0 and self.editable and row.path not in self._insisted:
            problem = self._refusal(row)
            if problem:
                self._insisted.add(row.path)
                row.touched = True
                self._touched.add(row.path)
                row.show_problem(problem)
                self.update_issues()
                self.save_status.setText(
                    "Falta esta respuesta (es obligatoria): escríbala, o pulse Enter otra vez "
                    "para seguir y completarla después."
                    if self._is_empty(row) else
                    "Respuesta no aceptada: corríjala, o pulse Enter otra vez para seguir "
                    "y corregirla después."
                )
                fw = row.editor.focus_widget() if row.editor is not None else None
                if fw is not None and hasattr(fw, "selectAll"):
                    fw.selectAll()
                self._marks_timer.start()
                return
        self._insisted.discard(row.path)
        self.advance(row, step)

    def _refusal(self, row: QuestionRow) -> str:
        """The message of a rule the typed answer breaks ('' when it is accepted).
        An empty required answer gives its «required» message (the clerk may still
        leave it for later with a second Enter). A rule that compares with later
        answers (the number of people against the members listed further on) is
        shown beside the field but does not hold the clerk: the fix may be
        elsewhere (see rule_settled_by_earlier_answers)."""
        try:
            st = self.session.state(row.path)
        except SieeError:
            return ""
        if not st.message:
            return ""
        if st.value == "" and member_count(self.fd.form_id, row.path) is not None:
            return ""  # filled by the members listed further on (derived.py)
        if st.value == "":
            return st.message if st.required and not st.read_only else ""
        if not rule_settled_by_earlier_answers(self.fd, row.path):
            return ""
        return st.message

    def _is_empty(self, row: QuestionRow) -> bool:
        try:
            return self.session.state(row.path).value == ""
        except SieeError:
            return False

    def enter_page(self, i: int, step: int, left: PageSpec | None = None) -> bool:
        """Show page i and focus its first (step>0) or last focusable question.
        Pages without any (all skipped) are passed over in the direction of travel.
        `left`: the member page just left with Enter/Tab; back in its roster, that
        member is the highlighted (focused) row, so Enter opens that one again.
        Otherwise a roster starts on «Agregar integrante» with no row highlighted."""
        while 0 <= i < len(self.specs):
            spec = self.specs[i]
            w = self.show_spec(spec)
            if isinstance(w, RosterPage):
                if (left is not None and left.kind == "member"
                        and left.path.rsplit("[", 1)[0] == spec.path):
                    w.focus_member(left.index)
                else:
                    w.focus_start()
                return True
            if isinstance(w, QuestionPage):
                rows = [r for r in w.rows if r.can_focus]
                if rows:
                    self.focus_row(rows[0] if step > 0 else rows[-1])
                    return True
            i += 1 if step > 0 else -1
        if i >= len(self.specs):
            self.complete_btn.setFocus()
            self.save_status.setText("Fin de la ficha: Ctrl+Enter para completar.")
        return False

    def focus_row(self, row: QuestionRow) -> None:
        page = self._page_of(row)
        if page is not None and self.stack.currentWidget() is not page:
            self.stack.setCurrentWidget(page)
            self._select_section(page.spec.key)
        if page is not None:
            inner = page.widget().layout()
            if inner is not None:
                inner.activate()  # choice lists above may have just grown
            page.ensureWidgetVisible(row, 0, 40)
            QTimer.singleShot(50, lambda: _ensure_visible(page, row))
        if row.editor is not None:
            fw = row.editor.focus_widget()
            fw.setFocus(Qt.FocusReason.TabFocusReason)
            if hasattr(fw, "selectAll"):
                fw.selectAll()
        self._set_current(row)

    def _page_of(self, row: QuestionRow) -> QuestionPage | None:
        for w in self.pages.values():
            if isinstance(w, QuestionPage) and row in w.rows:
                return w
        return None

    def advance(self, row: QuestionRow, step: int) -> None:
        page = self._page_of(row)
        if page is None:
            return
        rows = page.rows
        i = rows.index(row) + step
        while 0 <= i < len(rows):
            if rows[i].can_focus:
                self.focus_row(rows[i])
                return
            i += step
        self.enter_page(self._next_page_index(page.spec, step), step, left=page.spec)

    def _next_page_index(self, spec: PageSpec, step: int) -> int:
        return next_page_index(self.specs, spec, step)

    def advance_page(self, step: int) -> None:
        self.enter_page(page_after(self.specs, self.current_spec(), step), step)

    def next_section(self, step: int = 1) -> None:
        self.commit_current()
        self.advance_page(step)

    # -- answers -------------------------------------------------------------------------------
    def on_commit(self, row: QuestionRow, value: Any) -> None:
        if not self.editable:
            return
        self._insisted.discard(row.path)  # a new answer is judged afresh
        try:
            self.session.set(row.path, value)
        except SieeError as e:
            row.show_parse_error(user_text(e))
            self.update_issues()
            return
        row.touched = True
        self._touched.add(row.path)
        if member_count(self.fd.form_id, row.path) is not None:
            typed = self.session.get(row.path)
            if typed != self._count_set:
                self._count_set = None  # the clerk's number: no longer followed
        if [s.key for s in visible_pages(self.fd, self.session, self.lang)] != [
                s.key for s in self.specs]:
            self.replan()  # a section came or went (e.g. the result of the visit)
        self.refresh_page()
        self._marks_timer.start()
        self.request_save()

    def on_live(self, row: QuestionRow, value: Any) -> None:
        """While typing: rules and skips follow at once; the save waits for the commit."""
        if not self.editable:
            return
        try:
            self.session.set(row.path, value)
        except SieeError:
            return
        row.touched = True
        self._touched.add(row.path)  # its message shows now: the summary counts it too
        self.refresh_page()

    def request_save(self) -> None:
        self.save_status.setText("Guardando…")
        # Drafts keep the answers a skip set aside; they return if the skip flips back.
        data = self.session.to_json(include_aside=True)
        # ... and the question the clerk is on, to start there when it is reopened
        # (FormSession ignores the key; a submission is rebuilt from the answers).
        if self.current_row is not None:
            data["resume"] = self._saved_resume = self.current_row.path
        self.saver.request(data)

    def commit_current(self) -> None:
        """Commit what is typed in the focused question (before leaving or completing)."""
        fw = QApplication.focusWidget()
        row = self._row_of(fw) if fw is not None else None
        if row is not None and row.editor is not None:
            row.editor.commit()

    def _saved(self, _meta: Any) -> None:
        self._save_error_shown = False
        self.save_status.setText(f"Guardado a las {time.strftime('%H:%M:%S')}")
        self.saved.emit()

    def _save_failed(self, exc: BaseException) -> None:
        self.save_status.setText("✗ No se pudo guardar la última respuesta.")
        if not self._save_error_shown:
            self._save_error_shown = True
            show_error(self, exc)

    # -- roster --------------------------------------------------------------------------------
    def add_member(self, repeat_path: str) -> None:
        """Add a member and open it; in the S100 the first member added while the
        requester is not listed yet starts with the requester's answers (derived.py)."""
        if not self.editable:
            return
        prefill = requester_answers(self.session, self.fd.form_id, repeat_path)
        path = self.session.add_repeat(repeat_path)
        filled = []
        for name, value in prefill.items():
            try:
                self.session.set(f"{path}/{name}", value)
            except SieeError:
                log.warning("requester answer %s not accepted for the member", name)
                continue
            self._touched.add(f"{path}/{name}")
            filled.append(f"{path}/{name}")
        self._set_by_window(filled)
        self._follow_count()
        self.replan()
        self.request_save()
        key = f"member:{path}"
        self.enter_page(self.spec_index(key), 1)
        self._marks_timer.start()

    def remove_member(self, repeat_path: str, index: int) -> None:
        if not self.editable:
            return
        name = self._member_name(
            next(s for s in self.specs if s.key == f"member:{repeat_path}[{index}]")
        )
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Quitar integrante")
        box.setText(f"¿Quitar al integrante {index}{(' (' + name + ')') if name else ''}?")
        yes = box.addButton("&Sí, quitar", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("&No", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(yes)
        if not self.confirm(box, yes):
            return
        self.session.remove_repeat(repeat_path, index)
        self._follow_count()
        self.replan()
        self._set_by_window([repeat_path])  # the next members moved up one place
        self.request_save()
        roster = next(s for s in self.specs if s.kind == "roster" and s.path == repeat_path)
        self.show_spec(roster)
        self.page(roster)
        self.pages[roster.key].focus_widget().setFocus()  # type: ignore[attr-defined]
        self._marks_timer.start()

    def _follow_count(self) -> None:
        """After the members changed: the number of people follows them, unless the
        clerk typed another number."""
        if self._count_set is not None or self._count_empty():
            self._count_set = follow_count(self.session, self.fd.form_id, self._count_set)
            mc = member_count(self.fd.form_id)
            if mc is not None:
                self._set_by_window([mc.question])

    def _set_by_window(self, paths: list[str]) -> None:
        """Answers the window changed itself (not typed at their question; a path may
        be a group or a repeat: all below it): the pages already built that show them
        show the engine's answer and message again (an error about what was typed
        there before no longer holds), and the summary and the marks follow the
        engine."""
        prefixes = tuple(p + c for p in paths for c in ("/", "["))

        def changed(path: str) -> bool:
            return path in paths or path.startswith(prefixes)

        for page in self.pages.values():
            if isinstance(page, QuestionPage) and any(changed(r.path) for r in page.rows):
                self.refresh_page(page)
        self._marks_timer.start()

    def _count_empty(self) -> bool:
        mc = member_count(self.fd.form_id)
        return mc is not None and self.session.get(mc.question) == ""

    def confirm(self, box: QMessageBox, yes: QPushButton) -> bool:
        """Ask a modal question; True when the person chose `yes` (tests replace this)."""
        box.exec()
        return box.clickedButton() is yes

    def open_member(self, repeat_path: str, index: int) -> None:
        self.enter_page(self.spec_index(f"member:{repeat_path}[{index}]"), 1)

    def add_member_here(self) -> None:
        spec = self.current_spec()
        roster = None
        if spec is not None and spec.repeat is not None:
            roster = spec.path.rsplit("[", 1)[0] if spec.kind == "member" else spec.path
        else:
            roster = next((s.path for s in self.specs if s.kind == "roster"), None)
        if roster:
            self.commit_current()
            self.add_member(roster)

    # -- marks and the issues list -------------------------------------------------------------
    def page_mark(self, spec: PageSpec) -> str:
        if spec.kind == "roster":
            return ""
        states = []
        for path, nd in page_question_paths(spec):
            if nd.kind != "question" or nd.type == "note":
                continue
            try:
                states.append(self.session.state(path))
            except SieeError:
                continue
        mark = mark_of([s for s in states if s.relevant], self.show_all, self._touched)
        if mark and mark != MARK_ERROR:
            shown = self._computed_problems(spec)
            if any(self.show_all or p in self._touched for p in shown):
                return MARK_ERROR  # e.g. a repeated DNI: never «✓ completo»
        return mark

    @staticmethod
    def _mark_text(mark: str) -> str:
        texts = {MARK_DONE: "✓ completo", MARK_ERROR: "✗ con errores", MARK_PARTIAL: "◐ a medias"}
        return texts.get(mark, "○ vacío")

    def update_marks(self) -> None:
        for i, s in enumerate(self.specs):
            item = self.sections.item(i)
            if item is None:
                continue
            mark = self.page_mark(s)
            item.setText(self._section_text(s, mark))
            item.setForeground(QColor(styles.ERROR) if mark == MARK_ERROR else QColor("#202124"))
        w = self.stack.currentWidget()
        if isinstance(w, RosterPage):
            self.refresh_page(w)
        self.update_issues()

    def update_issues(self, extra_errors: list[dict] | None = None) -> None:
        rep = self.session.validate()
        errors = [
            (i.path, i.message)
            for i in rep.errors
            if self.show_all
            or i.path in self._touched
            or shown_path(self.fd, i.path) in self._touched
        ]
        if extra_errors:
            seen = {p for p, _ in errors}
            errors += [(e["path"], e["message"]) for e in extra_errors if e["path"] not in seen]
        counted = {p for p, _ in errors} | {shown_path(self.fd, p) for p, _ in errors}
        errors += [(p, m) for p, m in self._inline_errors() if p not in counted]
        warnings = [(i.path, i.message) for i in rep.warnings]
        self.issues.clear()
        for kind, items in ((MARK_ERROR, errors), ("⚠", warnings)):
            for path, msg in items:
                item = QListWidgetItem(f"{kind} {self.where(path)}: {msg}")
                item.setData(Qt.ItemDataRole.UserRole, path)
                item.setForeground(QColor(styles.ERROR if kind == MARK_ERROR else styles.WARNING))
                self.issues.addItem(item)
        self.issues.setVisible(self.issues.count() > 0)
        self.issues_title.setText(
            f"Errores: {len(errors)} · Advertencias: {len(warnings)} "
            "(Enter o doble clic para ir a la pregunta; F8: siguiente error)"
        )

    def _inline_errors(self) -> list[tuple[str, str]]:
        """(path, message) of every error shown beside a question that the form's
        rules do not report: typed text the field could not read, an answer the
        form refused (QuestionRow.local_error). The summary counts what the clerk
        sees (issue 16 item 9: never «Errores: 0» beside a red message); the
        engine's own errors are counted from the engine, so they go from the count
        when the engine drops them, even when the message still stands on a page
        that is not in front (the requester's, after member 1 was filled from it)."""
        out: list[tuple[str, str]] = []
        for i in range(self.stack.count()):
            page = self.stack.widget(i)
            if not isinstance(page, QuestionPage):
                continue
            for row in page.rows:
                if row.local_error and not row.isHidden() and not row.message.isHidden():
                    out.append((row.path, row.local_error))
        return out

    def where(self, path: str) -> str:
        """'Integrante 2: María Rojas › Fecha de nacimiento' for a concrete path; a
        computed field is named by the question that shows its problems."""
        path = shown_path(self.fd, path)
        spec = self.spec_for(path)
        try:
            label = self.session.state(path).label
        except SieeError:
            label = ""
        if spec is None:
            return label or "Ficha"
        return f"{self.page_title(spec)} › {label}" if label else self.page_title(spec)

    def spec_for(self, path: str) -> PageSpec | None:
        best: PageSpec | None = None
        for s in self.specs:
            if s.kind == "roster":
                continue
            if path.startswith(s.path + "/") and (best is None or len(s.path) > len(best.path)):
                if s.kind == "section" and not any(p == path for p, _ in page_question_paths(s)):
                    continue
                best = s
        if best is None:
            best = next((s for s in self.specs if s.kind == "roster"), None)
        return best

    def jump(self, path: str) -> None:
        path = shown_path(self.fd, path)
        spec = self.spec_for(path)
        if spec is None:
            return
        w = self.show_spec(spec)
        if isinstance(w, QuestionPage):
            row = w.row(path)
            if row is not None and row.can_focus:
                self.focus_row(row)
                return
            rows = [r for r in w.rows if r.can_focus]
            if rows:
                self.focus_row(rows[0])
        elif isinstance(w, RosterPage):
            w.focus_widget().setFocus()

    def next_error(self) -> None:
        self.commit_current()
        self.show_all = True
        self.update_issues()
        cur = self.current_row.path if self.current_row is not None else ""
        target = next_error(self.session, cur)
        if target is None:
            self.save_status.setText("No hay errores.")
            return
        self.jump(target)

    # -- completing ----------------------------------------------------------------------------
    def complete(self) -> None:
        if not self.editable or (self.complete_job and not self.complete_job.done):
            return
        self.commit_current()
        self.show_all = True
        self.refresh_page()
        self.update_marks()
        saver, ws, uuid = self.saver, self.ws, self.uuid
        self.save_status.setText("Revisando la ficha…")
        self.complete_btn.setEnabled(False)

        def work(_job: Job) -> tuple[State, list[dict]]:
            saver.flush()
            return ws.complete(uuid)

        self.complete_job = run_job(work, on_result=self._completed, on_error=self._not_completed)

    def _completed(self, result: tuple[State, list[dict]]) -> None:
        state, warnings = result
        self.editable = False
        self.meta = self.ws.get(self.uuid)
        self.state_label.setText(f"Estado: {STATE_LABELS[State(state)]}")
        self.save_status.setText(
            plural(
                len(warnings),
                "Ficha completa con 1 advertencia para el supervisor.",
                "Ficha completa con {n} advertencias para el supervisor.",
                zero="Ficha completa.",
            )
        )
        self.banner.setObjectName("ok")
        # what happens next: the supervisor's review, or straight to the outbox (a step
        # of a case such as a visit attempt, or review switched off in the settings)
        then = ("quedó en cola de envío a la sede central" if State(state) == State.QUEUED
                else "queda para la revisión del supervisor")
        self.banner.setText(
            f"Ficha completa. Ya no se puede modificar; {then}. Ctrl+W para cerrar."
        )
        self.banner.setStyle(self.banner.style())
        self.banner.show()
        self.refresh_page()
        self.close_btn.setFocus()
        self.completed.emit(str(state))

    def _not_completed(self, exc: BaseException) -> None:
        self.complete_btn.setEnabled(self.editable)
        if isinstance(exc, ValidationError):
            errors = list(getattr(exc, "errors", []) or [])
            self.update_issues(errors)
            self.save_status.setText(user_text(exc))
            if errors:
                self.jump(errors[0]["path"])
            return
        self.save_status.setText("No se pudo completar la ficha.")
        show_error(self, exc)

    def on_changes(self, change: Change) -> None:
        """A read-only record changed elsewhere (a sync brought its result, the centre
        or the supervisor returned it, a supervisor approved it): the header and the
        banner show its new state (issue 16 item 9). A draft being typed is only ever
        changed here."""
        if self.editable or not change.touches(RECORDS, REVIEW, SYNC) or change.origin is self:
            return
        if self.ws.user is None:
            return
        try:
            meta = self.ws.get(self.uuid)
        except SieeError:
            return
        if meta.state == self.meta.state:
            return
        self.meta = meta
        self.state_label.setText(f"Estado: {STATE_LABELS[State(meta.state)]}")
        self.banner.setObjectName("returned")
        self._show_banner()
        if meta.state == State.RETURNED.value:
            self.banner.setText(self.banner.text() + "\nCierre esta ventana (Ctrl+W) y abra "
                                "la ficha de nuevo para corregirla.")
        self.banner.setStyle(self.banner.style())

    # -- banner, help, shortcuts, closing ------------------------------------------------------
    def _show_banner(self) -> None:
        if self.meta.state == State.RETURNED.value:
            try:
                returns = self.ws.notes(self.uuid).get("returns", [])
            except SieeError:
                returns = []
            lines = []
            for r in returns[-3:]:
                q = r.get("questions") or []
                qtext = (" — revisar: " + ", ".join(self.where(p) for p in q)) if q else ""
                lines.append(f"• {r.get('reason', '')}{qtext}")
            self.banner.setText(
                "Ficha observada. Corrija lo indicado y vuelva a completarla:\n" + "\n".join(lines)
            )
            self.banner.show()
        elif self.meta.state == State.RESULT.value:
            try:  # the case's result (one per case), else the record's own
                case = self.ws.cases.get(self.ws.cases.case_of(self.uuid))
                result = case.result or self.ws.notes(self.uuid).get("result")
            except SieeError:
                result = None
            text = result_text(result) or "CSE: (sin datos del resultado)"
            self.banner.setObjectName("ok")
            self.banner.setText(
                f"Resultado del SIEE — {text}. La ficha ya no se modifica; la constancia "
                "se imprime desde «Constancia…» en la lista de fichas."
            )
            self.banner.setStyle(self.banner.style())
            self.banner.show()
        elif not self.editable:
            self.banner.setText(
                f"Ficha en estado «{STATE_LABELS[State(self.meta.state)]}»: solo lectura."
            )
            self.banner.show()

    def toggle_help(self) -> None:
        self.help.setVisible(not self.help.isVisible())

    def _shortcuts(self) -> None:
        pairs = [
            ("F1", self.toggle_help),
            ("F8", self.next_error),
            ("Ctrl+E", self._focus_issues),
            ("Ctrl+Return", self.complete),
            ("Ctrl+Enter", self.complete),
            ("Ctrl+W", self.close),
            ("Ctrl+PgDown", lambda: self.next_section(1)),
            ("Ctrl+PgUp", lambda: self.next_section(-1)),
            ("Ctrl+Ins", self.add_member_here),
        ]
        for key, fn in pairs:
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(fn)

    def _focus_issues(self) -> None:
        self.commit_current()
        self.update_issues()
        self.issues.setFocus()
        if self.issues.count():
            self.issues.setCurrentRow(0)

    def flush(self, timeout: float = 30.0) -> bool:
        """Commit the field being typed and wait until every save is on disk (with
        the question the clerk is on, when it moved since the last save)."""
        if self.editable:
            self.commit_current()
            here = self.current_row.path if self.current_row is not None else None
            # a draft keeps where the clerk stopped; a returned record is not saved
            # (and so not reopened as a new revision) just because it was looked at
            if here and here != self._saved_resume and self.meta.state == State.DRAFT.value:
                self.request_save()
        return self.saver.flush(timeout)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self._closing:
            self._closing = True
            if not self.flush():
                log.error("saves still pending at close")
            if self.complete_job is not None:
                self.complete_job.wait(30)
            self.closed.emit()
        super().closeEvent(event)


def _ensure_visible(page: QuestionPage, row: QuestionRow) -> None:
    try:
        if row.hasFocus() or row.isAncestorOf(QApplication.focusWidget()):
            page.ensureWidgetVisible(row, 0, 40)
    except RuntimeError:  # the page was closed meanwhile
        pass


def mark_of(states: list[NodeState], show_all: bool, touched: set[str]) -> str:
    """Completion mark of a page from the states of its relevant questions."""
    answerable = [s for s in states if not s.read_only]
    if not answerable:
        return ""
    answered = [s for s in answerable if s.value != ""]
    if any(s.message and (s.value != "" or show_all or s.path in touched) for s in answerable):
        return MARK_ERROR
    if all(s.message is None for s in answerable) and answered:
        return MARK_DONE
    return MARK_PARTIAL if answered else MARK_EMPTY
