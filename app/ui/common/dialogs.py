"""The OK / Cancelar button row every small dialog of the program uses, and the layout
of a small form dialog (the fields, a hint under them, the buttons)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


def ok_cancel(dialog: QDialog, ok_text: str,
              on_ok: Callable[[], object] | None = None) -> QDialogButtonBox:
    """A button box for `dialog`: OK labelled `ok_text` (Spanish, may carry a «&»
    mnemonic) calling `on_ok` (default: dialog.accept), and «Cancelar» rejecting it.
    The caller places the box in its layout."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cancelar")
    buttons.accepted.connect(on_ok or dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def form_with_hint(dialog: QDialog, form: QFormLayout, hint: str, ok_text: str,
                   below: tuple[QWidget, ...] = ()) -> QDialogButtonBox:
    """Lay `dialog` out as `form`, the Spanish `hint` (wrapped, hint style), the
    widgets `below` (an error label…), then `ok_cancel(dialog, ok_text)`, which it
    returns."""
    note = QLabel(hint)
    note.setObjectName("hint")
    note.setWordWrap(True)
    buttons = ok_cancel(dialog, ok_text)
    lay = QVBoxLayout(dialog)
    lay.addLayout(form)
    lay.addWidget(note)
    for w in below:
        lay.addWidget(w)
    lay.addWidget(buttons)
    return buttons
