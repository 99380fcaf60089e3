"""Qt's own texts in Spanish: the file dialogs ("Buscar en", "Nombre de
archivo"), the standard buttons ("Cancelar", "Guardar") and the context menus of
text boxes come from Qt's translation catalogues, shipped with PySide6 (and
bundled by the packaging, see packaging/). Our own texts are written in Spanish."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger("siee.ui.translations")

CATALOGUES = ("qtbase_es",)


def install_qt_spanish(app: QCoreApplication) -> bool:
    """Load Qt's Spanish catalogues into `app` and make Spanish (Peru) the default
    locale (dates, numbers, day names). Returns False, with a log line, when a
    catalogue is missing (the program still works, in Qt's English)."""
    QLocale.setDefault(QLocale(QLocale.Language.Spanish, QLocale.Country.Peru))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    ok = True
    kept = getattr(app, "_siee_translators", [])
    for name in CATALOGUES:
        if any(t.objectName() == name for t in kept):
            continue
        tr = QTranslator(app)
        tr.setObjectName(name)
        if tr.load(name, folder):
            app.installTranslator(tr)
            kept.append(tr)
        else:
            log.warning("Qt translation %s not found in %s", name, folder)
            ok = False
    app._siee_translators = kept  # type: ignore[attr-defined]
    return ok
