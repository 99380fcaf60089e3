"""Keyboard rules every window follows.

- Enter (or the keypad's Enter) on a focused push button presses it, as Space
  does: Qt's own buttons only react to Enter as the default button of a dialog.
- No two things reachable with Alt+letter in one window share the letter
  (`mnemonic_clashes` lists them; a test walks every window with it).
- F1 and an «Ayuda» menu show the guide of the screen in front (see help_texts)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTabWidget,
    QWidget,
)

HELP_MENU_TITLE = "A&yuda"


def mnemonic_of(text: str) -> str | None:
    """The Alt+letter of a text ('&Abrir' -> 'a'; '&&' is a literal '&'),
    lower-case without accents; None when it has none."""
    i = 0
    while i < len(text) - 1:
        if text[i] == "&":
            nxt = text[i + 1]
            if nxt == "&":
                i += 2
                continue
            if nxt.isalnum():
                base = unicodedata.normalize("NFKD", nxt.lower())
                return "".join(ch for ch in base if not unicodedata.combining(ch))
        i += 1
    return None


def _clashes(texts: Iterable[str], scope: str) -> list[str]:
    seen: dict[str, str] = {}
    out: list[str] = []
    for t in texts:
        m = mnemonic_of(t)
        if m is None:
            continue
        if m in seen and seen[m] != t:
            out.append(f"{scope}: Alt+{m.upper()} es «{seen[m]}» y «{t}»")
        seen.setdefault(m, t)
    return out


def window_mnemonics(window: QWidget) -> list[str]:
    """Texts with a mnemonic that Alt+letter reaches in `window` as it is shown
    now: the menu bar's titles, visible buttons, labels with a buddy, group boxes
    and the tabs of visible tab widgets."""
    texts: list[str] = []
    if isinstance(window, QMainWindow) and window.menuBar() is not None:
        for a in window.menuBar().actions():
            if a.isVisible():
                texts.append(a.text())
    for b in window.findChildren(QAbstractButton):
        if b.isVisibleTo(window) and b.window() is window:
            texts.append(b.text())
    for lab in window.findChildren(QLabel):
        if lab.buddy() is not None and lab.isVisibleTo(window) and lab.window() is window:
            texts.append(lab.text())
    for g in window.findChildren(QGroupBox):
        if g.isVisibleTo(window) and g.window() is window:
            texts.append(g.title())
    for tabs in window.findChildren(QTabWidget):
        if tabs.isVisibleTo(window) and tabs.window() is window:
            texts += [tabs.tabText(i) for i in range(tabs.count())]
    return texts


def mnemonic_clashes(window: QWidget) -> list[str]:
    """Spanish descriptions of Alt+letter clashes in `window` and in each of its
    menus (a menu's items form their own scope); [] when there are none."""
    title = window.windowTitle() or type(window).__name__
    out = _clashes(window_mnemonics(window), title)
    menus: list[QMenu] = []
    if isinstance(window, QMainWindow):
        menus += [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    menus += [m for m in window.findChildren(QMenu) if m not in menus]
    for m in menus:
        items = [a.text() for a in m.actions() if a.isVisible() and not a.isSeparator()]
        out += _clashes(items, f"{title} › menú {m.title()}")
    return out


class _EnterPresses(QObject):
    """Event filter: Enter on a focused push button clicks it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and isinstance(watched, QPushButton)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
            and watched.isEnabled()
        ):
            watched.animateClick()
            return True
        return False


_ENTER = _EnterPresses()


def enter_presses_buttons(root: QWidget) -> None:
    """Make Enter press every push button inside `root` (and `root` itself).
    Call it again after adding buttons; installing twice keeps one filter."""
    buttons = root.findChildren(QPushButton)
    if isinstance(root, QPushButton):
        buttons.append(root)
    for b in buttons:
        b.installEventFilter(_ENTER)


def install_help(
    window: QWidget, show_guide: Callable[[], None], f1: bool = True
) -> QAction | None:
    """F1 anywhere in `window` calls `show_guide` (f1=False when the window binds
    F1 itself); a QMainWindow also gets an «Ayuda» menu with the same entry.
    Returns the menu's action (or None)."""
    if f1:
        sc = QShortcut(QKeySequence(Qt.Key.Key_F1), window)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(show_guide)
    if isinstance(window, QMainWindow):
        menu = window.menuBar().addMenu(HELP_MENU_TITLE)
        menu.setObjectName("help_menu")
        act = menu.addAction("&Guía de esta pantalla (F1)")
        act.triggered.connect(show_guide)
        return act
    if isinstance(window, QDialog):
        window.setWhatsThis("F1: ayuda")
    return None
