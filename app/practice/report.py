"""The progress report as an Excel workbook (openpyxl, the library the supervisor's
exports already use), written through a hidden file beside the target and
os.replace, like app/workspace/exports.py."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.core.errors import ValidationError
from app.practice.progress import COLUMNS, ProgressRow, Readiness, pct, table


def write_progress_xlsx(rows: list[ProgressRow], ready: list[Readiness], threshold: float,
                        path: Path | str) -> Path:
    """Two sheets, «Intentos» and «Listos». ValidationError (Spanish) when it cannot be
    written; a partial file never stays behind."""
    import openpyxl  # noqa: PLC0415 - heavy, only when an Excel file is written

    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError("progress folder missing",
                              "La carpeta elegida no existe. Elija otra ubicación.")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Intentos"
    ws.append(list(COLUMNS))
    for row in table(rows):
        ws.append([str(c) if isinstance(c, str) and c[:1] in "=+-@" else c for c in row])
    ready_ws = wb.create_sheet("Listos")
    ready_ws.append(["Usuario", "Mejor precisión (%)", "Intentos",
                     f"Listo (≥ {threshold:g} %)"])
    for x in ready:
        ready_ws.append([x.username, None if x.best is None else pct(x.best), x.attempts,
                         "sí" if x.ready else "no"])
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.parcial")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise ValidationError(f"progress write failed: {e.__class__.__name__}",
                              "No se pudo guardar el archivo. Revise que la carpeta permita "
                              "escribir y que el archivo no esté abierto en otro programa.") \
            from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
