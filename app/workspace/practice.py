"""The practice part of the workspace (`ws.practice`): what only a practice workspace
does, and the mark that makes a workspace one.

A practice workspace is an ordinary encrypted workspace in its own folder (beside the
real one: `practice_dir`), with its own users, created with `Workspace.create(...,
practice=True)`. The mark (meta key "practice", written once at creation and in the
audit chain's first entry) cannot be taken off by the program; with it, the
workspace's centre is the simulated one (app/workspace/practice_centre.py), so it
never enrolls, never sends and never receives.

Here (every method refuses in a real workspace, so fictitious records can never mix
with real ones):
- `seed_record`: fictitious records written as the fictitious enumerator
  (`HELPER_USER`) or the trainee, in any state an exercise needs;
- `exercise` / `set_exercise`: the exercise a record belongs to (sealed in its notes);
- `results` / `add_result` / `import_results`: the trainees' scored attempts, sealed
  in the workspace (a trainee reads their own, a supervisor everyone's)."""

from __future__ import annotations

import json
import secrets
import uuid as uuidlib
from pathlib import Path
from typing import Any

from app.core.audit_actions import AuditAction
from app.core.errors import NotAllowed, ValidationError
from app.core.roles import Perm, Role, can
from app.core.states import State
from app.store import meta
from app.store.db import transaction
from app.store.records import RecordMeta
from app.sync import protocol as p
from app.workspace.context import Context, locked

PRACTICE_SUFFIX = "-practica"
BAND_TEXT = "PRÁCTICA — nada se envía al SIEE"
HELPER_USER = "practica.empadronador"  # author of the fictitious records to review
HELPER_NAME = "Empadronador ficticio (práctica)"
_RESULTS_AAD = b"practice|results"
# states a seeded record may start in
SEED_STATES = (State.DRAFT, State.COMPLETE, State.RETURNED)


def practice_dir(data_dir: Path) -> Path:
    """The practice workspace's folder for the real data folder `data_dir`: a sibling
    named `<name>-practica`, so a backup of the real folder never carries it. A folder
    already ending in -practica is its own practice folder."""
    data_dir = Path(data_dir)
    if data_dir.name.endswith(PRACTICE_SUFFIX):
        return data_dir
    return data_dir.with_name(data_dir.name + PRACTICE_SUFFIX)


def is_practice(conn: meta.Conn) -> bool:
    """Whether the database behind `conn` is a practice workspace."""
    return meta.get(conn, meta.PRACTICE) == "1"


def not_practice() -> NotAllowed:
    return NotAllowed(
        "practice-only operation in a real workspace",
        "Esta operación existe solo en el modo práctica; los datos reales no se tocan.",
    )


class Practice:
    """`ws.practice`. `enabled` says whether this is a practice workspace; every other
    method raises NotAllowed in a real one."""

    def __init__(self, ctx: Context, enabled: bool) -> None:
        self.ctx = ctx
        self.enabled = enabled

    def _need(self) -> None:
        if not self.enabled:
            raise not_practice()

    # -- creation ----------------------------------------------------------------------------
    def mark(self, conn: Any) -> None:
        """Make the workspace a practice one (inside Workspace.create's transaction) and
        add the fictitious enumerator, whose password nobody knows."""
        ctx = self.ctx
        meta.put(conn, meta.PRACTICE, "1")
        uid = ctx.vault.add_user(conn, HELPER_USER, Role.EMPADRONADOR,
                                 secrets.token_urlsafe(24), ctx.session.key(), b"")
        ctx.vault.set_display_name(conn, uid, ctx.session.seal_display(uid, HELPER_NAME))
        self.enabled = True

    # -- fictitious records ---------------------------------------------------------------------
    @locked
    def seed_record(
        self,
        form_id: str,
        form_version: str,
        answers: dict[str, Any],
        state: State = State.COMPLETE,
        author: str | None = None,
        notes: dict[str, Any] | None = None,
        warnings: int = 0,
    ) -> str:
        """Write one fictitious record (practice only) as `author` (default: the
        fictitious enumerator; the trainee for a record they must fix) in `state`
        (one of SEED_STATES), with `notes` (e.g. {"returns": [...], "practice": {...}}).
        Returns its uuid. The logged-in user needs RECORD_CREATE, and RECORD_VIEW_ALL
        to seed records of another author."""
        self._need()
        ctx = self.ctx
        me = ctx.require(Perm.RECORD_CREATE)
        if State(state) not in SEED_STATES:
            raise ValidationError(f"cannot seed a record in {state}",
                                  "Un ejercicio solo crea fichas en borrador, completas u "
                                  "observadas.")
        uid = me.id if author is None or author == me.username else int(
            ctx.vault.user_row(author)["id"])
        if uid != me.id and not can(me.role, Perm.RECORD_VIEW_ALL):
            raise NotAllowed("seeding another author's record needs RECORD_VIEW_ALL",
                             "Solo el responsable de la ULE prepara fichas para revisar.")
        now = ctx.clock()
        m = RecordMeta(
            uuid=str(uuidlib.uuid4()), revision=1, form_id=form_id,
            form_version=str(form_version), state=State(state), created_at=now,
            updated_at=now, author_id=uid, assignee_id=None,
            ule_ubigeo=ctx_ule(ctx),
            completed_at=now if State(state) != State.DRAFT else None,
        )
        try:
            summary, dnis = ctx.hooks.facts(form_id, str(form_version), answers)
        except Exception:  # noqa: BLE001 - a summary is a nicety, the record is not
            summary, dnis = {}, []
        with transaction(ctx.db) as conn:
            ctx.session.records.insert(conn, m, answers, summary)
            ctx.session.records.set_dnis(conn, m.uuid, dnis)
            if warnings:
                ctx.session.records.update_meta(conn, m.uuid, warnings=int(warnings))
            if notes:
                ctx.session.records.write_notes(conn, m, notes)
            ctx.audit(conn, AuditAction.CREATE, m.uuid,
                      detail={"form": form_id, "v": str(form_version), "practice": True,
                              "state": str(State(state))})
        return m.uuid

    @locked
    def exercise(self, uuid: str) -> dict[str, Any] | None:
        """The exercise a record belongs to ({"code", "seed", ...}), or None."""
        self._need()
        ctx = self.ctx
        m = ctx.session.records.meta(ctx.conn, uuid)
        info = ctx.session.records.notes(ctx.conn, m).get("practice")
        return dict(info) if isinstance(info, dict) else None

    @locked
    def set_exercise(self, uuid: str, info: dict[str, Any]) -> None:
        """Attach (or update) the exercise facts of a record the logged-in user may see."""
        self._need()
        ctx = self.ctx
        ctx.me()
        m = ctx.session.records.meta(ctx.conn, uuid)
        with transaction(ctx.db) as conn:
            notes = ctx.session.records.notes(conn, m)
            notes["practice"] = {**(notes.get("practice") or {}), **info}
            ctx.session.records.write_notes(conn, m, notes)

    # -- results -------------------------------------------------------------------------------
    def _load(self) -> list[dict[str, Any]]:
        raw = meta.get(self.ctx.db, meta.PRACTICE_RESULTS)
        if not raw:
            return []
        sealer = self.ctx.session.sealer
        assert sealer is not None
        return list(json.loads(sealer.open(p.b64d(raw), _RESULTS_AAD)))

    def _store(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        sealer = self.ctx.session.sealer
        assert sealer is not None
        blob = sealer.seal(json.dumps(rows, ensure_ascii=False).encode(), _RESULTS_AAD,
                           compress=True)
        meta.put(conn, meta.PRACTICE_RESULTS, p.b64e(blob))

    @locked
    def results(self, username: str | None = None) -> list[dict[str, Any]]:
        """Scored attempts, oldest first: the logged-in user's own, or (RECORD_VIEW_ALL:
        the responsable) everyone's, or `username`'s."""
        self._need()
        me = self.ctx.me()
        rows = self._load()
        if not can(me.role, Perm.RECORD_VIEW_ALL):
            return [r for r in rows if r.get("username") == me.username]
        return [r for r in rows if username is None or r.get("username") == username]

    @locked
    def add_result(self, result: dict[str, Any]) -> dict[str, Any]:
        """Keep one scored attempt of the logged-in user. `result` holds at least
        "exercise" (code), "accuracy" (percent, 0-100); the user and time are added.
        Returns the stored row."""
        self._need()
        ctx = self.ctx
        me = ctx.me()
        if "exercise" not in result or "accuracy" not in result:
            raise ValidationError("result without exercise or accuracy",
                                  "El resultado del ejercicio está incompleto.")
        row = {"id": str(uuidlib.uuid4()), "at": ctx.clock(), **result,
               "username": me.username, "user_id": me.id}
        with transaction(ctx.db) as conn:
            rows = self._load()
            rows.append(row)
            self._store(conn, rows)
            ctx.audit(conn, AuditAction.PRACTICE_RESULT, None,
                      detail={"practice_result": row["exercise"],
                              "accuracy": row["accuracy"]})
        return row

    @locked
    def import_results(self, rows: list[dict[str, Any]]) -> int:
        """Add results brought from another practice laptop (RECORD_VIEW_ALL); a row
        already held (same id) is skipped. Returns how many were added."""
        self._need()
        ctx = self.ctx
        ctx.require(Perm.RECORD_VIEW_ALL)
        with transaction(ctx.db) as conn:
            held = self._load()
            ids = {r.get("id") for r in held}
            new = []
            for r in rows:
                if not isinstance(r, dict) or not {"id", "exercise", "accuracy",
                                                   "username"} <= set(r):
                    raise ValidationError("malformed result row",
                                          "El archivo no tiene resultados de práctica "
                                          "válidos; no se importó nada.")
                if r["id"] not in ids:
                    new.append(r)
                    ids.add(r["id"])
            self._store(conn, held + new)
            ctx.audit(conn, AuditAction.PRACTICE_RESULT, None,
                      detail={"practice_import": len(new)})
        return len(new)


    # -- the guided first survey -----------------------------------------------------------
    @locked
    def hints_seen(self) -> set[str]:
        """The sections whose hint the logged-in user already closed (practice only)."""
        self._need()
        me = self.ctx.me()
        return set((meta.get_json(self.ctx.db, meta.PRACTICE_HINTS) or {}).get(str(me.id), []))

    @locked
    def hint_seen(self, section: str) -> None:
        """Remember that the logged-in user closed the hint of `section`."""
        self._need()
        me = self.ctx.me()
        with transaction(self.ctx.db) as conn:
            seen = meta.get_json(conn, meta.PRACTICE_HINTS) or {}
            mine = set(seen.get(str(me.id), []))
            mine.add(section)
            seen[str(me.id)] = sorted(mine)
            meta.put_json(conn, meta.PRACTICE_HINTS, seen)


def ctx_ule(ctx: Context) -> str | None:
    """The workspace's ULE (settings), read without the Settings part."""
    values = meta.get_json(ctx.db, meta.SETTINGS) or {}
    return values.get("ule_ubigeo")
