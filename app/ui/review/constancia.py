"""The household's constancia de empadronamiento: a one-page PDF written with
Qt's own PDF writer (QTextDocument + QPdfWriter, no browser), or printed.

The data comes from Workspace.constancia() (which checks who may issue it and
leaves the audit entry); this module only lays it out."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtGui import QPageSize, QTextDocument
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.core.errors import SieeError
from app.core.text import xml_safe
from app.ui.common.pdf import print_document, write_pdf
from app.ui.common.worker import show_error
from app.workspace import Workspace
from app.workspace.documents import ConstanciaData

log = logging.getLogger("siee.ui.constancia")

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 15pt; margin: 0; }
h2 { font-size: 11pt; margin: 10px 0 4px 0; border-bottom: 1px solid #444; }
.muted { color: #555; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 1px solid #999; padding: 3px 5px; }
table.grid th { background: #e8e8e8; text-align: left; }
"""


def _e(text: object) -> str:
    return html.escape(xml_safe(str(text or "")))  # one rule for every output


def constancia_html(d: ConstanciaData) -> str:
    """The constancia as rich text (the subset of HTML QTextDocument lays out)."""
    members = "".join(
        f"<tr><td>{m.orden}</td><td>{_e(m.nombre)}</td><td>{_e(m.documento)}</td>"
        f"<td>{_e(m.parentesco)}</td><td>{_e(m.sexo)}</td><td>{_e(m.edad)}</td></tr>"
        for m in d.members
    )
    pairs = list(d.answers)
    answers = ""
    for i in range(0, len(pairs), 2):  # two answers per row: the page stays one page
        row = pairs[i : i + 2] + [("", "")] * (2 - len(pairs[i : i + 2]))
        answers += "<tr>" + "".join(
            f"<td width='30%' class='muted'>{_e(q)}</td><td width='20%'>{_e(a)}</td>"
            for q, a in row
        ) + "</tr>"
    box = (
        "<table width='100%' border='1' cellspacing='0' cellpadding='6' "
        "style='border-style: solid; border-color: {color};' bgcolor='{bg}'><tr><td>{body}</td>"
        "</tr></table>"
    )
    if d.result:
        result = box.format(
            color="#1e6b34",
            bg="#eef7f0",
            body=(
                "Clasificación socioeconómica (CSE) del hogar, comunicada por el SIEE:<br>"
                f"<b>{_e(d.result['category'])}</b> — "
                f"Fecha del resultado: {_e(d.result['date'])} — "
                f"Vigente hasta: {_e(d.result['valid_until'])}"
            ),
        )
    else:
        result = box.format(
            color="#888888",
            bg="#ffffff",
            body=(
                "La clasificación socioeconómica (CSE) aún no ha sido comunicada por el SIEE. "
                "El hogar puede consultarla más adelante en la ULE."
            ),
        )
    note = (
        "La clasificación socioeconómica la determina el Sistema de Focalización de Hogares "
        "(SISFOH) del MIDIS; esta constancia acredita el empadronamiento y transcribe el "
        "resultado que el SIEE comunicó a la ULE."
        if d.result
        else "La clasificación socioeconómica la determina el Sistema de Focalización de "
        "Hogares (SISFOH) del MIDIS; esta constancia acredita el empadronamiento."
    )
    ubigeo = f" (ubigeo {_e(d.ule_ubigeo)})" if d.ule_ubigeo else ""
    return f"""<html><head><style>{_CSS}</style></head><body>
<p class='muted'>{_e(d.municipality)} — Unidad Local de Empadronamiento{ubigeo}<br>
{_e(d.place)}</p>
<h1>Constancia de empadronamiento</h1>
<p>La Unidad Local de Empadronamiento deja constancia de que el hogar cuyo jefe o jefa es
<b>{_e(d.head_name)}</b> fue empadronado con la {_e(d.form_title)} en la fecha
<b>{_e(d.visit_date)}</b>, por el empadronador(a) <b>{_e(d.enumerator)}</b>.</p>
<table class='grid' width='100%' cellspacing='0' cellpadding='3'>
<tr><th width='30%'>Dirección</th><td>{_e(d.address)}</td></tr>
<tr><th>Estado de la ficha</th><td>{_e(d.state_label)} (revisión {d.revision})</td></tr>
<tr><th>N° de expediente</th><td>{_e(d.reference)}</td></tr>
</table>
<h2>Resultado</h2>
{result}
<h2>Integrantes del hogar</h2>
<table class='grid' width='100%' cellspacing='0' cellpadding='3'>
<tr><th width='5%'>N°</th><th width='37%'>Apellidos y nombres</th><th width='18%'>Documento</th>
<th width='24%'>Parentesco</th><th width='9%'>Sexo</th><th width='7%'>Edad</th></tr>
{members}
</table>
<h2>Principales datos declarados</h2>
<table class='grid' width='100%' cellspacing='0' cellpadding='3'>{answers}</table>
<p class='muted'>{_e(note)} Los datos declarados son de responsabilidad del informante.<br>
Emitida el {d.issued_at:%d/%m/%Y a las %H:%M} por {_e(d.issued_by)}.</p>
<br><br>
<table width='100%'><tr>
<td align='center'>______________________________<br>Responsable de la ULE</td>
<td align='center'>______________________________<br>Informante del hogar</td>
</tr></table>
</body></html>"""


def _document(d: ConstanciaData) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setHtml(constancia_html(d))
    return doc


def write_constancia_pdf(d: ConstanciaData, path: Path | str) -> Path:
    """Write the PDF to `path` (through a hidden file beside it, then os.replace);
    ValidationError (Spanish) when it cannot be written."""
    return write_pdf(_document(d), path, f"Constancia de empadronamiento — {d.head_name}",
                     margins_mm=(18, 16, 18, 16), what="la constancia")


def default_name(d: ConstanciaData) -> str:
    head = "".join(ch if ch.isalnum() else "-" for ch in d.head_name.split(",")[0]).strip("-")
    return f"constancia-{head or d.reference or 'hogar'}.pdf"


def save_constancia(parent: QWidget | None, ws: Workspace, uuid: str) -> Path | None:
    """Ask where to save the household's constancia, then write it there."""
    try:
        data = ws.documents.constancia(uuid)
    except SieeError as e:
        show_error(parent, e)
        return None
    start = str(Path.home() / default_name(data))
    name, _ = QFileDialog.getSaveFileName(
        parent, "Guardar constancia de empadronamiento", start, "Documento PDF (*.pdf)"
    )
    if not name:
        return None
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    try:
        path = write_constancia_pdf(data, name)
    except SieeError as e:
        show_error(parent, e)
        return None
    box = QMessageBox(parent)
    box.setWindowTitle("Constancia de empadronamiento")
    box.setText(f"Constancia guardada en:\n{path}")
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.button(QMessageBox.StandardButton.Ok).setText("Aceptar")
    box.open()
    return path


def print_constancia(parent: QWidget | None, ws: Workspace, uuid: str) -> bool:
    """Print the constancia on a printer the person picks."""
    # Deferred on purpose: QtPrintSupport loads the platform's print system, only
    # wanted when someone prints (tests/test_layers.py DEFERRED_OK).
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    try:
        data = ws.documents.constancia(uuid)
    except SieeError as e:
        show_error(parent, e)
        return False
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Imprimir constancia de empadronamiento")
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    print_document(_document(data), printer)
    return True
