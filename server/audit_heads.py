"""The last audit-chain head each device reported, and the devices whose log went
backwards (issue 19, item 3; docs/protocol.md, "audit_head").

Each batch header may carry the laptop's audit chain end (seq, MAC hex), signed
with the batch. A laptop whose log was cut off (entries deleted with the
database file in hand) or replaced by an older copy under the same enrollment
later reports a lower sequence number, or the same number with another MAC. The
centre keeps, per device, the head of the newest batch (by the batch's signed
``created_at``) and records an alert when a newer batch reports a head behind it.
Batches that arrive late (an older USB file imported after a newer one) are
compared by creation time, so they raise no alert. An alert never refuses the
batch: the records are still the laptop's; the centre is told to look at it."""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine

from app.sync import protocol as p
from server.db import device_audit_heads, insert_new

log = logging.getLogger("siee.server")

_BACKWARDS = re.compile(r"^audit log went backwards: batch (\S+) reports entry (\d+), "
                        r"batch (\S+) reported (\d+)$")
_REWRITTEN = re.compile(r"^audit log rewritten: batch (\S+) reports entry (\d+) with "
                        r"another MAC than batch (\S+)$")

def note_head(c: Connection, header: p.BatchHeader, now: str) -> str | None:
    """Record the head a new batch reports (inside the batch's transaction).

    Returns the alert text when the head went backwards, else None."""
    if header.audit_head is None:
        return None
    seq, mac = header.audit_head
    # The device's first head is added race-free (two batches of one device stored at
    # once by two processes); otherwise its row is read locked until the batch commits.
    added = c.execute(insert_new(c, device_audit_heads).values(
        device_id=header.device_id, seq=seq, mac=mac, batch_created_at=header.created_at,
        batch_id=header.batch_id, alerts=0,
    ))
    if added.rowcount == 1:
        return None
    row = c.execute(
        select(device_audit_heads).where(device_audit_heads.c.device_id == header.device_id)
        .with_for_update()
    ).mappings().one()
    alert = None
    # Batch times are whole seconds: within one second a head that grew is the newer
    # one (a log only grows); a lower one in the same second cannot be ordered.
    newer = header.created_at > row["batch_created_at"] or (
        header.created_at == row["batch_created_at"] and seq > row["seq"])
    if newer and seq < row["seq"]:
        alert = (f"audit log went backwards: batch {header.batch_id} reports entry {seq}, "
                 f"batch {row['batch_id']} reported {row['seq']}")
    elif newer and seq == row["seq"] and mac != row["mac"]:
        alert = (f"audit log rewritten: batch {header.batch_id} reports entry {seq} with "
                 f"another MAC than batch {row['batch_id']}")
    values: dict[str, Any] = {}
    if newer:
        values.update(seq=seq, mac=mac, batch_created_at=header.created_at,
                      batch_id=header.batch_id)
    if alert:
        values.update(alerts=row["alerts"] + 1, last_alert_at=now, last_alert=alert)
        log.warning("device %s: %s", header.device_id, alert)
    if values:
        c.execute(update(device_audit_heads)
                  .where(device_audit_heads.c.device_id == header.device_id).values(**values))
    return alert


def alerts(engine: Engine) -> list[dict[str, Any]]:
    """Devices whose audit log went backwards at least once (for the centre's admin)."""
    with engine.connect() as c:
        rows = c.execute(
            select(device_audit_heads).where(device_audit_heads.c.alerts > 0)
            .order_by(device_audit_heads.c.device_id)
        ).mappings().all()
    return [dict(r) for r in rows]


def summary(engine: Engine) -> tuple[int, int]:
    """(devices with at least one alert, alerts in total), for /metrics."""
    with engine.connect() as c:
        n, total = c.execute(
            select(func.count(), func.coalesce(func.sum(device_audit_heads.c.alerts), 0))
            .where(device_audit_heads.c.alerts > 0)
        ).one()
    return int(n), int(total)


def describe_es(alert: str | None) -> str:
    """An alert text (English, as stored and logged) said in Spanish for the centre's
    staff; an unknown wording is shown as stored."""
    if not alert:
        return ""
    m = _BACKWARDS.match(alert)
    if m:
        return (f"la bitácora retrocedió: el lote {m[1]} informa la entrada {m[2]}, pero el "
                f"lote {m[3]} ya había informado la {m[4]}")
    m = _REWRITTEN.match(alert)
    if m:
        return (f"la bitácora fue reescrita: el lote {m[1]} informa la entrada {m[2]} con "
                f"otro sello que el lote {m[3]}")
    return alert
