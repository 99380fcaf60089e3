"""Write an XLSForm workbook (.xlsx) from the markdown-table form, for form authors."""

from __future__ import annotations

from pathlib import Path

from app.core.text import xml_safe


def md_to_xlsx(md_text: str, out: str | Path) -> Path:
    # Deferred on purpose: openpyxl and pyxform are heavy, and only a form author
    # writing a workbook needs them (tests/test_layers.py DEFERRED_OK).
    from openpyxl import Workbook
    from pyxform.xls2json_backends import _md_table_to_ss_structure

    sheets = _md_table_to_ss_structure(md_text)
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(title=name)
        for r in rows:
            # the one text rule for outputs (app.core.text): openpyxl refuses control chars
            ws.append([None if c == "" else xml_safe(c) if isinstance(c, str) else c
                       for c in r])
        ws.freeze_panes = "A2"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
