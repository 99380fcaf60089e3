"""The OK / Cancelar button row every small dialog of the program uses."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox


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
