"""One editor per question type, built for heads-down keyboard entry.

Every editor is a line the person types into: Enter or Tab commits and moves
on, Shift+Tab goes back. Selects show their choices beside the line (all of them
up to MAX_GRID_CHOICES, else the ones matching what is typed) and are answered by
the code or by the label's letters. A typed code moves on by itself only when it
is complete and no longer code starts with it; letters never move on by
themselves (Enter or Tab confirms), so no keystroke of a longer word ("Cusco",
"San Sebastián") can spill into the next question. Dates are typed as digits
(ddmmaaaa) and move on after the 8th digit.

An editor never talks to the session: it emits `committed(value)` and `nav(step)`,
and the question row (form_view.py) does the rest."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.text import canonical_number_text

MAX_GRID_CHOICES = 30  # longer lists show the first ones and those matching what is typed
MATCH_ROWS = 8
LONG_LIST_SHOWN = 24  # a long list with nothing typed yet shows this many

NAV_KEYS = {Qt.Key.Key_Return: 1, Qt.Key.Key_Enter: 1, Qt.Key.Key_Tab: 1, Qt.Key.Key_Backtab: -1}

# Keys the form window binds (help_panel.SHORTCUTS) that a text box would otherwise
# keep for itself (Ctrl+Ins is «copy» in a QLineEdit): they always reach the window.
_CTRL = Qt.KeyboardModifier.ControlModifier
WINDOW_KEYS = frozenset(
    {
        (Qt.Key.Key_Insert, _CTRL),
        (Qt.Key.Key_E, _CTRL),
        (Qt.Key.Key_W, _CTRL),
        (Qt.Key.Key_PageDown, _CTRL),
        (Qt.Key.Key_PageUp, _CTRL),
        (Qt.Key.Key_Return, _CTRL),
        (Qt.Key.Key_Enter, _CTRL),
        (Qt.Key.Key_F1, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier),
    }
)


class ParseError(ValueError):
    """Text the editor cannot turn into a value; the message is Spanish."""


@dataclass(frozen=True)
class ChoiceItem:
    code: str  # what the person types
    name: str  # what is stored
    label: str


def fold(text: str) -> str:
    """Lower-case without accents, for matching labels as typed."""
    s = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def choice_items(choices: Any, lang: str | None = None) -> list[ChoiceItem]:
    """Choices from NodeState.choices (Choice objects or (name, label) pairs).
    Numeric names are typed as they are; other lists are typed by position."""
    pairs: list[tuple[str, str]] = []
    for c in choices or []:
        if hasattr(c, "name"):
            label = c.label(lang) if callable(getattr(c, "label", None)) else str(c.name)
            pairs.append((str(c.name), label))
        else:
            name, label = c
            pairs.append((str(name), str(label)))
    numeric = all(n.isdigit() for n, _ in pairs)
    return [ChoiceItem(n if numeric else str(i), n, label) for i, (n, label) in enumerate(pairs, 1)]


def match_choices(items: list[ChoiceItem], typed: str) -> list[ChoiceItem]:
    """Choices whose code starts with `typed` (digits) or whose label does (letters)."""
    t = typed.strip()
    if not t:
        return list(items)
    if t.isdigit():
        return [c for c in items if c.code.startswith(t)]
    f = fold(t)
    return [c for c in items if fold(c.label).startswith(f) or fold(c.name) == f]


def exact_choice(items: list[ChoiceItem], typed: str) -> ChoiceItem | None:
    """The one choice `typed` names: its code or stored name, its whole label
    (accents and case aside), or the only label starting with the letters typed.
    None when nothing or more than one choice fits."""
    t = typed.strip()
    for c in items:
        if c.code == t or c.name == t:
            return c
    f = fold(t)
    whole = [c for c in items if fold(c.label) == f]
    if len(whole) == 1:
        return whole[0]
    hits = match_choices(items, t)
    return hits[0] if len(hits) == 1 else None


def unclear_choice_message(items: list[ChoiceItem], typed: str) -> str:
    """Spanish message for text that names no single choice."""
    t = typed.strip()
    if not items:
        return "No hay opciones disponibles con las respuestas anteriores."
    hits = match_choices(items, t) if t else []
    if len(hits) > 1:
        return (
            f"Hay {len(hits)} opciones que empiezan con «{t}»: siga escribiendo el nombre "
            "o escriba el código."
        )
    return f"«{t}» no es una de las opciones. Escriba el código o el nombre de una opción."


# -- parsing typed text ------------------------------------------------------------------
def parse_date(text: str) -> dt.date | None:
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if len(digits) != 8:
        raise ParseError("Escriba la fecha con 8 dígitos: día, mes y año (ddmmaaaa).")
    try:
        return dt.date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        raise ParseError("Esa fecha no existe. Revise el día y el mes.") from None


def format_date_digits(digits: str) -> str:
    d = digits[:8]
    parts = [d[:2], d[2:4], d[4:]]
    return "/".join(p for p in parts if p)


def parse_time(text: str) -> dt.time | None:
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if len(digits) != 4:
        raise ParseError("Escriba la hora con 4 dígitos (hhmm), por ejemplo 0930.")
    h, m = int(digits[:2]), int(digits[2:])
    if h > 23 or m > 59:
        raise ParseError("Esa hora no existe. Use de 00:00 a 23:59.")
    return dt.time(h, m)


def parse_integer(text: str) -> int | None:
    t = canonical_number_text(text)  # full-width or other-script digits read as ASCII
    if not t:
        return None
    if not re.fullmatch(r"-?[0-9]+", t):
        raise ParseError("Escriba solo números enteros.")
    return int(t)


def parse_decimal(text: str) -> float | None:
    t = canonical_number_text(text).replace(",", ".")
    if not t:
        return None
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", t):
        # float() would also take 'nan', 'inf' and '1_000': none is a number a person means
        raise ParseError("Escriba un número (use punto o coma para los decimales).")
    x = float(t)
    if not math.isfinite(x):
        raise ParseError("Escriba un número (use punto o coma para los decimales).")
    return x


def parse_geopoint(text: str) -> str | None:
    t = text.strip().replace(",", " ")
    if not t:
        return None
    parts = t.split()
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) < 2 or not (-90 <= nums[0] <= 90 and -180 <= nums[1] <= 180):
        raise ParseError("Escriba latitud y longitud en grados, por ejemplo -12.0464 -77.0428.")
    return " ".join(parts)


# -- editors ---------------------------------------------------------------------------------
class Editor(QWidget):
    """Base: a QLineEdit plus the navigation keys. `value()` is the parsed value."""

    committed = Signal(object)  # the value, after Enter / Tab / auto-advance / leaving
    live = Signal(object)  # the value while it is being typed (not yet committed)
    nav = Signal(int)  # +1 next question, -1 previous
    parse_failed = Signal(str)  # Spanish message
    # the text was read as a value (changed or not): a message about earlier text
    # (e.g. «… no es una de las opciones») no longer applies
    parsed = Signal(object)
    live_typing = False  # free-text editors report every keystroke

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.installEventFilter(self)
        self.line.editingFinished.connect(self._left)
        self._last_committed: Any = None
        self._read_only = False
        self.setFocusProxy(self.line)
        self.line.setMinimumWidth(120)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(2)
        self.top = QHBoxLayout()
        self.top.addWidget(self.line, 0, Qt.AlignmentFlag.AlignLeft)
        self.box.addLayout(self.top)
        if self.live_typing:
            self.line.textEdited.connect(self._typing)

    def _typing(self, text: str) -> None:
        try:
            value = self.parse(text)
        except ParseError:
            return
        self.live.emit(value)

    # subclasses
    def parse(self, text: str) -> Any:
        return text.strip() or None

    def display(self, value: Any) -> str:
        return "" if value is None else str(value)

    # common
    def focus_widget(self) -> QWidget:
        return self.line

    def set_value(self, value: Any) -> None:
        self._last_committed = value
        text = self.display(value)
        if self.line.text() != text:
            self.line.blockSignals(True)
            self.line.setText(text)
            self.line.blockSignals(False)

    def set_read_only(self, ro: bool) -> None:
        self._read_only = ro
        self.line.setReadOnly(ro)

    def set_choices(self, choices: Any, lang: str | None = None) -> None:
        pass

    def commit(self) -> bool:
        """Parse and emit; False (and parse_failed) when the text is not a value."""
        if self._read_only:
            return True
        try:
            value = self.parse(self.line.text())
        except ParseError as e:
            self.parse_failed.emit(str(e))
            return False
        if value != self._last_committed:
            self._last_committed = value
            self.committed.emit(value)
        self.set_value(value)
        self.parsed.emit(value)
        return True

    def _left(self) -> None:
        # focus left by the mouse: keep what was typed
        if not self.line.hasFocus():
            self.commit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            step = NAV_KEYS.get(Qt.Key(event.key()))
            if step is not None and mods in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.ShiftModifier,
            ):
                if event.key() == Qt.Key.Key_Tab and mods == Qt.KeyboardModifier.ShiftModifier:
                    step = -1
                if self.commit() or step < 0:
                    self.nav.emit(step)
                return True
            return self.key_hook(event)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            # plain Enter/Tab belong to the editor; with Ctrl (Ctrl+Enter = Completar)
            # they stay the window's shortcuts, as every key of WINDOW_KEYS does
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if (Qt.Key(event.key()), mods) in WINDOW_KEYS:
                event.ignore()
                return True
            if Qt.Key(event.key()) in NAV_KEYS and mods in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.ShiftModifier,
            ):
                event.accept()
                return True
        return False

    def key_hook(self, event: QKeyEvent) -> bool:
        return False

    def auto_advance(self) -> None:
        if self.commit():
            self.nav.emit(1)


class TextEditor(Editor):
    live_typing = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setMinimumWidth(300)
        self.line.setMaximumWidth(560)
        self.top.addStretch(1)


class IntegerEditor(Editor):
    live_typing = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setMaximumWidth(160)

    def parse(self, text: str) -> Any:
        return parse_integer(text)


class DecimalEditor(IntegerEditor):
    def parse(self, text: str) -> Any:
        return parse_decimal(text)


class DateEditor(Editor):
    """Typed as ddmmaaaa; slashes appear by themselves; stored as ISO 'aaaa-mm-dd'."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setPlaceholderText("dd/mm/aaaa")
        self.line.setMaximumWidth(160)
        self.line.textEdited.connect(self._edited)

    def parse(self, text: str) -> Any:
        d = parse_date(text)
        return d.isoformat() if d else None

    def display(self, value: Any) -> str:
        if not value:
            return ""
        try:
            return dt.date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)

    def _edited(self, text: str) -> None:
        digits = re.sub(r"\D", "", text)[:8]
        shown = format_date_digits(digits)
        if shown != text:
            self.line.setText(shown)
        if len(digits) == 8:
            self.auto_advance()


class TimeEditor(Editor):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setPlaceholderText("hh:mm")
        self.line.setMaximumWidth(120)
        self.line.textEdited.connect(self._edited)

    def parse(self, text: str) -> Any:
        t = parse_time(text)
        return t.strftime("%H:%M") if t else None

    def _edited(self, text: str) -> None:
        digits = re.sub(r"\D", "", text)[:4]
        shown = digits if len(digits) <= 2 else f"{digits[:2]}:{digits[2:]}"
        if shown != text:
            self.line.setText(shown)
        if len(digits) == 4:
            self.auto_advance()


class DateTimeEditor(Editor):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setPlaceholderText("dd/mm/aaaa hh:mm")
        self.line.setMaximumWidth(200)

    def parse(self, text: str) -> Any:
        digits = re.sub(r"\D", "", text)
        if not digits:
            return None
        if len(digits) != 12:
            raise ParseError("Escriba fecha y hora con 12 dígitos (ddmmaaaahhmm).")
        d = parse_date(digits[:8])
        t = parse_time(digits[8:])
        assert d is not None and t is not None
        return dt.datetime.combine(d, t).isoformat(timespec="minutes")

    def display(self, value: Any) -> str:
        if not value:
            return ""
        try:
            return dt.datetime.fromisoformat(str(value)).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return str(value)


class GeopointEditor(Editor):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setPlaceholderText("latitud longitud")

    def parse(self, text: str) -> Any:
        return parse_geopoint(text)


class AcknowledgeEditor(Editor):
    """A check: space or 1 marks it, 0 or Delete clears it; stored as 'OK' or empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.hide()
        self.check = QCheckBox("Conforme")
        self.check.installEventFilter(self)
        self.check.toggled.connect(self._toggled)
        self.setFocusProxy(self.check)
        self.top.addWidget(self.check)
        self.top.addStretch(1)

    def focus_widget(self) -> QWidget:
        return self.check

    def set_value(self, value: Any) -> None:
        self._last_committed = value
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)

    def set_read_only(self, ro: bool) -> None:
        self._read_only = ro
        self.check.setEnabled(not ro)

    def commit(self) -> bool:
        value = "OK" if self.check.isChecked() else None
        if value != self._last_committed:
            self._last_committed = value
            self.committed.emit(value)
        return True

    def _toggled(self, _on: bool) -> None:
        self.commit()

    def key_hook(self, event: QKeyEvent) -> bool:
        if event.text() == "1":
            self.check.setChecked(True)
            self.auto_advance()
            return True
        if event.text() == "0" or event.key() == Qt.Key.Key_Delete:
            self.check.setChecked(False)
            return True
        return False


class ChoiceBoard(QWidget):
    """The choices beside a select: all of them for short lists, the matching ones
    for long lists. Clicking a choice answers it (for mouse users)."""

    picked = Signal(str)  # choice name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 2, 0, 2)
        self.grid.setHorizontalSpacing(18)
        self.grid.setVerticalSpacing(1)
        self.labels: list[QLabel] = []
        self._shown: tuple | None = None

    def show_items(
        self, items: list[ChoiceItem], selected: set[str], total: int, columns: int = 2
    ) -> None:
        key = (tuple(items), frozenset(selected), total, columns)
        if key == self._shown:
            return
        self._shown = key
        for lab in self.labels:
            self.grid.removeWidget(lab)
            lab.hide()
            lab.deleteLater()
        self.labels = []
        rows = max(1, -(-len(items) // columns))
        for i, c in enumerate(items):
            mark = "■" if c.name in selected else "□"
            lab = QLabel(
                f"{mark} <a href='{_esc(c.name)}' style='color:#1a1a1a; text-decoration:none'>"
                f"<b>{_esc(c.code)}</b>&nbsp; {_esc(c.label)}</a>"
            )
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setWordWrap(True)
            lab.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            lab.linkActivated.connect(self.picked)
            self.grid.addWidget(lab, i % rows, i // rows)
            self.labels.append(lab)
        if len(items) < total:
            more = QLabel(f"… {total - len(items)} más: siga escribiendo para filtrar")
            more.setObjectName("hint")
            self.grid.addWidget(more, rows, 0, 1, columns)
            self.labels.append(more)


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
    )


class SelectOneEditor(Editor):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._has_focus = False
        self.items: list[ChoiceItem] = []
        self.line.setMaximumWidth(160)
        self.line.setPlaceholderText("código o nombre")
        self.chosen = QLabel("")
        self.chosen.setObjectName("ok")
        self.board = ChoiceBoard()
        self.board.picked.connect(self._picked)
        self.top.addWidget(self.chosen, 1)
        self.box.addWidget(self.board)
        self.line.textEdited.connect(self._edited)

    def set_choices(self, choices: Any, lang: str | None = None) -> None:
        self.items = choice_items(choices, lang)
        self._refresh_board(self.line.text())

    def _refresh_board(self, typed: str) -> None:
        selected = {self._last_committed} if self._last_committed else set()
        self._show_board(typed.strip(), selected)

    def set_read_only(self, ro: bool) -> None:
        changed = ro != self._read_only
        super().set_read_only(ro)
        if changed:
            self._refresh_board("")

    def _show_board(self, typed: str, selected: set[str]) -> None:
        """All choices of a short list; of a long one, the first LONG_LIST_SHOWN
        (nothing typed) or those matching the text typed. The list opens while the
        question has the focus, and stays open while it is unanswered; an answered
        question elsewhere, or a read-only one, shows only the chosen label."""
        if self._read_only or (selected and not self._has_focus):
            self.board.setVisible(False)
            return
        if len(self.items) <= MAX_GRID_CHOICES:
            shown, total = self.items, len(self.items)
        elif typed:
            hits = match_choices(self.items, typed)
            shown, total = hits[: MATCH_ROWS * 3], len(hits)
        else:
            shown, total = self.items[:LONG_LIST_SHOWN], len(self.items)
        self.board.setVisible(bool(shown) or total > 0)
        n = len(shown)
        columns = 1 if n <= 4 else 2 if n <= 10 else 3
        self.board.show_items(shown, selected, total, columns=columns)

    def parse(self, text: str) -> Any:
        t = text.strip()
        if not t:
            return None
        c = exact_choice(self.items, t)
        if c is None:
            raise ParseError(unclear_choice_message(self.items, t))
        return c.name

    def display(self, value: Any) -> str:
        for c in self.items:
            if c.name == value:
                return c.code
        return "" if value is None else str(value)

    def set_value(self, value: Any) -> None:
        super().set_value(value)
        self._show_chosen(value)

    def _show_chosen(self, value: Any) -> None:
        self._show_chosen_text(value)
        self._refresh_board("")

    def _show_chosen_text(self, value: Any) -> None:
        label = next((c.label for c in self.items if c.name == value), "")
        self.chosen.setText(f"→ {label}" if label else "")

    def _edited(self, text: str) -> None:
        t = text.strip()
        self._refresh_board(t)
        if not t:
            self._show_chosen_text(self._last_committed)
            return
        hits = match_choices(self.items, t)
        if t.isdigit():
            if len(hits) == 1 and hits[0].code == t:
                self.auto_advance()  # a complete code no longer code starts with
            return
        # letters: show what Enter would choose, never move on by itself
        one = exact_choice(self.items, t)
        if one is not None:
            self.chosen.setText(f"→ {one.label}   (Enter para confirmar)")
        elif hits:
            self.chosen.setText(f"{len(hits)} opciones: siga escribiendo")
        else:
            self.chosen.setText("ninguna opción con esas letras")

    def _picked(self, name: str) -> None:
        if self._read_only:
            return
        self.line.setText(self.display(name))
        self.commit()
        self.line.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.line and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self._has_focus = event.type() == QEvent.Type.FocusIn
            text = self.line.text() if self._has_focus else ""
            if self._last_committed is not None and text == self.display(self._last_committed):
                text = ""  # an answer already there (prefilled): the list, the answer marked
            self._refresh_board(text)
        return super().eventFilter(watched, event)


class SelectMultipleEditor(SelectOneEditor):
    """Codes separated by spaces, e.g. '1 4 7'; stored space-separated (ODK style)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line.setMaximumWidth(240)
        self.line.setPlaceholderText("códigos, ej.: 1 3 5")
        self.line.setMinimumWidth(180)

    def parse(self, text: str) -> Any:
        parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
        if not parts:
            return None
        names: list[str] = []
        for p in parts:
            c = exact_choice(self.items, p)
            if c is None:
                raise ParseError(f"Código «{p}» no válido. Escriba los códigos mostrados.")
            if c.name not in names:
                names.append(c.name)
        return " ".join(names)

    def display(self, value: Any) -> str:
        if not value:
            return ""
        names = str(value).split()
        codes = {c.name: c.code for c in self.items}
        return " ".join(codes.get(n, n) for n in names)

    def _show_chosen_text(self, value: Any) -> None:
        names = set(str(value or "").split())
        labels = [c.label for c in self.items if c.name in names]
        self.chosen.setText(("→ " + "; ".join(labels)) if labels else "")

    def _refresh_board(self, typed: str) -> None:
        selected = set(str(self._last_committed or "").split())
        last = typed.split()[-1] if typed.split() and not typed.endswith(" ") else ""
        self._show_board("" if last.isdigit() else last, selected)

    def _edited(self, text: str) -> None:
        self._refresh_board(text)

    def _picked(self, name: str) -> None:
        if self._read_only:
            return
        names = str(self._last_committed or "").split()
        names = [n for n in names if n != name] if name in names else [*names, name]
        self.line.setText(self.display(" ".join(names)))
        self.commit()
        self.line.setFocus()


EDITORS: dict[str, type[Editor]] = {
    "text": TextEditor,
    "integer": IntegerEditor,
    "decimal": DecimalEditor,
    "date": DateEditor,
    "time": TimeEditor,
    "datetime": DateTimeEditor,
    "select_one": SelectOneEditor,
    "select_multiple": SelectMultipleEditor,
    "acknowledge": AcknowledgeEditor,
    "geopoint": GeopointEditor,
}

# Types that get a row but no editor (note) or no row at all (computed or metadata).


def make_editor(qtype: str, parent: QWidget | None = None) -> Editor | None:
    cls = EDITORS.get(qtype)
    return cls(parent) if cls else None
