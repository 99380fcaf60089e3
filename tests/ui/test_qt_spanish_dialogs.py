"""Qt's own file and print dialogs in Spanish (issue 17, IT walk-through item 14): Qt's
catalogue (qtbase_es, loaded at start by the window, the practice mode and the
practice commands' PDFs) leaves «Look in», «Files of type» and a few print texts in
English; the program fills those gaps without hiding Qt's own texts."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFileDialog, QGroupBox, QLabel

from app.ui.common.pdf import ensure_app
from app.ui.common.translations import GAPS, install_qt_spanish


def _labels(widget) -> dict[str, str]:
    return {w.objectName(): w.text() for w in widget.findChildren(QLabel) if w.objectName()}


def test_file_dialog_speaks_spanish(qapp, qtbot):
    assert install_qt_spanish(qapp)
    dlg = QFileDialog(None, "Guardar copia de respaldo")
    dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    qtbot.addWidget(dlg)
    labels = _labels(dlg)
    assert labels["lookInLabel"] == "&Buscar en:"
    assert labels["fileTypeLabel"] == "Archivos de &tipo:"
    assert labels["fileNameLabel"] != "File &name:"  # Qt's own catalogue still answers
    for text in labels.values():
        assert not any(w in text for w in ("Look in", "Files of", "File name")), labels


def test_print_dialog_gaps_are_spanish_and_the_rest_is_untouched(qapp, qtbot):
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    install_qt_spanish(qapp)
    dlg = QPrintDialog(QPrinter())
    qtbot.addWidget(dlg)
    assert _labels(dlg)["pageSetLabel"] == "&Grupo de páginas:"
    assert "Impresión a doble cara" in {g.title() for g in dlg.findChildren(QGroupBox)}
    # texts the program does not fill keep Qt's answer (no empty strings, no lost
    # placeholders in the paper sizes)
    assert QCoreApplication.translate("QPageSize", "%1 x %2 in") == "%1 x %2 in"
    assert QCoreApplication.translate("QFileDialog", "Look in:").strip()
    for (context, source), text in GAPS.items():
        assert QCoreApplication.translate(context, source) == text


def test_the_practice_commands_application_speaks_spanish_too(qapp):
    ensure_app()  # what `siee-campo practice create` uses for its PDFs
    names = [t.objectName() for t in qapp._siee_translators]
    assert names.count("qtbase_es") == 1 and names.count("siee_gaps") == 1
