"""A date typed as a clerk types it: `dd/mm/aaaa` in a plain line, kept exactly as
typed. A QDateEdit edits section by section: two digits jump to the month, «/» jumps
again, and a date it cannot read is «fixed» on its own (30/11/2026 became 01/11/2026);
here nothing changes what was typed, and the dialog that owns the field refuses to go
on with a Spanish message (`DateField.problem`) instead."""

from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QLineEdit, QWidget

_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def _text(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


class DateField(QLineEdit):
    """A date as `dd/mm/aaaa` (also «-» or «.» between the parts). `label` names the
    field in the messages («La fecha de la visita»)."""

    def __init__(self, value: dt.date | None, label: str, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.label = label
        self.setPlaceholderText("dd/mm/aaaa")
        self.setToolTip("Escriba la fecha como día/mes/año, por ejemplo 30/11/2026.")
        if value is not None:
            self.set_date(value)

    def set_date(self, value: dt.date) -> None:
        """Show `value` as dd/mm/aaaa."""
        self.setText(_text(value))

    def date(self) -> dt.date | None:
        """The typed date, or None when the text is not a whole, real date."""
        m = _DATE.match(self.text())
        if m is None:
            return None
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None

    def problem(self, earliest: dt.date | None = None, latest: dt.date | None = None,
                earliest_what: str = "", latest_what: str = "a hoy") -> str | None:
        """The Spanish message that refuses the typed date, or None when it is a real
        date between `earliest` and `latest` (inclusive); `earliest_what` /
        `latest_what` name those limits with their preposition («a la solicitud», «a hoy»)."""
        day = self.date()
        if day is None and _DATE.match(self.text()):
            return (f"{self.label} «{self.text().strip()}» no existe en el calendario (revise "
                    "el día y el mes: por ejemplo, febrero tiene 28 o 29 días).")
        if day is None:
            shown = self.text().strip()
            return (f"{self.label} «{shown}» no es una fecha completa. Escríbala como "
                    "día/mes/año, por ejemplo 30/11/2026." if shown else
                    f"Escriba {self.label[0].lower() + self.label[1:]} como día/mes/año, "
                    "por ejemplo 30/11/2026.")
        if latest is not None and day > latest:
            return (f"{self.label} ({_text(day)}) es posterior {latest_what} "
                    f"({_text(latest)}): no puede ser una fecha futura. Escriba la fecha "
                    "en que ocurrió.")
        if earliest is not None and day < earliest:
            return (f"{self.label} ({_text(day)}) es anterior {earliest_what} "
                    f"({_text(earliest)}). Revise la fecha: debe ser el {_text(earliest)} "
                    "o posterior.")
        return None

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Arriving by keyboard selects the whole date, so typing replaces it."""
        super().focusInEvent(event)
        if event.reason() in (Qt.FocusReason.TabFocusReason,
                              Qt.FocusReason.BacktabFocusReason,
                              Qt.FocusReason.ShortcutFocusReason):
            self.selectAll()
