"""Records resource: what the centre received, and what it does with it (list, show,
return to the field, post the CSE result, export).

Queries on the `records` table live here (ingest reads through `known` and stores
through `insert_many`)."""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import IO, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from server import devices as device_q
from server.context import Context, now_iso
from server.db import batches, devices, records
from server.errors import admin_error
from server.messages import post_many

log = logging.getLogger("siee.server.records")

CSE_CATEGORIES = ("pobre_extremo", "pobre", "no_pobre")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

EXPORT_COLUMNS = (
    "uuid", "revision", "form_id", "form_version", "ule_ubigeo", "author", "device_id",
    "batch_id", "completed_at", "approved_at", "received_at", "status", "result_category",
    "result_date", "result_valid_until", "content_sha256", "answers",
)


# ------------------------------------------------------------------- queries


def known(c: Connection, keys: list[tuple[str, int]]
          ) -> tuple[dict[tuple[str, int], str], dict[str, tuple[str, int, str]]]:
    """What the centre already holds of these (uuid, revision) keys, read in one query
    per 500 uuids: (content hashes stored for those very keys, heads of the uuids as
    `heads` gives them)."""
    hashes: dict[tuple[str, int], str] = {}
    out: dict[str, tuple[str, int, str]] = {}
    first: dict[str, int] = {}
    wanted = set(keys)
    uuids = sorted({u for u, _ in keys})
    for i in range(0, len(uuids), 500):
        q = select(records.c.uuid, records.c.revision, records.c.content_sha256,
                   records.c.ule_ubigeo, records.c.status
                   ).where(records.c.uuid.in_(uuids[i : i + 500]))
        for u, rev, h, ule, status in c.execute(q):
            if (u, rev) in wanted:
                hashes[(u, rev)] = h
            owner, latest, latest_status = out.get(u, (ule, rev, status))
            if rev < first.get(u, rev + 1):
                first[u] = rev
                owner = ule
            if rev >= latest:
                latest, latest_status = rev, status
            out[u] = (owner, latest, latest_status)
    return hashes, out


def stored_hashes(c: Connection, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """Content hashes already stored for these (uuid, revision) keys."""
    return known(c, keys)[0]


def heads(c: Connection, uuids: list[str]) -> dict[str, tuple[str, int, str]]:
    """For each stored uuid: (owner ULE = the ULE of its first revision, latest revision,
    status of the latest revision)."""
    return known(c, [(u, 0) for u in uuids])[1]


_COLUMNS = tuple(col.name for col in records.columns)


def insert_many(c: Connection, rows: list[dict[str, Any]]) -> None:
    """Store accepted records (full rows of the records table) in the caller's
    transaction. On PostgreSQL with COPY (half the driver CPU of a many-row INSERT);
    a row already there raises IntegrityError on both backends."""
    if not rows:
        return
    if c.dialect.name != "postgresql" or c.dialect.driver != "psycopg":
        c.execute(insert(records), rows)
        return
    import psycopg

    cur = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = f"COPY records ({', '.join(_COLUMNS)}) FROM STDIN"
    try:
        with cur.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[k] for k in _COLUMNS])
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError(sql, None, exc) from exc
    finally:
        cur.close()


def find(c: Connection, uuid: str, revision: int | None) -> RowMapping:
    """A record's row (the newest revision unless one is given); raises not_found."""
    q = select(records).where(records.c.uuid == uuid)
    if revision is not None:
        q = q.where(records.c.revision == revision)
    row = c.execute(q.order_by(records.c.revision.desc())).mappings().first()
    if row is None:
        raise admin_error("not_found", "no such record",
                          f"No existe el registro {uuid}"
                          + (f" revisión {revision}." if revision else "."), 404)
    return row


def audience(c: Connection, row: Mapping[str, Any]) -> list[str]:
    """Who hears about a record: the device that sent it or, when that laptop was
    revoked (replaced, stolen), every active device of the record's ULE."""
    dev = device_q.get(c, row["device_id"])
    if dev is not None and dev["status"] == "active":
        return [row["device_id"]]
    return device_q.active_ids(c, row["ule_ubigeo"])


def answers_place(uuid: str, revision: int) -> str:
    """Where a record's answers are sealed (associated data)."""
    return f"records.answers:{uuid}:{revision}"


def reasons_place(uuid: str, revision: int) -> str:
    """Where a record's return reasons are sealed (associated data)."""
    return f"records.return_reasons:{uuid}:{revision}"


def set_status(c: Connection, row: Mapping[str, Any], at: str, **values: Any) -> None:
    """Update one record revision's status columns (status_at = `at`)."""
    c.execute(update(records)
              .where(records.c.uuid == row["uuid"], records.c.revision == row["revision"])
              .values(status_at=at, **values))


# ------------------------------------------------------------------ resource


class Records:
    """The centre's actions on received records."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def list(self, ule: str | None = None, status: str | None = None,
             limit: int = 1000) -> list[dict[str, Any]]:
        """Record rows without answers, oldest first (filter by ULE and status)."""
        cols = [c for c in records.c if c.name != "answers"]
        q = select(*cols)
        if ule:
            q = q.where(records.c.ule_ubigeo == ule)
        if status:
            q = q.where(records.c.status == status)
        with self.ctx.engine.connect() as c:
            rows = c.execute(q.order_by(records.c.received_at, records.c.uuid,
                                        records.c.revision).limit(limit)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["return_reasons"] = self.ctx.sealer.open(
                d["return_reasons"], reasons_place(d["uuid"], d["revision"]))
            out.append(d)
        return out

    def get(self, uuid: str, revision: int | None = None) -> dict[str, Any]:
        """One record with its answers (dict) and return reasons (list) decoded."""
        with self.ctx.engine.connect() as c:
            row = dict(find(c, uuid, revision))
        open_ = self.ctx.sealer.open
        row["answers"] = json.loads(open_(row["answers"], answers_place(uuid, row["revision"]))
                                    or "null")
        if row["return_reasons"]:
            row["return_reasons"] = json.loads(
                open_(row["return_reasons"], reasons_place(uuid, row["revision"])) or "[]")
        return row

    def return_record(self, uuid: str, revision: int | None, reasons: list[str]) -> int:
        """Return a received record to the field with Spanish reasons; returns the cursor
        of the message. Raises no_reason (400), not_found (404), bad_state (409)."""
        reasons = [r.strip() for r in reasons if r and r.strip()]
        if not reasons:
            raise admin_error("no_reason", "a return needs at least one reason",
                              "Indique al menos un motivo para devolver el registro.")
        with self.ctx.engine.begin() as c:
            row = find(c, uuid, revision)
            if row["status"] != "received":
                raise admin_error("bad_state", f"record is {row['status']}",
                                  "Solo se puede devolver un registro recibido, sin resultado "
                                  "ni devolución previa.", 409)
            now = now_iso()
            set_status(c, row, now, status="returned",
                       return_reasons=self.ctx.sealer.seal(
                           json.dumps(reasons, ensure_ascii=False),
                           reasons_place(uuid, row["revision"])))
            payload = {"uuid": uuid, "revision": row["revision"], "form_id": row["form_id"],
                       "reasons": reasons, "returned_at": now}
            cursor = post_many(c, self.ctx.sealer, audience(c, row), "record_returned", payload)
        log.info("record %s rev %s returned to %s", uuid, row["revision"], row["device_id"])
        return cursor

    def post_result(self, uuid: str, revision: int | None, category: str, result_date: str,
                    valid_until: str) -> int:
        """Post the CSE classification of a record (dates YYYY-MM-DD); returns the cursor
        of the message. Raises bad_category, bad_date(s) (400), not_found, bad_state."""
        category = category.strip().lower().replace(" ", "_")
        if category not in CSE_CATEGORIES:
            raise admin_error("bad_category", f"unknown CSE category {category}",
                              "La clasificación debe ser pobre_extremo, pobre o no_pobre.")
        d1, d2 = check_date(result_date), check_date(valid_until)
        if d2 <= d1:
            raise admin_error("bad_dates", "validity must end after the result date",
                              "La vigencia debe terminar después de la fecha del resultado.")
        with self.ctx.engine.begin() as c:
            row = find(c, uuid, revision)
            if row["status"] == "returned":
                raise admin_error("bad_state", "record was returned",
                                  "El registro fue devuelto; no se puede registrar su resultado.",
                                  409)
            set_status(c, row, now_iso(), status="result", result_category=category,
                       result_date=result_date, result_valid_until=valid_until)
            payload = {"uuid": uuid, "revision": row["revision"], "form_id": row["form_id"],
                       "category": category, "result_date": result_date,
                       "valid_until": valid_until}
            cursor = post_many(c, self.ctx.sealer, audience(c, row), "cse_result", payload)
        log.info("CSE result for record %s rev %s sent to %s", uuid, row["revision"],
                 row["device_id"])
        return cursor

    def export_csv(self, out: IO[str], ule: str | None = None, with_answers: bool = True) -> int:
        """Write received records as CSV (EXPORT_COLUMNS); returns the number of rows."""
        cols = [c for c in EXPORT_COLUMNS if with_answers or c != "answers"]
        w = csv.writer(out)
        w.writerow(cols)
        ai = cols.index("answers") if "answers" in cols else -1
        q = select(*[records.c[c] for c in cols]).order_by(
            records.c.received_at, records.c.uuid, records.c.revision)
        if ule:
            q = q.where(records.c.ule_ubigeo == ule)
        n = 0
        with self.ctx.engine.connect() as c:
            for row in c.execute(q):
                vals = list(row)
                if ai >= 0:
                    vals[ai] = self.ctx.sealer.open(vals[ai], answers_place(row.uuid,
                                                                           row.revision))
                w.writerow(["" if v is None else v for v in vals])
                n += 1
        log.info("exported %d records", n)
        return n

    def counts(self) -> dict[str, int]:
        """How many devices, records and batches the server holds."""
        with self.ctx.engine.connect() as c:
            return {
                "devices": c.execute(select(func.count()).select_from(devices)).scalar_one(),
                "records": c.execute(select(func.count()).select_from(records)).scalar_one(),
                "batches": c.execute(select(func.count()).select_from(batches)).scalar_one(),
            }


def check_date(value: str) -> date:
    """A YYYY-MM-DD date; raises bad_date (400) otherwise."""
    try:
        if not _DATE_RE.match(value or ""):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise admin_error("bad_date", f"bad date {value!r}",
                          f"La fecha «{value}» no es válida; use AAAA-MM-DD.") from exc
