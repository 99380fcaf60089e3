"""Column widths of the list screens: every column as wide as its contents, and when the
row does not fit the window (a laptop's 1366 px screen) the widest columns give way
first, so the column that carries the message of the row (the observation or the
result) stays readable instead of being cut off at the right edge (found in a clerk's
walk-through). A cut cell shows its whole text in its tooltip (the models say so)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHeaderView, QTableView

# No column gets narrower than this (px) to make room, unless its contents are narrower.
MIN_WIDTH = 90


def fit_widths(wants: list[int], floors: list[int], room: int) -> list[int]:
    """Widths (px) for columns that want `wants` within `room` px: all as wanted when
    they fit; otherwise one level L is found and each column is cut to max(L, its
    floor) (the widest columns give way first, none below its floor). The sum may
    exceed `room` only when the floors alone do."""
    if sum(wants) <= room:
        return list(wants)
    lo, hi = 0, max(wants)
    while lo < hi:  # the largest level whose widths fit
        mid = (lo + hi + 1) // 2
        if sum(min(w, max(mid, f)) for w, f in zip(wants, floors, strict=True)) <= room:
            lo = mid
        else:
            hi = mid - 1
    return [min(w, max(lo, f)) for w, f in zip(wants, floors, strict=True)]


class ColumnFitter(QObject):
    """Keeps the columns of `view` fitted (`fit_widths`) when its rows change and when
    it is resized. Column `main` (the one that must stay readable) takes the room the
    others leave (stretch), and is guaranteed up to `main_max` px of its contents before
    the others give way. Create it after the view has its model."""

    def __init__(self, view: QTableView, main: int, main_max: int = 480) -> None:
        super().__init__(view)
        self.view = view
        self.main = main
        self.main_max = main_max
        header = view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setResizeContentsPrecision(100)  # the rows in view and 100 more, not all
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(main, QHeaderView.ResizeMode.Stretch)
        model = view.model()
        model.modelReset.connect(self.fit)
        model.layoutChanged.connect(self.fit)
        model.rowsInserted.connect(self.fit)
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        """Size the columns to their contents within the view's width."""
        view, header = self.view, self.view.horizontalHeader()
        n = view.model().columnCount()
        if n == 0:
            return
        others = [c for c in range(n) if c != self.main]
        wants = [max(view.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in others]
        floors = [min(w, max(MIN_WIDTH, header.sectionSizeHint(c)))
                  for w, c in zip(wants, others, strict=True)]
        main_want = min(self.main_max, max(view.sizeHintForColumn(self.main),
                                           header.sectionSizeHint(self.main)))
        room = view.viewport().width() - main_want
        for c, w in zip(others, fit_widths(wants, floors, max(0, room)), strict=True):
            header.resizeSection(c, w)
