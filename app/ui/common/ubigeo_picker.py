"""Cascading departamento → provincia → distrito pickers over the INEI catalog."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from app.core.ubigeo import catalog


class UbigeoPicker(QWidget):
    changed = Signal(str)  # six-digit ubigeo, or "" while incomplete

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cat = catalog()
        self.dep = QComboBox()
        self.prov = QComboBox()
        self.dist = QComboBox()
        for box in (self.dep, self.prov, self.dist):
            box.setMinimumWidth(320)
            box.setMaxVisibleItems(20)
        self.code_label = QLabel("Ubigeo: —")
        self.code_label.setObjectName("hint")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Departamento:", self.dep)
        form.addRow("&Provincia:", self.prov)
        form.addRow("D&istrito:", self.dist)
        form.addRow("", self.code_label)
        self.dep.addItem("— elija —", "")
        for code, name in self.cat.departamentos():
            self.dep.addItem(name, code)
        self.dep.currentIndexChanged.connect(self._dep_changed)
        self.prov.currentIndexChanged.connect(self._prov_changed)
        self.dist.currentIndexChanged.connect(self._dist_changed)
        self._dep_changed()

    def _dep_changed(self) -> None:
        dep = self.dep.currentData() or ""
        self.prov.blockSignals(True)
        self.prov.clear()
        self.prov.addItem("— elija —", "")
        if dep:
            for code, name in self.cat.provincias(dep):
                self.prov.addItem(name, code)
        self.prov.blockSignals(False)
        self._prov_changed()

    def _prov_changed(self) -> None:
        prov = self.prov.currentData() or ""
        self.dist.blockSignals(True)
        self.dist.clear()
        self.dist.addItem("— elija —", "")
        if prov:
            for code, name in self.cat.distritos(prov):
                self.dist.addItem(name, code)
        self.dist.blockSignals(False)
        self._dist_changed()

    def _dist_changed(self) -> None:
        code = self.value()
        self.code_label.setText(f"Ubigeo: {code}" if code else "Ubigeo: —")
        self.changed.emit(code)

    def value(self) -> str:
        return self.dist.currentData() or ""

    def set_value(self, code: str) -> None:
        d = self.cat.get(code or "")
        if d is None:
            return
        self.dep.setCurrentIndex(self.dep.findData(code[:2]))
        self.prov.setCurrentIndex(self.prov.findData(code[:4]))
        self.dist.setCurrentIndex(self.dist.findData(code))
