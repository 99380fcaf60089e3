"""The paper FSU of an exercise, filled as an enumerator would fill it in the home
(issue 18 item 2): every question of the form in order, with the household's answer
(codes beside their label), the roster one block per member. HTML for Qt's PDF
writer (app/ui/common/pdf.py); no Qt here.

The household is fictitious (app/demo.py); the sheet says so on every page."""

from __future__ import annotations

import html

from app.forms import FormSession, NodeDef
from app.practice.exercises import EXERCISES, key_session
from app.practice.scoring import TYPED_TYPES, shown

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9pt; }
h1 { font-size: 14pt; margin: 0; }
h2 { font-size: 11pt; background: #dde6f0; padding: 2px; margin-top: 8px; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 1px solid #777; padding: 2px; }
.muted { color: #555; }
.band { background: #f6a313; color: #000; font-weight: bold; padding: 3px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text or ""))


def _rows(session: FormSession, group: NodeDef, prefix: str) -> list[str]:
    fd = session.formdef
    out = []
    for nd in group.children:
        if nd.kind != "question" or nd.type not in TYPED_TYPES:
            continue
        path = f"{prefix}/{nd.name}"
        state = session.state(path)
        if not state.relevant:
            continue
        value = session.get(path)
        text = shown(fd, path, value)
        if value and nd.list_name and nd.list_name.endswith(".csv"):  # ubigeo lists
            labels = {c.name: c.label(fd.default_language) for c in session.choices(path)}
            text = f"{value} — {labels.get(value, '')}"
        out.append(f"<tr><td width='55%'>{_e(nd.label(fd.default_language))}</td>"
                   f"<td><b>{_e(text)}</b></td></tr>")
    return out


def paper_html(code: str, seed: int) -> str:
    """The filled paper FSU of exercise (`code`, `seed`), as HTML."""
    ex = EXERCISES[code]
    session = key_session(code, seed)
    fd = session.formdef
    root = f"/{fd.root_name}"
    parts = [f"<html><head><style>{_CSS}</style></head><body>",
             "<p class='band'>PRÁCTICA — hogar ficticio, solo para capacitación. "
             "Nada de esta ficha existe en el SIEE.</p>",
             f"<h1>{_e(fd.title)} — {_e(ex.title)}</h1>",
             f"<p class='muted'>Ejercicio «{_e(code)}», número {seed}. Digite esta ficha en "
             "el modo práctica tal como está escrita; el programa la calificará.</p>"]
    for group in fd.nodes.children:
        label = group.label(fd.default_language) or group.name
        if group.kind == "repeat":
            n = session.repeat_count(f"{root}/{group.name}")
            parts.append(f"<h2>{_e(label)} ({n})</h2>")
            for i in range(1, n + 1):
                rows = _rows(session, group, f"{root}/{group.name}[{i}]")
                parts.append(f"<p><b>Integrante {i}</b></p><table class='grid' width='100%' "
                             f"cellspacing='0'>{''.join(rows)}</table>")
            continue
        if group.kind != "group":
            continue
        rows = _rows(session, group, f"{root}/{group.name}")
        if rows:
            parts.append(f"<h2>{_e(label)}</h2><table class='grid' width='100%' "
                         f"cellspacing='0'>{''.join(rows)}</table>")
    parts.append("<p class='muted'>Firma del informante: ______________________ "
                 "Firma del empadronador: ______________________</p></body></html>")
    return "".join(parts)
