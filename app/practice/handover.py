"""The handover checklist for a new responsable de ULE (issue 18 item 6), made from the
real workspace's state: users to create or disable, the laptop's enrollment, the last
backup, what is still unsent, where the recovery code is kept. Printable (HTML for
the PDF writer) and as plain text for the command line.

It only reads: users (any logged-in user), the audit log (AUDIT_VIEW: supervisor or
administrator), sync status and record counts."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from app.core.audit_actions import AuditAction
from app.core.errors import NotAllowed
from app.core.roles import ROLE_LABELS, Role
from app.core.states import State
from app.core.ubigeo import catalog
from app.workspace import Workspace
from app.workspace.practice import HELPER_USER


@dataclass
class Item:
    """One line of the checklist: `ok` False means something to do at the handover."""

    title: str
    ok: bool
    detail: str
    lines: list[str] = field(default_factory=list)


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%d/%m/%Y %H:%M") if ts else "nunca"


def handover_items(ws: Workspace, now: float | None = None) -> list[Item]:
    """The checklist of the workspace `ws` (logged in, AUDIT_VIEW), in handover order.
    NotAllowed in a practice workspace: the handover is about the real one."""
    if ws.practice.enabled:
        raise NotAllowed("handover of a practice workspace",
                         "La lista de entrega se hace con los datos reales, no con los de "
                         "práctica.")
    now = now if now is not None else ws.clock()
    items: list[Item] = []
    users = [u for u in ws.admin.list_users() if u.username != HELPER_USER]
    logins: dict[int, float] = {}
    for e in ws.admin.audit_entries(action=AuditAction.LOGIN, limit=5000):
        if e.user_id is not None:
            logins[e.user_id] = max(logins.get(e.user_id, 0.0), e.ts)
    active = [u for u in users if u.active]
    items.append(Item(
        "Usuarios del equipo",
        False,
        f"{len(active)} cuenta(s) activa(s). Desactive las de quienes dejan la ULE y cree la "
        "del nuevo responsable (rol «Responsable de ULE») antes de entregar el equipo; "
        "nadie comparte su contraseña.",
        [f"{u.display_name or u.username} ({u.username}) — {ROLE_LABELS[Role(u.role)]} — "
         f"{'activa' if u.active else 'desactivada'} — último ingreso: "
         f"{_when(logins.get(u.id))}" for u in users],
    ))
    st = ws.centre.status()
    dev = ws.centre.device()
    if dev is None:
        items.append(Item("Inscripción del equipo en el SIEE", False,
                          "Este equipo no está inscrito: pida a TI un código de inscripción "
                          "de la sede central."))
    else:
        items.append(Item(
            "Inscripción del equipo en el SIEE", not st.revoked,
            ("El equipo fue dado de baja por la sede central: comuníquese con soporte."
             if st.revoked else f"Inscrito en {dev.server_url} (ULE {dev.ule_ubigeo}). "
             f"Última sincronización correcta: {_when(st.last_ok)}."),
            [f"Identificador del equipo: {dev.device_id}"]))
    backups = ws.admin.audit_entries(action=AuditAction.BACKUP, limit=5000)
    last_backup = max((e.ts for e in backups), default=None)
    recent = last_backup is not None and now - last_backup < 7 * 86400
    items.append(Item(
        "Copia de respaldo", recent,
        f"Última copia: {_when(last_backup)}. "
        + ("" if recent else "Haga una copia (menú Administración → Copia de respaldo) antes "
           "de la entrega y guárdela fuera del equipo."),
    ))
    counts = ws.counts_by_state()
    unsent = {
        "borradores sin completar": counts.get(State.DRAFT, 0),
        "completas por revisar": counts.get(State.COMPLETE, 0),
        # the send queue's one figure: a record in a batch awaiting its receipt is still
        # in it (in_flight counts batches, not records)
        "aprobadas sin enviar": st.pending,
        "observadas por corregir": counts.get(State.RETURNED, 0),
        "apartadas por conflicto": st.quarantined,
    }
    todo = {k: v for k, v in unsent.items() if v}
    items.append(Item(
        "Fichas que todavía no llegaron a la sede central", not todo,
        "Todo lo registrado fue entregado." if not todo else
        "Revise con quien entrega el cargo cada ficha pendiente; sincronice antes de la "
        "entrega.",
        [f"{v} {k}" for k, v in todo.items()],
    ))
    items.append(Item(
        "Código de recuperación", False,
        "El código de recuperación (se mostró una sola vez a TI al configurar el equipo) "
        "permite recuperar los datos si se olvida una contraseña. Confirme dónde está "
        "guardado, en sobre cerrado y fuera del equipo, y anótelo aquí:",
        ["Lugar donde se guarda: ____________________________________________",
         "Persona que lo custodia: ___________________________________________"],
    ))
    return items


def handover_text(ws: Workspace) -> str:
    """The checklist as plain text (the command line)."""
    ule = ws.settings.get("ule_ubigeo") or ""
    d = catalog().get(ule)
    out = ["Lista de entrega del cargo de responsable de ULE"
           + (f" — ULE de {d.label}" if d else ""), ""]
    for it in handover_items(ws):
        out.append(f"[{'x' if it.ok else ' '}] {it.title}")
        out.append(f"    {it.detail}")
        out += [f"    - {line}" for line in it.lines]
    return "\n".join(out)


def handover_html(ws: Workspace) -> str:
    """The checklist as HTML for the PDF writer, with signature lines."""
    e = html.escape
    ule = ws.settings.get("ule_ubigeo") or ""
    d = catalog().get(ule)
    parts = ["<html><body style=\"font-family: 'DejaVu Sans', Arial; font-size: 10pt\">",
             "<h1 style='font-size: 14pt'>Lista de entrega del cargo de responsable de ULE</h1>",
             f"<p>{'ULE de ' + e(d.label) + '. ' if d else ''}Generada por SIEE Campo el "
             f"{dt.datetime.now():%d/%m/%Y %H:%M} con el estado real de este equipo.</p>"]
    for it in handover_items(ws):
        mark = "☑" if it.ok else "☐"
        parts.append(f"<h2 style='font-size: 11pt'>{mark} {e(it.title)}</h2><p>{e(it.detail)}</p>")
        if it.lines:
            parts.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in it.lines) + "</ul>")
    parts.append("<br><table width='100%'><tr><td align='center'>__________________________"
                 "<br>Entrega</td><td align='center'>__________________________<br>Recibe"
                 "</td></tr></table></body></html>")
    return "".join(parts)
