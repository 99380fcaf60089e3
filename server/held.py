"""Held records: records the centre cannot validate because it does not hold their
form version (issue 19 item 6; docs/protocol.md, "Record outcomes").

A record of a known form id whose version is neither published at the centre
(`siee-server forms publish`) nor shipped with this program (the current version
or an earlier one kept in app/forms/bundled/history) could
carry anything: it is not stored with the received records. It is kept here,
sealed, and the receipt answers `conflict` with a Spanish reason, so the laptop
keeps it set apart (quarantined) and shows why. The centre lists held records
(`siee-server held list`, the `siee_held_records` line of /metrics) and sees which
form versions it has to publish."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine, RowMapping

from app.sync import protocol as p
from server.db import held_records, insert_new
from server.errors import admin_error
from server.sealing import Sealer

log = logging.getLogger("siee.server.held")

LIST_COLUMNS = ("uuid", "revision", "form_id", "form_version", "ule_ubigeo", "device_id",
                "batch_id", "held_at")


def reason(form_id: str, form_version: str) -> str:
    """What the laptop is told (Spanish) about a held record."""
    return (f"La sede central no tiene la versión «{form_version}» del formulario "
            f"«{form_id}» y no puede revisar esta ficha: quedó retenida en la sede central "
            "sin registrarse. Avise a soporte para que la sede central publique esa versión.")


def answers_place(uuid: str, revision: int) -> str:
    """Where a held record's answers are sealed (associated data)."""
    return f"held_records.answers:{uuid}:{revision}"


def hold(c: Connection, sealer: Sealer, rows: Iterable[tuple[p.BatchRecord, str]],
         device_id: str, batch_id: str, now: str) -> int:
    """Keep records (with their content hash) the centre cannot validate, inside the
    batch's transaction; a (uuid, revision) already held stays as first held. Returns
    how many were newly held."""
    items = list(rows)
    if not items:
        return 0
    have = {(u, r) for u, r in c.execute(
        select(held_records.c.uuid, held_records.c.revision)
        .where(held_records.c.uuid.in_(sorted({r.uuid for r, _ in items}))))}
    new = []
    for r, sha in items:
        if (r.uuid, r.revision) in have:
            continue
        have.add((r.uuid, r.revision))
        new.append(dict(
            uuid=r.uuid, revision=r.revision, content_sha256=sha, form_id=r.form_id,
            form_version=r.form_version, ule_ubigeo=r.ule_ubigeo, author=r.author,
            answers=sealer.seal(r.answers_json.decode(),
                                answers_place(r.uuid, r.revision)),
            device_id=device_id, batch_id=batch_id, held_at=now,
            completed_at=r.completed_at, approved_at=r.approved_at, case_uuid=r.case_uuid,
        ))
    if new:
        c.execute(insert_new(c, held_records), new)  # a batch holding it at once: no error
        log.warning("batch %s: %d records held, form version not held by the centre: %s",
                    batch_id, len(new),
                    ", ".join(sorted({f"{x['form_id']} {x['form_version']}" for x in new})))
    return len(new)


def find(c: Connection, uuid: str, revision: int | None = None) -> RowMapping:
    """A held record's row (the newest held revision unless one is given); raises
    not_found (404)."""
    q = select(held_records).where(held_records.c.uuid == uuid)
    if revision is not None:
        q = q.where(held_records.c.revision == revision)
    row = c.execute(q.order_by(held_records.c.revision.desc())).mappings().first()
    if row is None:
        raise admin_error("not_found", "no such held record",
                          f"No hay una ficha retenida {uuid}"
                          + (f" revisión {revision}." if revision else "."), 404)
    return row


def take(c: Connection, uuid: str, revision: int) -> bool:
    """Remove a held record inside the caller's transaction (its row stays locked until
    the end: a concurrent release waits, then finds nothing); False when not held."""
    done = c.execute(delete(held_records).where(held_records.c.uuid == uuid,
                                                held_records.c.revision == revision))
    return done.rowcount == 1


def releasable(engine: Engine) -> list[tuple[str, int]]:
    """(uuid, revision) of every held record, oldest first (`held release --all` tries
    each)."""
    with engine.connect() as c:
        return [(u, r) for u, r in c.execute(
            select(held_records.c.uuid, held_records.c.revision)
            .order_by(held_records.c.held_at, held_records.c.uuid, held_records.c.revision))]


def list_held(engine: Engine, sealer: Sealer | None = None) -> list[dict[str, Any]]:
    """Held records, oldest first; with `sealer`, each with its opened answers."""
    cols = [held_records.c[n] for n in LIST_COLUMNS]
    if sealer is not None:
        cols.append(held_records.c.answers)
    with engine.connect() as c:
        rows = c.execute(select(*cols).order_by(held_records.c.held_at, held_records.c.uuid))\
            .mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        if sealer is not None:
            plain = sealer.open(d["answers"], answers_place(d["uuid"], d["revision"]))
            d["answers"] = json.loads(plain) if plain is not None else None
        out.append(d)
    return out


def count(engine: Engine) -> int:
    """How many records are held."""
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(held_records)).scalar_one())
