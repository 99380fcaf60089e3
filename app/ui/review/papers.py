"""Papers of the expediente printed from the program (issue 15): the notice of visit
(notificación de visita, left at the door after a failed attempt) and the D100 sworn
statement (the cases sent in a period, for the mayor's signature). One page each,
laid out with QTextDocument and written with Qt's own PDF writer, like the
constancia (app/ui/review/constancia.py).

The data comes from `ws.cases.notice()` / `ws.cases.d100()`, which check the role and
leave the audit entry; this module only lays it out. A notice shows only what was
recorded: an unknown field stays blank, nothing is filled in for the household."""

from __future__ import annotations

import html
from pathlib import Path

from app.core.text import xml_safe
from app.ui.common.pdf import write_pdf
from app.ui.review.constancia import _CSS
from app.workspace.cases import D100Data, NoticeData


def _e(text: object) -> str:
    return html.escape(xml_safe(str(text or "")))


def notice_html(n: NoticeData) -> str:
    """The notice of visit as rich text."""
    nxt = (f"<p>Volveremos el <b>{_e(n.next_visit)}</b>. Por favor, esté presente una persona "
           "mayor de edad del hogar con los DNI de todos los integrantes y un recibo reciente "
           "de luz o agua.</p>" if n.next_visit else
           "<p>Para continuar con su solicitud, acérquese a la Unidad Local de "
           "Empadronamiento de su municipalidad.</p>")
    addr = (f"<tr><th width='30%'>Dirección (según la solicitud)</th><td>{_e(n.address)}</td>"
            "</tr>" if n.address else "")
    ubigeo = f" (ubigeo {_e(n.ule_ubigeo)})" if n.ule_ubigeo else ""
    return f"""<html><head><style>{_CSS}</style></head><body>
<p class='muted'>{_e(n.municipality)} — Unidad Local de Empadronamiento{ubigeo}<br>
{_e(n.place)}</p>
<h1>Notificación de visita</h1>
<p>Señor(a) vecino(a): en atención a la solicitud de clasificación socioeconómica (S100)
registrada en la Unidad Local de Empadronamiento, el empadronador(a)
<b>{_e(n.enumerator)}</b> visitó esta vivienda y no pudo realizar la entrevista.</p>
<table class='grid' width='100%' cellspacing='0' cellpadding='3'>
<tr><th width='30%'>Fecha y hora de la visita</th><td>{_e(n.date)} a las {_e(n.time)}</td></tr>
<tr><th>Resultado de la visita</th><td>{_e(n.result_label)}</td></tr>
<tr><th>Intento N°</th><td>{n.attempt}</td></tr>
{addr}
<tr><th>Próxima visita</th><td>{_e(n.next_visit) or '—'}</td></tr>
</table>
{nxt}
<p class='muted'>El empadronamiento es gratuito. N° de expediente: {_e(n.reference)}.<br>
Emitida el {n.issued_at:%d/%m/%Y a las %H:%M}.</p>
<br><br>
<table width='100%'><tr>
<td align='center'>______________________________<br>Empadronador(a)</td>
<td align='center'>______________________________<br>Sello de la ULE</td>
</tr></table>
</body></html>"""


def d100_html(d: D100Data) -> str:
    """The D100 sworn statement as rich text, with the signature block."""
    rows = "".join(
        f"<tr><td>{i}</td><td>{_e(it.reference)}</td><td>{_e(it.head_name)}</td>"
        f"<td>{_e(it.head_dni)}</td>"
        f"<td>{_e(it.option)}</td><td>{_e(it.forms)}</td><td>{_e(it.sent)}</td></tr>"
        for i, it in enumerate(d.items, 1)
    )
    return f"""<html><head><style>{_CSS}</style></head><body>
<p class='muted'>{_e(d.municipality)} — Unidad Local de Empadronamiento
(ubigeo {_e(d.ule_ubigeo)})<br>{_e(d.place)}</p>
<h1>Declaración jurada D100 N° {d.id}</h1>
<p>El alcalde, o el gerente autorizado, declara bajo juramento que las solicitudes y fichas
listadas, enviadas al SIEE entre el <b>{d.period_from:%d/%m/%Y}</b> y el
<b>{d.period_to:%d/%m/%Y}</b>, fueron registradas por la Unidad Local de Empadronamiento
conforme a la información proporcionada por los hogares, y que sus originales se conservan
en el expediente de cada solicitud.</p>
<table class='grid' width='100%' cellspacing='0' cellpadding='3'>
<tr><th width='4%'>N°</th><th width='15%'>N° de expediente</th>
<th width='22%'>Solicitante / jefe de hogar</th><th width='12%'>DNI</th>
<th width='20%'>Tipo de solicitud</th><th width='13%'>Formularios</th>
<th width='14%'>Enviado</th></tr>
{rows}
</table>
<p>Total de expedientes: <b>{len(d.items)}</b>.</p>
<p class='muted'>Generada el {d.issued_at:%d/%m/%Y a las %H:%M} por {_e(d.issued_by)}.</p>
<br><br><br>
<table width='100%'><tr>
<td align='center'>______________________________<br>Alcalde o gerente autorizado<br>
Nombre, DNI y sello</td>
<td align='center'>______________________________<br>Responsable de la ULE</td>
</tr></table>
</body></html>"""


def _write_pdf(rich: str, title: str, path: Path | str) -> Path:
    return write_pdf(rich, path, title, margins_mm=(18, 16, 18, 16))


def write_notice_pdf(n: NoticeData, path: Path | str) -> Path:
    """Write the notice of visit to `path` (a hidden file beside it, then os.replace)."""
    return _write_pdf(notice_html(n), "Notificación de visita", path)


def write_d100_pdf(d: D100Data, path: Path | str) -> Path:
    """Write the D100 to `path`."""
    return _write_pdf(d100_html(d), f"Declaración jurada D100 N° {d.id}", path)
