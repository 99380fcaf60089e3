"""Supervisor exports: the record list and the answers, as CSV or XLSX.

No Qt and no database here: the workspace (app/workspace_review.py) checks the
role, reads the records and leaves the audit entry; this module turns rows into
a file. Column headers are the forms' Spanish labels and answers are written
as their choice labels.

Only the file the person chose is written: rows go to a hidden temporary file
in the same folder, which replaces the target at the end (os.replace); a
cancelled or failed export removes it. Nothing goes to the system's temp dir.
Cells that a spreadsheet would run as a formula (=, +, -, @) are written as text."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.text import xml_safe
from app.core.ubigeo import catalog
from app.forms.graph import program_of

FORMATS = ("csv", "xlsx")
KINDS = ("cases", "records", "answers", "members")
KIND_LABELS = {
    "records": "Lista de fichas",
    "answers": "Respuestas (una fila por ficha)",
    "members": "Integrantes del hogar (una fila por persona)",
    "cases": "Expedientes (una fila por hogar)",
}
# Question types that carry an answer a person gave (calculations and notes do not).
EXPORTED_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "select_one",
        "select_multiple",
        "date",
        "datetime",
        "time",
        "geopoint",
    }
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportCancelled(Exception):
    """The person cancelled; the partial file was removed."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | integer | decimal | date | datetime
    width: int = 16


@dataclass
class Table:
    title: str  # sheet name
    columns: list[Column]
    rows: Iterable[list[Any]] = field(default_factory=list)


# -- answers as text ----------------------------------------------------------------------
def answers_flat(answers: dict[str, Any]) -> dict[str, str]:
    """Stored answers (FormSession.to_json() or a flat dict) as {path: text}."""
    if isinstance(answers.get("answers"), dict):
        answers = answers["answers"]
    return {str(k): "" if v is None else str(v) for k, v in answers.items()}


def format_date(value: str) -> str:
    """'2026-11-02' -> '02/11/2026' (other text unchanged)."""
    try:
        return dt.date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return value


class FormLabels:
    """Spanish labels of a form's questions and choices, cached per form."""

    def __init__(self, formdef: Any, lang: str | None = None) -> None:
        self.fd = formdef
        self.lang = lang or formdef.default_language
        self._choices: dict[tuple[str, ...], dict[str, str]] = {}

    def choices(self, nd: Any) -> dict[str, str]:
        got = self._choices.get(nd.path)
        if got is None:
            try:
                pairs = program_of(self.fd).choice_list(nd).pairs(self.lang)
            except Exception:  # noqa: BLE001 - a label must never stop an export
                pairs = []
            got = {str(n): str(lab) for n, lab in pairs}
            if not got and nd.list_name in self.fd.choices:
                got = {c.name: c.label(self.lang) for c in self.fd.choices[nd.list_name]}
            self._choices[nd.path] = got
        return got

    def value_text(self, nd: Any, value: str) -> str:
        """An answer as a person reads it: choice labels, dd/mm/aaaa dates."""
        if value == "" or nd is None:
            return value
        if nd.type == "select_one":
            return self.choices(nd).get(value, value)
        if nd.type == "select_multiple":
            labels = self.choices(nd)
            return "; ".join(labels.get(v, v) for v in value.split())
        if nd.type == "date":
            return format_date(value)
        return value

    def question_columns(self, container: Any) -> list[tuple[Any, Column]]:
        """(NodeDef, Column) of the exported questions directly under `container`
        (a form's root or a repeat), descending into groups but not into repeats."""
        out: list[tuple[Any, Column]] = []

        def walk(node: Any) -> None:
            for c in node.children:
                if c.kind == "repeat":
                    continue
                if c.kind == "group":
                    walk(c)
                elif c.type in EXPORTED_TYPES:
                    kind = {"integer": "integer", "decimal": "decimal", "date": "date"}.get(
                        c.type, "text"
                    )
                    label = c.label(self.lang) or c.name
                    out.append((c, Column(c.path_str, label, kind, _width(label, c.type))))

        walk(container)
        return _unique_labels(out)


def _width(label: str, qtype: str) -> int:
    if qtype in ("select_one", "select_multiple"):
        return 28
    return max(10, min(40, len(label) + 2))


def _unique_labels(cols: list[tuple[Any, Column]]) -> list[tuple[Any, Column]]:
    seen: dict[str, int] = {}
    for _nd, col in cols:
        seen[col.label] = seen.get(col.label, 0) + 1
    out = []
    for nd, col in cols:
        if seen[col.label] > 1:
            parent = "/".join(nd.path[1:-1]) or nd.path[0]
            col = Column(col.key, f"{col.label} ({parent})", col.kind, col.width)
        out.append((nd, col))
    return out


def find_repeat(formdef: Any, name: str = "integrantes") -> Any | None:
    for nd in formdef.root.walk():
        if nd.kind == "repeat" and nd.name == name:
            return nd
    return None


def cell_value(col: Column, text: str) -> Any:
    """Typed value for XLSX (numbers and dates stay numbers and dates)."""
    if text == "":
        return None
    if col.kind == "integer":
        try:
            return int(text)
        except ValueError:
            return text
    if col.kind == "decimal":
        try:
            return float(text)
        except ValueError:
            return text
    if col.kind == "date":
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return text
    return text


# Parts of an address after the street and door number, with their abbreviations.
ADDRESS_EXTRAS = (("block", "Block"), ("piso", "Piso"), ("interior", "Int."),
                  ("manzana", "Mz."), ("lote", "Lt."), ("km", "Km"))


def street_address(fd: Any, flat: dict[str, str], group: str) -> str:
    """The street address a household gave, as one line: «Calle Martín 1629 Mz. B Lt. 3».

    `fd` is the form definition, `flat` its answers by path (answers_flat), `group` the
    path of the group holding the address questions (e.g. "/s100/domicilio",
    "/fsu/ubicacion"); questions the form lacks or left empty are skipped. The type of
    road is written with its label (the form file's), not its code."""
    labels = FormLabels(fd, fd.default_language)

    def text(name: str) -> str:
        path = f"{group}/{name}"
        try:
            return labels.value_text(fd.node(path), flat.get(path, ""))
        except KeyError:
            return ""

    line = " ".join(x for x in (text("tipo_via"), flat.get(f"{group}/nombre_via", ""),
                                flat.get(f"{group}/numero_puerta", "")) if x)
    for name, label in ADDRESS_EXTRAS:
        if flat.get(f"{group}/{name}", ""):
            line += f" {label} {flat[f'{group}/{name}']}"
    return line


def ubigeo_names(code: str) -> tuple[str, str, str]:
    """(distrito, provincia, departamento) of an INEI ubigeo, or blanks."""
    d = catalog().get(code or "")
    return (d.distrito, d.provincia, d.departamento) if d else ("", "", "")


def local_dt(ts: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(ts).replace(microsecond=0) if ts else None


# -- writers ----------------------------------------------------------------------------------
def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.parcial")


def write_table(
    path: Path | str,
    table: Table,
    fmt: str,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write `table` to `path` as csv or xlsx; returns the number of data rows.
    Raises ExportCancelled (and leaves no file) when `cancelled()` turns true."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    tmp = _temp_beside(path)
    try:
        if fmt == "csv":
            n = _write_csv(tmp, table, cancelled)
        else:
            n = _write_xlsx(tmp, table, cancelled)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return n


def _rows(table: Table, cancelled: Callable[[], bool] | None) -> Iterator[list[Any]]:
    for row in table.rows:
        if cancelled is not None and cancelled():
            raise ExportCancelled("export cancelled")
        yield row


def _safe_text(value: str) -> str:
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_text(col: Column, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:g}"
    text = xml_safe(str(value))  # the one rule for every output (app.core.text)
    if col.kind == "date":
        return format_date(text)
    return _safe_text(text) if col.kind == "text" else text


def _write_csv(path: Path, table: Table, cancelled: Callable[[], bool] | None) -> int:
    n = 0
    # utf-8-sig: the byte-order mark makes Excel read the accents right.
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([c.label for c in table.columns])
        for row in _rows(table, cancelled):
            w.writerow([_csv_text(c, v) for c, v in zip(table.columns, row, strict=False)])
            n += 1
        f.flush()
        os.fsync(f.fileno())
    return n


def _write_xlsx(path: Path, table: Table, cancelled: Callable[[], bool] | None) -> int:
    # openpyxl (heavy) is loaded on purpose only when an Excel file is written.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet import _writer as sheet_writer

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(table.title))
    for i, c in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    # openpyxl streams each sheet through a file in the system's temp folder; this
    # one goes beside the target instead (and is removed by openpyxl or below).
    sheet_tmp = str(_temp_beside(path))
    writer = sheet_writer.WorksheetWriter(ws, out=sheet_tmp)
    sheet_writer.ALL_TEMP_FILES.append(sheet_tmp)
    ws._writer = writer
    writer.write_top()
    try:
        bold = Font(bold=True)
        header = []
        for c in table.columns:
            cell = WriteOnlyCell(ws, value=c.label)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        n = 0
        for row in _rows(table, cancelled):
            cells = []
            for c, v in zip(table.columns, row, strict=False):
                cell = WriteOnlyCell(ws, value=_xlsx_value(c, v))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                elif isinstance(cell.value, dt.datetime):
                    cell.number_format = "DD/MM/YYYY HH:MM"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"
                cells.append(cell)
            ws.append(cells)
            n += 1
        wb.save(path)
    finally:
        if os.path.exists(sheet_tmp):  # not saved: close the stream, drop the file
            try:
                if ws._rows is not None:
                    ws._rows.close()
                writer.xf.close()
            except Exception:  # noqa: BLE001 - removing the file is what matters
                pass
            os.remove(sheet_tmp)
            if sheet_tmp in sheet_writer.ALL_TEMP_FILES:
                sheet_writer.ALL_TEMP_FILES.remove(sheet_tmp)
    return n


def _xlsx_value(col: Column, value: Any) -> Any:
    if isinstance(value, str):
        v = cell_value(col, value) if col.kind != "text" else value
        return xml_safe(v) if isinstance(v, str) else v
    return value


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Hoja1"
