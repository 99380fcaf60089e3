"""The centre of a practice workspace: it never reaches a server, and a simulated
centre inside the workspace answers instead, so the whole loop (send, receipt,
returned record, CSE result) can be learnt without touching the SIEE.

The guarantee is kept below the screens, in three places:
- `PracticePorts` (what the sync client sees of the laptop) has no device and
  refuses every enrollment, device key and server address: a `SyncClient` built
  over them can neither sign nor enroll;
- `SyncClient._transport` (app/sync/client.py) refuses ports marked `practice`
  before any connection is opened;
- `PracticeCentre` (`ws.centre` of a practice workspace) builds no client at all:
  `sync` runs the simulated centre, `enroll`, USB export and import refuse.

The simulated centre applies its answers through the real receipt and inbox code of
`StorePorts` (`_apply_result`, `_apply_record_message`), so the records move through
exactly the states a real sync gives them. What it decides (deterministic, so a
trainer can explain it):
- a record with hard errors is refused ("observada") with the form's messages;
- an FSU that breaks a reviewer's rule (app/workspace/practice_checks.py) comes back
  returned with the rule's reason, pinned to its question;
- one first-revision FSU in four (by its uuid) comes back returned asking to confirm
  a supply number or phone, so every trainee meets a returned record;
- every other FSU gets a simulated CSE result at once (marked as simulated in the log).
"""

from __future__ import annotations

import time
import uuid as uuidlib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.core.audit_actions import AuditAction
from app.core.batches import ReceiptStatus
from app.core.errors import NotAllowed
from app.core.roles import Perm
from app.forms.library import FormLibrary
from app.store.db import transaction
from app.sync import protocol as p
from app.sync.model import (
    CancelFn,
    DeviceInfo,
    ProgressFn,
    ReceiptOutcome,
    SyncProgress,
    SyncReport,
    SyncStatus,
)
from app.workspace.centre import Centre, StorePorts
from app.workspace.context import Context
from app.workspace.practice_checks import fsu_issues
from app.workspace.settings import Settings

SIMULATED = "Centro simulado (práctica)"
SIMULATED_PLACE = "centro simulado de práctica (nada sale de este equipo)"
CATEGORIES = ("pobre extremo", "pobre", "no pobre")
# (question, reason) of the centre's routine return of a clean FSU
_ROUTINE = (
    ("/fsu/vivienda/suministro_luz",
     "Confirme el número de suministro de electricidad con el recibo del hogar."),
    ("/fsu/ubicacion/telefono", "Confirme el teléfono de contacto del hogar."),
)


def refused() -> NotAllowed:
    """The one error of every network operation in a practice workspace (Spanish)."""
    return NotAllowed(
        "practice workspace: no server",
        "Está en modo práctica: aquí nada se envía al SIEE ni se recibe de él, y este "
        "espacio no puede inscribirse en un servidor. Salga del modo práctica para "
        "trabajar con fichas reales.",
    )


class PracticePorts(StorePorts):
    """StorePorts of a practice workspace: no device, no keys, no server address."""

    practice = True  # read by SyncClient._transport before any connection

    def device(self) -> DeviceInfo | None:
        return None

    def device_key(self) -> Any:
        raise refused()

    def agreement_key(self) -> Any:
        raise refused()

    def set_device(self, info: DeviceInfo, key: Any) -> None:
        raise refused()

    def update_server_url(self, url: str) -> None:
        raise refused()

    def settings(self) -> dict[str, Any]:
        # no server address ever leaves a practice workspace's settings
        return {**super().settings(), "server_url": None, "ca_bundle": None}


class PracticeCentre(Centre):
    """`ws.centre` of a practice workspace: the simulated centre instead of a server."""

    def __init__(self, ctx: Context, settings: Settings, forms: FormLibrary) -> None:
        super().__init__(ctx, settings, forms)
        self.ports = PracticePorts(ctx, settings, forms)

    def client(self, **options: Any) -> Any:
        raise refused()

    def reachable(self, timeout: float = 5.0) -> bool:
        """The simulated centre always answers (it is in this workspace)."""
        return True

    def status(self) -> SyncStatus:
        """The counts as usual; the simulated centre stands in for an enrollment, so the
        screens offer «Sincronizar ahora» and the scheduler syncs with it. The
        workspace itself holds no device (`device()` is None) and cannot get one."""
        st = super().status()
        return replace(st, enrolled=True, revoked=False, server_url=SIMULATED_PLACE,
                       device_id="práctica")

    def enroll(self, server_url: str, code: str, label: str = "") -> DeviceInfo:
        raise refused()

    def update_server_url(self, url: str) -> None:
        raise refused()

    def export_usb(self, folder: Path, progress: ProgressFn | None = None) -> list[Path]:
        raise refused()

    def import_usb(self, path: Path) -> Any:
        raise refused()

    # -- the simulated centre --------------------------------------------------------------
    def sync(self, progress: ProgressFn | None = None,
             cancelled: CancelFn | None = None) -> SyncReport:
        """Deliver every queued record to the simulated centre and apply its answers
        (receipt, returns, CSE results) in one transaction. Needs SYNC_RUN."""
        ctx = self.ctx
        ctx.require(Perm.SYNC_RUN)
        started = time.monotonic()
        batch_id = f"practica-{uuidlib.uuid4()}"
        out = ReceiptOutcome(batch_id)
        notes: list[str] = []
        ports = self.ports
        with ctx.lock:
            now = ctx.clock()
            records = ctx.session.records
            with transaction(ctx.db) as conn:
                uuids = ctx.session.outbox.take(conn, 10_000)
                if progress:
                    progress(SyncProgress("send", 0, len(uuids), 0, 0,
                                          "Enviando al centro simulado…"))
                delivered: list[tuple[str, int, str, dict[str, Any]]] = []
                for n, uuid in enumerate(uuids, 1):
                    if cancelled and cancelled():
                        break
                    m = records.meta(conn, uuid)
                    answers = records.answers(conn, m)
                    errors, _warnings = ctx.hooks.validate(m.form_id, m.form_version, answers)
                    if errors:
                        res = p.RecordResult(uuid, int(m.revision), ReceiptStatus.INVALID,
                                             tuple(f"{e['path']}: {e['message']}"
                                                   for e in errors))
                    else:
                        res = p.RecordResult(uuid, int(m.revision), ReceiptStatus.ACCEPTED)
                        delivered.append((uuid, int(m.revision), m.form_id, answers))
                    ports._apply_result(conn, res, batch_id, now, out)
                    if progress:
                        progress(SyncProgress("send", n, len(uuids), 0, 0))
                if uuids:
                    ctx.audit(conn, AuditAction.SYNC,
                              detail={"batch": batch_id, "simulated": True,
                                      "delivered": out.delivered, "returned": out.returned})
                for uuid, rev, form_id, answers in delivered:
                    if form_id != "fsu":
                        continue
                    kind, payload = self._verdict(uuid, rev, answers, now)
                    text = ports._apply_record_message(conn, kind, payload, now)
                    if text:
                        notes.append(text)
                        ports._log_in(conn, f"{SIMULATED}: {text}")
                if out.sent:
                    ports._log_in(conn, f"{SIMULATED}: se enviaron {out.sent} ficha(s); "
                                  "nada salió de este equipo.")
        ports.finished(True)
        report = SyncReport(outcome=out, batches=1 if out.sent else 0,
                            messages=len(notes), inbox_notes=notes,
                            seconds=time.monotonic() - started)
        if progress:
            progress(SyncProgress("done", out.sent, out.sent, 0, 0))
        return report

    @staticmethod
    def _verdict(uuid: str, revision: int, answers: dict[str, Any],
                 now: float) -> tuple[str, dict[str, Any]]:
        """(inbox message kind, payload) the simulated centre sends for a delivered FSU."""
        base = {"uuid": uuid, "revision": revision}
        issues = fsu_issues(answers)
        if issues:
            return "record_returned", {**base, "reasons": [i.reason_line() for i in issues]}
        digest = int(uuid.replace("-", "")[:8], 16)
        if revision == 1 and digest % 4 == 0:
            path, reason = next(((q, r) for q, r in _ROUTINE if answers.get(q)), _ROUTINE[1])
            return "record_returned", {**base, "reasons": [f"{path}: {reason}"]}
        today = date.fromtimestamp(now)
        return "cse_result", {
            **base,
            "category": CATEGORIES[digest % 3],
            "result_date": today.isoformat(),
            "valid_until": (today + timedelta(days=3 * 365)).isoformat(),
        }
