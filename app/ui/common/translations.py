"""Qt's own texts in Spanish: the file dialogs ("Buscar en", "Nombre de
archivo"), the standard buttons ("Cancelar", "Guardar") and the context menus of
text boxes come from Qt's translation catalogues, shipped with PySide6 (and
bundled by the packaging, see packaging/); the few texts that catalogue lacks
(GAPS) are answered here. Our own texts are written in Spanish."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger("siee.ui.translations")

CATALOGUES = ("qtbase_es",)

# Texts of Qt's file and print dialogs that Qt's own Spanish catalogue leaves in
# English (qtbase_es of Qt 6 lacks them): (context, source) -> Spanish. Looked up
# only after the catalogue found nothing (see _Gaps).
GAPS: dict[tuple[str, str], str] = {
    ("QFileDialog", "&Look in:"): "&Buscar en:",
    ("QFileDialog", "Files of &type:"): "Archivos de &tipo:",
    ("QAbstractFileIconProvider", "Drive"): "Unidad",
    ("QAbstractFileIconProvider", "Folder"): "Carpeta",
    ("QMimeType", "TOML document"): "Documento TOML",
    ("QPrintSettingsOutput", "Double Sided Printing"): "Impresión a doble cara",
    ("QPrintSettingsOutput", "Off"): "No",
    ("QPrintSettingsOutput", "Long side binding"): "Encuadernar por el lado largo",
    ("QPrintSettingsOutput", "Short side binding"): "Encuadernar por el lado corto",
    ("QPrintSettingsOutput", "Page &Set:"): "&Grupo de páginas:",
    ("QPrintSettingsOutput", "Pages"): "Páginas",
    ("QPrintSettingsOutput",
     "Specify pages or ranges separated by commas. Ranges are specified by two numbers "
     "separated by a hyphen. E.g: 3,5-7,9 prints pages 3, 5, 6, 7 and 9."):
        "Indique páginas o intervalos separados por comas; un intervalo son dos números "
        "unidos por un guion. Por ejemplo: 3,5-7,9 imprime las páginas 3, 5, 6, 7 y 9.",
    ("QPageSetupWidget", "Page &order:"): "&Orden de las páginas:",
    ("QPageSetupWidget", "Pages &per sheet:"): "Páginas &por hoja:",
}


class _Gaps(QTranslator):
    """The texts of GAPS; no answer (None) lets Qt ask the next catalogue (or keep its
    English text)."""

    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str | None:
        # None is Qt's null string: "not translated here" ("" would be a translation)
        return GAPS.get((context, source))

    def isEmpty(self) -> bool:  # noqa: N802 - Qt's name
        return False


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
    if ok and not any(t.objectName() == "siee_gaps" for t in kept):
        gaps = _Gaps(app)
        gaps.setObjectName("siee_gaps")
        app.installTranslator(gaps)  # installed last: asked first, answers only its own
        kept.append(gaps)
    app._siee_translators = kept  # type: ignore[attr-defined]
    return ok
