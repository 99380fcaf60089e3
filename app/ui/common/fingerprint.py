"""The server key's fingerprint as IT compares it with the centre's (`siee-server
keys`): the same words and form everywhere the window shows it (the enrollment
dialog, the result of the wizard's enrollment, the settings screen), as the
console's `sync enroll` prints it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel

from app.sync.model import DeviceInfo
from app.sync.protocol import key_fingerprint

# The console's words (app/cli/sync.py prints «Huella de la clave del servidor: …»).
FINGERPRINT_WORDS = "Huella de la clave del servidor"
COMPARE_HINT = (f"Compare esta {FINGERPRINT_WORDS.lower()} con la que da la sede central "
                "(siee-server keys); si no coincide, no sincronice y avise a soporte.")


def fingerprint_of(info: DeviceInfo) -> str:
    """The fingerprint of the server signing key this laptop pinned at enrollment."""
    return key_fingerprint(info.server_signing_key)


def fingerprint_label(text: str = "") -> QLabel:
    """A label for a fingerprint: fixed-width font, selectable, on a line of its own
    (never wrapped or cut), objectName «fingerprint»."""
    label = QLabel(text)
    label.setObjectName("fingerprint")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return label
