"""One stylesheet and the few colours the screens share."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication

ERROR = "#b3261e"
WARNING = "#8a5a00"
OK = "#1e6b34"
RETURNED_BG = QColor("#fde8e6")
DRAFT_BG = QColor("#ffffff")
MUTED = "#5f6368"

STYLESHEET = f"""
QWidget {{ font-size: 10pt; }}
QLabel#title {{ font-size: 15pt; font-weight: 600; }}
QLabel#subtitle {{ font-size: 11pt; color: {MUTED}; }}
QLabel#error {{ color: {ERROR}; }}
QLabel#warning {{ color: {WARNING}; }}
QLabel#ok {{ color: {OK}; }}
QLabel#recovery {{
    font-family: monospace; font-size: 18pt; font-weight: 600;
    padding: 12px; border: 2px dashed #888; background: #fffbe6;
}}
QLabel#question {{ font-size: 11pt; font-weight: 600; }}
QLabel#hint {{ color: {MUTED}; }}
QLabel#empty_note {{ font-size: 12pt; color: #3c4043; background: #f8f9fa;
    border: 1px dashed #bdc1c6; }}
QLabel#returned {{
    background: #fde8e6; border: 1px solid {ERROR}; padding: 6px; color: #5c1410;
}}
QFrame#current {{ background: #e8f0fe; border-left: 4px solid #1a73e8; }}
QPushButton {{ padding: 5px 12px; }}
QPushButton#primary {{ font-weight: 600; }}
QPushButton#link {{ color: #1a56b0; text-decoration: underline; text-align: left;
    padding: 2px 0; border: none; }}
"""


def apply(app: QApplication) -> None:
    font = QFont(app.font())
    font.setPointSize(10)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
