"""The expediente of one request (issue 15): its state, route and deadline, the
checklist of its papers, its visit attempts, and what can be done with it —
record a visit, save the notice of a failed one, drop or reopen the request
(the supervisor; `ws.cases` checks the role below this screen)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.core import deadlines
from app.core.errors import SieeError
from app.core.roles import Perm, can
from app.forms import bundled_form
from app.store.vault import User
from app.ui.common.changes import RECORDS, REVIEW, broadcast
from app.ui.common.date_field import DateField
from app.ui.common.dialogs import form_with_hint
from app.ui.common.worker import show_error
from app.ui.review.papers import write_notice_pdf
from app.workspace import Workspace
from app.workspace.cases import Case

log = logging.getLogger("siee.ui.case")


def _esc(text: object) -> str:
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _day(value: str) -> str:
    try:
        return dt.date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return value


class VisitDialog(QDialog):
    """One visit attempt: the enumerator who made it, date, time, result (the visit
    form's list, the FSU's codes), next attempt.

    `enumerators`: the ULE's empadronadores (`ws.cases.enumerators()`); `me`: the
    logged-in user, chosen at first when they are one of them. Anyone else (a
    supervisor typing the visit) must choose who went; a ULE without any empadronador
    yet offers only the logged-in user.

    The result starts empty and must be chosen (its code's digit, or the arrow keys):
    a default «1. Completa» invited recording as complete a visit nobody answered.

    The dates are typed as dd/mm/aaaa and kept as typed (`DateField`): a visit date
    after `today` or before `earliest` (the request's date), or a next attempt not after
    the visit, is refused with a message, never changed."""

    def __init__(self, today: dt.date, parent: QWidget | None = None,
                 enumerators: list[User] | None = None, me: User | None = None,
                 earliest: dt.date | None = None) -> None:
        super().__init__(parent)
        self.today = today
        self.earliest = earliest
        self.setWindowTitle("Registrar intento de visita")
        people = list(enumerators or [])
        if not people and me is not None:
            people = [me]
        self.enumerator = QComboBox()
        self.enumerator.setPlaceholderText("Elija quién hizo la visita")
        for u in people:
            self.enumerator.addItem(
                f"{u.display_name} ({u.username})" if u.display_name else u.username, u.username)
        mine = self.enumerator.findData(me.username) if me is not None else -1
        self.enumerator.setCurrentIndex(mine if mine >= 0 else (0 if len(people) == 1 else -1))
        self._missing: QWidget | None = None  # the field the error message asks for
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.date = DateField(today, "La fecha de la visita")
        self.time = QTimeEdit(QTime.currentTime())
        self.time.setDisplayFormat("HH:mm")
        self.result = QComboBox()
        self.result.setPlaceholderText("Elija qué pasó en la visita (escriba su número)")
        fd = bundled_form("visita")
        self._extra: dict[str, dict[str, str]] = {}
        for c in fd.choices["resultado_visita"]:
            self.result.addItem(f"{c.name}. {c.label(fd.default_language)}", c.name)
            self._extra[c.name] = c.extra
        self.result.setCurrentIndex(-1)  # no default: what happened is always chosen
        self.next_visit = DateField(today + dt.timedelta(days=2),
                                    "La fecha del próximo intento")
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Lo que vio; no anote datos que el hogar no dio")
        form = QFormLayout()
        form.addRow("&Empadronador(a):", self.enumerator)
        form.addRow("&Fecha:", self.date)
        form.addRow("&Hora:", self.time)
        form.addRow("&Resultado:", self.result)
        form.addRow("&Próximo intento:", self.next_visit)
        form.addRow("&Observaciones:", self.notes)
        form_with_hint(self, form, "Si la entrevista no se realizó, se emite una notificación "
                       "de visita para dejar en la puerta con la fecha del próximo intento.",
                       "Registrar", below=(self.error,))
        self.result.currentIndexChanged.connect(self._result_changed)
        for field in (self.date, self.next_visit):
            field.textEdited.connect(lambda _t, f=field: self._edited(f))
        self._result_changed()
        # the first thing to answer: who went, unless it is already known
        (self.result if self.enumerator.currentIndex() >= 0 else self.enumerator).setFocus()

    def accept(self) -> None:
        """Refused (with a message, the focus on what is missing or wrong) until the
        enumerator and the result are chosen and the dates are allowed."""
        if self.enumerator.currentIndex() < 0:
            self._refuse("Elija el empadronador(a) que hizo la visita.", self.enumerator)
            return
        problem = self.date.problem(self.earliest, self.today, "a la fecha de la solicitud")
        if problem:
            self._refuse(problem, self.date)
            return
        if self.result.currentIndex() < 0:
            self._refuse("Elija el resultado de la visita: qué pasó en este intento "
                         "(escriba su número; por ejemplo, 4 si no encontró a nadie).",
                         self.result)
            return
        visit = self.date.date()
        if self.next_visit.isEnabled() and visit is not None:
            problem = self.next_visit.problem(visit + dt.timedelta(days=1), None,
                                              "al día siguiente de la visita")
            if problem:
                self._refuse(problem, self.next_visit)
                return
        super().accept()

    def _edited(self, field: QWidget) -> None:
        """The message asked about `field` and it is being typed again: hide it."""
        if self._missing is field:
            self._missing = None
            self.error.hide()

    def _refuse(self, text: str, field: QWidget) -> None:
        """Say what is missing under the fields and put the focus on it."""
        self._missing = field
        self.error.setText(text)
        self.error.show()
        self.adjustSize()  # room for the message: the fields keep their height
        field.setFocus()

    def _result_changed(self) -> None:
        if self._missing is self.result and self.result.currentIndex() >= 0:
            self._missing = None  # the message asked for the result: it was chosen
            self.error.hide()
        extra = self._extra.get(str(self.result.currentData()), {})
        self.next_visit.setEnabled(extra.get("nueva_visita", "").strip().lower()
                                   in ("si", "sí"))

    def values(self) -> dict[str, str]:
        """Arguments of `ws.cases.record_visit` (without the case)."""
        nxt = self.next_visit.date() if self.next_visit.isEnabled() else None
        day = self.date.date()
        return {"date": day.isoformat() if day else "",
                "time": self.time.time().toString("HH:mm"),
                "result": str(self.result.currentData() or ""),
                "next_visit": nxt.isoformat() if nxt else "",
                "notes": self.notes.text().strip(),
                "enumerator": self.enumerator.currentData() or ""}


def _error_label() -> QLabel:
    """The hidden Spanish message under a dialog's fields (error style)."""
    error = QLabel("")
    error.setObjectName("error")
    error.setWordWrap(True)
    error.hide()
    return error


class DropDialog(QDialog):
    """Desestimación: a reason from the settings' list and an optional detail.

    The reason starts unselected and must be chosen (arrow keys or its first letter):
    a preselected «Visitas fallidas reiteradas» let Enter drop a case that had no visit
    with a wrong reason."""

    def __init__(self, reasons: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Desestimar la solicitud")
        self.reason = QComboBox()
        self.reason.setPlaceholderText("Elija el motivo de la desestimación")
        self.reason.addItems(reasons)
        self.reason.setCurrentIndex(-1)  # no default: the reason is always chosen
        self.detail = QLineEdit()
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("&Motivo:", self.reason)
        form.addRow("&Detalle:", self.detail)
        form_with_hint(self, form, "La solicitud deja de contar para los plazos de 8 y 25 días "
                       "hábiles y se informa a la sede central. Solo el supervisor puede "
                       "reabrirla.", "Desestimar", below=(self.error,))
        self.reason.currentIndexChanged.connect(
            lambda i: self.error.hide() if i >= 0 else None)
        self.reason.setFocus()

    def accept(self) -> None:
        """Refused, with a message and the focus on the reason, until one is chosen."""
        if self.reason.currentIndex() < 0:
            self.error.setText("Elija el motivo de la desestimación (flechas arriba y abajo) "
                               "antes de desestimar la solicitud.")
            self.error.show()
            self.adjustSize()
            self.reason.setFocus()
            return
        super().accept()


class ReopenDialog(QDialog):
    """Reabrir: the reason, typed by the supervisor; an empty one keeps the dialog open
    with the message in it and the focus on the reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reabrir la solicitud")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Por qué se reabre (por ejemplo, el hogar regresó)")
        self.reason.setMinimumWidth(380)  # the placeholder is read whole
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("&Motivo para reabrir:", self.reason)
        form_with_hint(self, form, "La solicitud vuelve a contar para los plazos y sus fichas "
                       "vuelven a la revisión. Se informa a la sede central.", "Reabrir",
                       below=(self.error,))
        self.reason.textEdited.connect(lambda _t: self.error.hide())
        self.reason.setFocus()

    def accept(self) -> None:
        """Refused, with a message and the focus on the reason, while it is empty."""
        if not self.reason.text().strip():
            self.error.setText("Escriba el motivo para reabrir la solicitud: queda en la "
                               "bitácora y se informa a la sede central.")
            self.error.show()
            self.adjustSize()
            self.reason.setFocus()
            return
        super().accept()


class CaseDialog(QDialog):
    """The expediente of the request `case_uuid` (any record of it may be given)."""

    def __init__(self, ws: Workspace, uuid: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.case_uuid = ws.cases.case_of(uuid)
        self.case: Case | None = None
        self.setWindowTitle("Expediente de la solicitud")
        self.resize(900, 560)
        self.head = QLabel("")
        self.head.setObjectName("title")
        self.info = QLabel("")
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setWordWrap(True)
        self.checklist = QLabel("")
        self.checklist.setTextFormat(Qt.TextFormat.RichText)
        self.checklist.setWordWrap(True)
        self.visits = QTableWidget(0, 5)
        self.visits.setHorizontalHeaderLabels(
            ["Fecha", "Hora", "Empadronador(a)", "Resultado", "Próximo intento"])
        self.visits.verticalHeader().hide()
        self.visits.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.visits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.visits.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.visits.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.visits.itemSelectionChanged.connect(self._buttons)

        self.visit_btn = QPushButton("Registrar &visita…")
        self.visit_btn.clicked.connect(self.add_visit)
        self.notice_btn = QPushButton("Guardar &notificación (PDF)…")
        # `clicked` passes its `checked` flag: never let it reach the optional argument
        # (a False path made the notice fail with a TypeError).
        self.notice_btn.clicked.connect(lambda: self.save_notice())
        self.drop_btn = QPushButton("&Desestimar…")
        self.drop_btn.clicked.connect(lambda: self.drop())
        self.reopen_btn = QPushButton("&Reabrir…")
        self.reopen_btn.clicked.connect(lambda: self.reopen())
        close = QPushButton("&Cerrar")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        for b in (self.visit_btn, self.notice_btn, self.drop_btn, self.reopen_btn):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)

        lay = QVBoxLayout(self)
        lay.addWidget(self.head)
        lay.addWidget(self.info)
        sub = QLabel("Documentos del expediente")
        sub.setObjectName("question")
        lay.addWidget(sub)
        lay.addWidget(self.checklist)
        sub = QLabel("Intentos de visita")
        sub.setObjectName("question")
        lay.addWidget(sub)
        lay.addWidget(self.visits, 1)
        lay.addLayout(row)
        self.reload()

    # -- data -------------------------------------------------------------------------------
    def reload(self) -> None:
        try:
            self.case = c = self.ws.cases.get(self.case_uuid)
        except SieeError as e:
            show_error(self, e)
            return
        self.head.setText(f"Expediente {c.reference} — {c.head_name or '(sin nombre)'}")
        today = dt.date.fromtimestamp(self.ws.clock())
        if c.clock is not None:
            el = c.clock.elapsed(today)
            deadline = (f"{_esc(c.clock.stage)}: meta {c.clock.target} días hábiles desde el "
                        f"{c.clock.since:%d/%m/%Y} — {deadlines.deadline_text(el, c.clock.target)}")
        elif c.dropped:
            deadline = "sin plazo (solicitud desestimada)"
        else:
            deadline = "cumplido (con resultado)"
        lines = [
            f"<b>Solicitud:</b> {_esc(c.option_code)} {_esc(c.option_label)} "
            f"del {c.request_date:%d/%m/%Y} — <b>{_esc(c.route_label)}</b>",
            f"<b>Estado:</b> {_esc(c.state_label)}",
            f"<b>Plazo:</b> {deadline}",
        ]
        if c.result:
            lines.append(f"<b>Resultado CSE:</b> {_esc(c.result.get('category'))} del "
                         f"{_day(str(c.result.get('result_date') or ''))}")
        for d in c.decisions:
            what = "Desestimada" if d.action == "desestimar" else "Reabierta"
            lines.append(f"<b>{what}</b> el {_day(d.date)} por {_esc(d.by)}: {_esc(d.reason)}"
                         + (f" — {_esc(d.detail)}" if d.detail else ""))
        self.info.setText("<br>".join(lines))
        self.checklist.setText("<br>".join(
            f"{'✔' if ok else '✘'} <b>{_esc(item)}</b>: {_esc(detail)}"
            for item, ok, detail in c.checklist()))
        self.visits.setRowCount(len(c.visits))
        for r, v in enumerate(c.visits):
            cells = [_day(v.date), v.time, v.enumerator, v.result_label,
                     _day(v.next_visit) if v.next_visit else ""]
            for col, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if col == 0:
                    it.setData(Qt.ItemDataRole.UserRole, v.uuid)
                self.visits.setItem(r, col, it)
        if c.visits:
            self.visits.selectRow(len(c.visits) - 1)
        self._buttons()

    def selected_visit(self) -> str | None:
        rows = self.visits.selectionModel().selectedRows()
        if not rows:
            return None
        it = self.visits.item(rows[0].row(), 0)
        return it.data(Qt.ItemDataRole.UserRole) if it else None

    def _buttons(self) -> None:
        c, u = self.case, self.ws.user
        if c is None or u is None:
            return
        supervisor = can(u.role, Perm.CASE_DROP)
        self.visit_btn.setEnabled(can(u.role, Perm.RECORD_CREATE) and not c.dropped
                                  and c.route.value == "fsu")
        sel = self.selected_visit()
        self.notice_btn.setEnabled(any(v.uuid == sel and v.failed for v in c.visits))
        self.drop_btn.setVisible(supervisor)
        self.reopen_btn.setVisible(supervisor)
        self.drop_btn.setEnabled(not c.dropped and c.result is None)
        self.reopen_btn.setEnabled(c.dropped)

    # -- actions -----------------------------------------------------------------------------
    def visit_dialog(self) -> VisitDialog | None:
        """The dialog of a new attempt, with the ULE's empadronadores to choose from."""
        try:
            people = self.ws.cases.enumerators()
        except SieeError as e:
            show_error(self, e)
            return None
        return VisitDialog(dt.date.fromtimestamp(self.ws.clock()), self, people, self.ws.user,
                           earliest=self.case.request_date if self.case else None)

    def add_visit(self) -> None:
        dlg = self.visit_dialog()
        if dlg is None or dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.record_visit(**dlg.values())

    def record_visit(self, date: str, time: str, result: str, next_visit: str = "",
                     notes: str = "", enumerator: str = "") -> str | None:
        """Record an attempt (`enumerator`: user name of who made it; "" the logged-in
        user); after a failed one, offer its notice."""
        try:
            uuid = self.ws.cases.record_visit(self.case_uuid, date, time, result, next_visit,
                                              notes, enumerator=enumerator or None)
        except SieeError as e:
            show_error(self, e)
            return None
        broadcast({RECORDS, REVIEW}, origin=self)
        self.reload()
        return uuid

    def save_notice(self, path: str | Path | None = None) -> Path | None:
        """Write the notice of the selected failed visit (asks where, unless `path`)."""
        visit = self.selected_visit()
        if visit is None:
            return None
        try:
            data = self.ws.cases.notice(visit)
        except SieeError as e:
            show_error(self, e)
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Guardar notificación de visita",
                str(Path.home() / f"notificacion-visita-{data.attempt}.pdf"),
                "Documento PDF (*.pdf)")
            if not name:
                return None
            path = name if name.lower().endswith(".pdf") else name + ".pdf"
        try:
            return write_notice_pdf(data, path)
        except SieeError as e:
            show_error(self, e)
            return None

    def drop(self, reason: str | None = None, detail: str = "") -> bool:
        if reason is None:
            dlg = DropDialog(self.ws.cases.drop_reasons(), self)
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return False
            reason, detail = dlg.reason.currentText(), dlg.detail.text()
        try:
            self.ws.cases.drop(self.case_uuid, reason, detail)
        except SieeError as e:
            show_error(self, e)
            return False
        broadcast({RECORDS, REVIEW}, origin=self)
        self.reload()
        return True

    def reopen(self, reason: str | None = None) -> bool:
        if reason is None:
            dlg = ReopenDialog(self)
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return False
            reason = dlg.reason.text().strip()
        try:
            self.ws.cases.reopen(self.case_uuid, reason)
        except SieeError as e:
            show_error(self, e)
            return False
        broadcast({RECORDS, REVIEW}, origin=self)
        self.reload()
        return True
