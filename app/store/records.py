"""Records: clear metadata for listing and sync; answers, summary and notes encrypted.

Ciphertext is bound to (uuid, revision, form id, form version, part) through
the AES-GCM associated data, so blobs cannot be swapped between records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import starmap
from typing import Any

from app.core.errors import IntegrityFailure, NotFound
from app.core.identifiers import normalize_dni
from app.core.states import State
from app.store.crypto import Sealer, keyed_hash
from app.store.integrity import MAC_COLUMNS, ROW_OK_SQL, RowChecker

COLUMNS = (
    "uuid, revision, form_id, form_version, state, created_at, updated_at, author_id, "
    "assignee_id, ule_ubigeo, warnings, quarantined, completed_at, approved_at, approved_by, "
    "delivered_at"
)


@dataclass(slots=True)
class RecordMeta:
    uuid: str
    revision: int
    form_id: str
    form_version: str
    state: State
    created_at: float
    updated_at: float
    author_id: int
    assignee_id: int | None
    ule_ubigeo: str | None
    warnings: int = 0
    quarantined: bool = False
    completed_at: float | None = None
    approved_at: float | None = None
    approved_by: int | None = None
    delivered_at: float | None = None
    # The list-view summary is decrypted on first access: a view of 50,000
    # records only ever shows a screenful, and sorting by name pays once.
    _summary: dict[str, Any] | None = None
    _summary_blob: bytes | None = None
    # The row MAC of the clear columns (app.store.integrity), checked on first access.
    _row_mac: bytes | None = None
    _opener: Callable[[bytes, bytes], bytes | None] | None = None
    _damaged: bool = False
    _checker: RowChecker | None = None
    _tampered: bool = False

    @property
    def owner_id(self) -> int:
        """Who works on the record now: the assignee if reassigned, else the author."""
        return self.assignee_id or self.author_id

    @property
    def summary(self) -> dict[str, Any]:
        if self._summary is None:
            self._summary = {}
            blob, opener = self._summary_blob, self._opener
            if blob and opener is not None:
                aad = _aad(self.uuid, self.revision, self.form_id, self.form_version, "summary")
                plain = opener(blob, aad)
                if plain is None:
                    self._damaged = True  # one bad record must not hide the others
                else:
                    self._summary = _DECODER.scan_once(plain.decode(), 0)[0]
            self._summary_blob = self._opener = None
        return self._summary

    @summary.setter
    def summary(self, value: dict[str, Any]) -> None:
        self._summary, self._summary_blob, self._opener = value, None, None

    def clear_values(self) -> tuple[Any, ...]:
        """The clear columns in MAC order (app.store.integrity.MAC_COLUMNS), as stored
        (a State as its text)."""
        return tuple(v.value if isinstance(v, State) else v
                     for v in (getattr(self, c) for c in MAC_COLUMNS))

    def _check_row(self) -> None:
        checker = self._checker
        if checker is not None:
            self._checker = None
            if not checker.ok(self.clear_values(), self._row_mac):
                self._damaged = self._tampered = True

    @property
    def damaged(self) -> bool:
        """The summary fails to decrypt, or the clear metadata fails its row MAC
        (edited outside the program)."""
        self._check_row()
        self.summary  # noqa: B018 - decrypting is what finds out
        return self._damaged

    @property
    def tampered(self) -> bool:
        """The clear metadata (state, revision, form, flags...) fails its row MAC."""
        self._check_row()
        return self._tampered


_DECODER = json.JSONDecoder()


def _aad(uuid: str, revision: int, form_id: str, form_version: str, part: str) -> bytes:
    return f"{uuid}|{revision}|{form_id}|{form_version}|{part}".encode()


def _dumps(obj: Any) -> bytes:
    # Key order is the caller's (the form engine's canonical order); not re-sorted.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


_STATES: dict[str, State] = {s.value: s for s in State}


class RecordStore:
    """Record rows: sealed parts, the DNI index and (through the triggers of
    app.store.integrity) the clear metadata's row MAC, checked on read when
    `checker` is set (the workspace sets it at unlock)."""

    def __init__(
        self, sealer: Sealer, index_key: bytes, checker: RowChecker | None = None
    ) -> None:
        self.sealer = sealer
        self.index_key = index_key
        self.checker = checker
        self._macs: dict[str, bytes] = {}  # DNI -> keyed hash, memory only

    # -- crypto helpers -----------------------------------------------------
    def seal_part(self, m: RecordMeta, part: str, obj: Any, compress: bool = False) -> bytes:
        aad = _aad(m.uuid, m.revision, m.form_id, m.form_version, part)
        return self.sealer.seal(_dumps(obj), aad, compress=compress)

    def open_part(self, m: RecordMeta, part: str, blob: bytes | None) -> Any:
        if blob is None:
            return None
        aad = _aad(m.uuid, m.revision, m.form_id, m.form_version, part)
        try:
            return json.loads(self.sealer.open(blob, aad))
        except IntegrityFailure:
            raise IntegrityFailure(
                f"record {m.uuid} rev {m.revision}: {part} failed authentication",
                "Esta ficha está dañada y no se puede leer. Las demás fichas no se afectan; "
                "restaure una copia de respaldo o avise a soporte.",
            ) from None

    def dni_mac(self, dni: str) -> bytes:
        mac = self._macs.get(dni)
        if mac is None:
            mac = keyed_hash(self.index_key, normalize_dni(dni))
            if len(self._macs) > 50_000:
                self._macs.clear()
            self._macs[dni] = mac
        return mac

    # -- writes (inside the caller's transaction) -----------------------------
    def insert(self, conn: sqlite3.Connection, m: RecordMeta, answers: dict, summary: dict) -> None:
        conn.execute(
            f"INSERT INTO records({COLUMNS}, answers, summary) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                m.uuid,
                m.revision,
                m.form_id,
                m.form_version,
                m.state,
                m.created_at,
                m.updated_at,
                m.author_id,
                m.assignee_id,
                m.ule_ubigeo,
                m.warnings,
                int(m.quarantined),
                m.completed_at,
                m.approved_at,
                m.approved_by,
                m.delivered_at,
                self.seal_part(m, "answers", answers, compress=True),
                self.seal_part(m, "summary", summary),
            ),
        )

    def write_answers(
        self, conn: sqlite3.Connection, m: RecordMeta, answers: dict, summary: dict, ts: float
    ) -> None:
        conn.execute(
            "UPDATE records SET answers=?, summary=?, updated_at=? WHERE uuid=?",
            (
                self.seal_part(m, "answers", answers, compress=True),
                self.seal_part(m, "summary", summary),
                ts,
                m.uuid,
            ),
        )

    def set_dnis(self, conn: sqlite3.Connection, uuid: str, dnis: list[str]) -> None:
        macs = set()
        for d in dnis:
            try:
                macs.add(self.dni_mac(d))
            except Exception:
                continue  # an invalid DNI is the form's problem, not the index's
        have = {r[0] for r in conn.execute("SELECT mac FROM dni_index WHERE uuid=?", (uuid,))}
        if have == macs:
            return  # most saves do not touch a DNI: no index writes
        conn.execute("DELETE FROM dni_index WHERE uuid=?", (uuid,))
        conn.executemany(
            "INSERT OR IGNORE INTO dni_index(mac, uuid) VALUES (?,?)", [(m, uuid) for m in macs]
        )

    def update_meta(self, conn: sqlite3.Connection, uuid: str, **cols: Any) -> None:
        """Write clear metadata columns (state, timestamps, assignee, quarantine...): the
        one writer of a record's state."""
        sets = ", ".join(f"{k}=?" for k in cols)
        conn.execute(f"UPDATE records SET {sets} WHERE uuid=?", (*cols.values(), uuid))

    def write_notes(self, conn: sqlite3.Connection, m: RecordMeta, notes: dict) -> None:
        conn.execute(
            "UPDATE records SET notes=? WHERE uuid=?", (self.seal_part(m, "notes", notes), m.uuid)
        )

    def new_revision(self, conn: sqlite3.Connection, m: RecordMeta, ts: float) -> RecordMeta:
        """Keep the current revision aside and re-seal everything under revision + 1."""
        row = conn.execute(
            "SELECT answers, summary, notes FROM records WHERE uuid=?", (m.uuid,)
        ).fetchone()
        answers, summary, notes = (
            self.open_part(m, "answers", row[0]),
            self.open_part(m, "summary", row[1]),
            self.open_part(m, "notes", row[2]),
        )
        conn.execute(
            "INSERT INTO record_revisions(uuid, revision, form_id, form_version, answers, notes, "
            "closed_at) VALUES (?,?,?,?,?,?,?)",
            (m.uuid, m.revision, m.form_id, m.form_version, row[0], row[2], ts),
        )
        m2 = replace(m, revision=m.revision + 1, _summary={})
        conn.execute(
            "UPDATE records SET revision=?, answers=?, summary=?, notes=?, updated_at=? "
            "WHERE uuid=?",
            (
                m2.revision,
                self.seal_part(m2, "answers", answers, compress=True),
                self.seal_part(m2, "summary", summary),
                self.seal_part(m2, "notes", notes) if notes is not None else None,
                ts,
                m.uuid,
            ),
        )
        return m2

    # -- reads ------------------------------------------------------------------
    def meta(self, conn: sqlite3.Connection, uuid: str) -> RecordMeta:
        row = conn.execute(
            f"SELECT {COLUMNS}, NULL, summary, row_mac FROM records WHERE uuid=?", (uuid,)
        ).fetchone()
        if row is None:
            raise NotFound(f"record {uuid} not found", "La ficha no existe en este equipo.")
        m = RecordMeta(*row)
        m._opener = self.sealer.open_fast
        m._checker = self.checker
        m._check_row()  # on the stored values, before any conversion
        m.state = _STATES[m.state]
        m.quarantined = bool(m.quarantined)
        return m

    @staticmethod
    def head(conn: sqlite3.Connection, uuid: str) -> tuple[int, State, bool] | None:
        """(revision, state, quarantined) of a record, or None if it is not here."""
        row = conn.execute(
            "SELECT revision, state, quarantined FROM records WHERE uuid=?", (uuid,)
        ).fetchone()
        return (int(row[0]), _STATES[row[1]], bool(row[2])) if row else None

    @staticmethod
    def count_by_state(
        conn: sqlite3.Connection, owner_id: int | None = None, quarantined: bool | None = None,
        exclude_forms: tuple[str, ...] = (),
    ) -> dict[State, int]:
        """Records per state (every state present, zero when none): all records, or only
        those `owner_id` wrote or was assigned; optionally only (not) quarantined ones;
        without the records of the form ids in `exclude_forms`."""
        where, args = [], []
        if exclude_forms:
            where.append(f"form_id NOT IN ({','.join('?' * len(exclude_forms))})")
            args += list(exclude_forms)
        if owner_id is not None:
            where.append("(author_id=? OR assignee_id=?)")
            args += [owner_id, owner_id]
        if quarantined is not None:
            where.append("quarantined=?")
            args.append(int(quarantined))
        sql = "SELECT state, COUNT(*) FROM records"
        if where:
            sql += " WHERE " + " AND ".join(where)
        counts = dict.fromkeys(State, 0)
        for state, n in conn.execute(sql + " GROUP BY state", args):
            counts[_STATES[state]] = n
        return counts

    @staticmethod
    def sync_counts(conn: sqlite3.Connection) -> tuple[dict[State, int], int, int]:
        """(records per state, neither quarantined nor damaged; quarantined; damaged) in
        one pass. A row whose clear metadata fails its MAC (edited outside the program)
        counts only as damaged: it is never sent and never shown as queued."""
        counts = dict.fromkeys(State, 0)
        quarantined = damaged = 0
        for state, quar, ok, n in conn.execute(
            f"SELECT state, quarantined, {ROW_OK_SQL}, COUNT(*) FROM records GROUP BY 1, 2, 3"
        ):
            if not ok:
                damaged += n
            elif quar:
                quarantined += n
            else:
                counts[_STATES[state]] += n
        return counts, quarantined, damaged

    @staticmethod
    def count_quarantined(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM records WHERE quarantined=1").fetchone()[0])

    def answers(self, conn: sqlite3.Connection, m: RecordMeta) -> dict:
        row = conn.execute("SELECT answers FROM records WHERE uuid=?", (m.uuid,)).fetchone()
        return self.open_part(m, "answers", row[0]) or {}

    def notes(self, conn: sqlite3.Connection, m: RecordMeta) -> dict:
        row = conn.execute("SELECT notes FROM records WHERE uuid=?", (m.uuid,)).fetchone()
        return self.open_part(m, "notes", row[0]) or {}

    def list(
        self, conn: sqlite3.Connection, where: str = "", args: tuple = (), limit: int | None = None
    ) -> list[RecordMeta]:
        """List-view rows; each summary is decrypted when first read (RecordMeta.summary)."""
        sql = (
            "SELECT uuid, revision, form_id, form_version, state, created_at, updated_at, "
            "author_id, assignee_id, ule_ubigeo, warnings, quarantined, completed_at, "
            "approved_at, approved_by, delivered_at, NULL, summary, row_mac FROM records"
        )
        if where:
            sql += " WHERE " + where
        sql += " ORDER BY updated_at DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        metas = list(starmap(RecordMeta, conn.execute(sql, args)))
        opener, checker, states = self.sealer.open_fast, self.checker, _STATES
        for m in metas:
            m._opener = opener
            m._checker = checker
            m.state = states[m.state]
        return metas

    def find_uuids_by_dni(self, conn: sqlite3.Connection, dni: str) -> list[str]:
        mac = self.dni_mac(dni)
        return [r[0] for r in conn.execute("SELECT uuid FROM dni_index WHERE mac=?", (mac,))]
