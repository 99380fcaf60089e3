"""HTML to PDF with Qt's own writer (QTextDocument + QPdfWriter, as the constancia):
the exercises' paper FSU, the progress report and the handover checklist."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QApplication

from app.core.errors import ValidationError
from app.ui.common.translations import install_qt_spanish


def print_document(doc: QTextDocument, device: QPdfWriter | object) -> None:
    """Lay `doc` out on the page's printable area (in Qt's 96-dpi document units) and
    paint it on `device` (a QPdfWriter or a QPrinter)."""
    area = device.pageLayout().paintRect(QPageLayout.Unit.Point)  # type: ignore[attr-defined]
    doc.setPageSize(QSizeF(area.width() * 96 / 72, area.height() * 96 / 72))
    doc.print_(device)  # type: ignore[arg-type]


def write_pdf(content: str | QTextDocument, path: Path | str, title: str, *,
              margins_mm: tuple[float, float, float, float] = (15, 14, 15, 14),
              what: str = "el PDF") -> Path:
    """Write `content` (HTML, or a QTextDocument already set up) as an A4 PDF at `path`
    through a hidden file beside it, then os.replace, so a crash never leaves half a
    file. `margins_mm` is (left, top, right, bottom) in millimetres; `what` names the
    paper in the Spanish message («la constancia»). ValidationError (Spanish) when the
    folder is missing or the file cannot be written. Needs a QGuiApplication
    (offscreen is enough)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError("pdf folder missing",
                              "La carpeta elegida no existe. Elija otra ubicación.")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.parcial")
    try:
        writer = QPdfWriter(str(tmp))
        writer.setTitle(title)
        writer.setCreator("SIEE Campo")
        writer.setResolution(300)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                         QPageLayout.Orientation.Portrait,
                                         QMarginsF(*margins_mm), QPageLayout.Unit.Millimeter))
        if isinstance(content, QTextDocument):
            doc = content
        else:
            doc = QTextDocument()
            doc.setDocumentMargin(0)
            doc.setHtml(content)
        print_document(doc, writer)
        del writer  # flushes and closes the file
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError("empty pdf")
        os.replace(tmp, path)
    except OSError as e:
        raise ValidationError(f"pdf write failed: {e.__class__.__name__}",
                              f"No se pudo guardar {what}. Revise que la carpeta permita "
                              "escribir y que el archivo no esté abierto en otro programa.") \
            from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def ensure_app() -> None:
    """An application object for the command line's PDFs (offscreen when there is no
    screen). A QApplication, not a bare QGuiApplication: a process that later shows
    widgets (the tests run commands in-process) needs the widgets' kind. Qt's own
    texts in Spanish, as in the window (install_qt_spanish)."""
    app = QGuiApplication.instance()
    if app is None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
        _APP.append(app)
    install_qt_spanish(app)


_APP: list[QApplication] = []  # keeps the command line's application alive
