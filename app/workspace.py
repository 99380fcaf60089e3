"""The one façade: an unlocked local workspace and its logged-in user.

Every operation the UI or the CLI offers goes through here: it checks the
role and the record's state (app.core), does the change in one transaction
with its audit entry (app.store), and never trusts the caller to have checked.
Thread-safe: the GUI runs long work on worker threads."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.core.errors import AuthError, NotAllowed, NotFound, SieeError, ValidationError
from app.core.roles import Perm, Role, can, require
from app.core.states import EDITABLE, Action, State, next_state
from app.core.ubigeo import catalog
from app.store import crypto, integrity, unlock
from app.store.audit import AuditEntry, AuditLog, ChainReport
from app.store.db import DB_NAME, connect, migrate, transaction
from app.store.records import RecordMeta, RecordStore
from app.store.vault import User, Vault
from app.workspace_admin import AdminOps
from app.workspace_review import ReviewOps
from app.workspace_sync import SyncOps

log = logging.getLogger("siee.workspace")

T = TypeVar("T")

DEFAULT_SETTINGS: dict[str, Any] = {
    "ule_ubigeo": None,
    "review_required": True,
    "autolock_minutes": 10,
    "server_url": None,
    "ca_bundle": None,
}


class FormHooks:
    """What the workspace needs from the form engine, in one replaceable place.

    A record is always read with the form version it was started with: the
    bundled form when versions match, else a version installed by sync under
    the data folder's forms/ (named FORMID-VERSION.xlsx or .md)."""

    def __init__(self, forms_dir: Path | None = None) -> None:
        self.forms_dir = forms_dir

    def formdef(self, form_id: str, version: str) -> Any:
        from app.forms import bundled_form, list_bundled, load_form

        if any(f == form_id and str(v) == str(version) for f, v, _ in list_bundled()):
            return bundled_form(form_id)
        if self.forms_dir is not None:
            for ext in (".xlsx", ".md"):
                path = self.forms_dir / f"{form_id}-{version}{ext}"
                if path.exists():
                    return load_form(path)
        raise NotFound(
            f"form {form_id} version {version} not installed",
            f"El formulario {form_id} (versión {version}) no está instalado en este equipo. "
            "Sincronice para recibirlo.",
        )

    def facts(self, form_id: str, version: str, answers: dict) -> tuple[dict, list[str]]:
        """(summary for the list view, every DNI in the record)."""
        from app.forms import dnis, summary

        fd = self.formdef(form_id, version)
        return summary(fd, answers), dnis(fd, answers)

    def submission(self, form_id: str, version: str, answers: dict) -> dict:
        """What leaves the laptop: the canonical answers without those kept aside
        (answers of questions a skip made non-relevant stay in the draft only)."""
        from app.forms import FormSession

        try:
            fd = self.formdef(form_id, version)
        except NotFound:
            return answers  # the server checks the structure of unknown versions
        return FormSession.from_json(fd, answers).to_json()

    def validate(self, form_id: str, version: str, answers: dict) -> tuple[list[dict], list[dict]]:
        """(hard errors, soft warnings), each a list of {"path", "message"}."""
        from app.forms import FormSession

        report = FormSession.from_json(self.formdef(form_id, version), answers).validate()
        return [i.to_dict() for i in report.errors], [i.to_dict() for i in report.warnings]


def _locked(fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def wrapper(self: Workspace, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return fn(self, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class ApproveResult:
    approved: list[str]
    refused: dict[str, str]  # uuid -> Spanish reason


class Workspace(SyncOps, ReviewOps, AdminOps):
    def __init__(
        self,
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        kdf: crypto.KdfParams | None = None,
        hooks: FormHooks | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.clock = clock
        self.hooks = hooks or FormHooks(self.data_dir / "forms")
        self.db = connect(self.data_dir / DB_NAME)
        migrate(self.db)
        self.vault = Vault(self.db, clock, kdf)
        self._lock = threading.RLock()
        self._data_key: bytes | None = None
        self._records: RecordStore | None = None
        self._audit: AuditLog | None = None
        self._sealer: crypto.Sealer | None = None
        self.user: User | None = None

    # -- opening -----------------------------------------------------------------
    @staticmethod
    def is_initialized(data_dir: Path) -> bool:
        path = Path(data_dir) / DB_NAME
        if not path.exists():
            return False
        ws = Workspace(Path(data_dir))
        try:
            return bool(ws.db.execute("SELECT 1 FROM key_slots LIMIT 1").fetchone())
        finally:
            ws.close()

    @classmethod
    def open(cls, data_dir: Path, **kw: Any) -> Workspace:
        data_dir = Path(data_dir)
        if not (data_dir / DB_NAME).exists():
            raise NotFound(
                f"no workspace in {data_dir}",
                "No hay datos de SIEE Campo en esa carpeta. Ejecute primero la configuración "
                "inicial.",
            )
        return cls(data_dir, **kw)

    @classmethod
    def create(
        cls,
        data_dir: Path,
        admin_username: str,
        admin_password: str,
        ule_ubigeo: str | None = None,
        display_name: str = "",
        **kw: Any,
    ) -> tuple[Workspace, str]:
        """Initialize a new data folder; returns the workspace (admin logged in) and
        the recovery code, which is shown once and never stored in clear."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if ule_ubigeo:
            catalog().validate(ule_ubigeo)
        if cls.is_initialized(data_dir):
            raise ValidationError(
                "workspace already initialized",
                "Esta carpeta ya tiene datos de SIEE Campo; no se puede configurar de nuevo.",
            )
        ws = cls(data_dir, **kw)
        key, code, uid = ws.vault.initialize(admin_username, admin_password)
        ws._unlocked(key)
        with transaction(ws.db) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('workspace_id', ?)",
                (str(uuidlib.uuid4()),),
            )
            settings = {**DEFAULT_SETTINGS, "ule_ubigeo": ule_ubigeo}
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('settings', ?)",
                (json.dumps(settings),),
            )
            if display_name:
                conn.execute(
                    "UPDATE users SET display_name=? WHERE id=?",
                    (ws._seal_display(uid, display_name), uid),
                )
            ws.user = User(uid, admin_username.strip().lower(), Role.ADMIN, True, display_name)
            ws._audit_in(conn, "init", detail={"ule_ubigeo": ule_ubigeo})
        log.info("workspace initialized in %s", data_dir)
        return ws, code

    def close(self) -> None:
        with self._lock:
            self.logout()
            self.db.conn.close()

    # -- keys and session ---------------------------------------------------------
    def _unlocked(self, data_key: bytes) -> None:
        self._data_key = data_key
        self._sealer = crypto.Sealer(crypto.subkey(data_key, "records"))
        self._records = RecordStore(self._sealer, crypto.subkey(data_key, "dni-index"))
        self._audit = AuditLog(crypto.subkey(data_key, "audit"), self._sealer)
        unlock.on_unlock(self.db, self._records, self._audit, data_key, self.clock())

    @property
    def records(self) -> RecordStore:
        if self._records is None:
            raise AuthError("workspace locked", "Inicie sesión para continuar.")
        return self._records

    @property
    def audit(self) -> AuditLog:
        if self._audit is None:
            raise AuthError("workspace locked", "Inicie sesión para continuar.")
        return self._audit

    def _seal_display(self, uid: int, name: str) -> bytes:
        assert self._sealer is not None
        return self._sealer.seal(name.encode(), f"user|{uid}|display".encode())

    def _open_display(self, uid: int, blob: bytes | None) -> str:
        if not blob or self._sealer is None:
            return ""
        try:
            return self._sealer.open(blob, f"user|{uid}|display".encode()).decode()
        except SieeError:
            return ""

    def _me(self) -> User:
        if self.user is None:
            raise AuthError("not logged in", "Inicie sesión para continuar.")
        return self.user

    def _audit_in(self, conn: Any, action: str, uuid: str | None = None, **kw: Any) -> None:
        uid = self.user.id if self.user else None
        self.audit.append(conn, self.clock(), uid, action, uuid, kw.get("detail"))

    def usernames(self) -> list[str]:
        return self.vault.usernames()

    @_locked
    def login(self, username: str, password: str) -> User:
        try:
            key, row = self.vault.unlock(username, password)
        except AuthError as e:
            with transaction(self.db) as conn:
                conn.execute(
                    "INSERT INTO auth_events(ts, username, event) VALUES (?,?,?)",
                    (self.clock(), (username or "")[:32], e.code),
                )
            log.warning("log-in refused (%s)", e.code)
            raise
        self._unlocked(key)
        disp = self.db.execute(
            "SELECT display_name FROM users WHERE id=?", (row["id"],)
        ).fetchone()[0]
        self.user = User(
            row["id"], row["username"], Role(row["role"]), True, self._open_display(row["id"], disp)
        )
        with transaction(self.db) as conn:
            unlock.on_login(conn, self.records, self.audit, self.clock(), row)
            # Failures seen while locked enter the chain now that the key is known.
            for ts, name, event in conn.execute(
                "SELECT ts, username, event FROM auth_events ORDER BY id"
            ).fetchall():
                self.audit.append(
                    conn, ts, None, "login_failed", None, {"user": name, "why": event}
                )
            conn.execute("DELETE FROM auth_events")
            self._audit_in(conn, "login")
        from app.backup import finish_backups

        finish_backups(self.db, self.audit, key, self.clock())  # killed backup runs
        log.info("user %s logged in", self.user.id)
        return self.user

    @_locked
    def logout(self) -> None:
        if self.user is not None and self._audit is not None:
            try:
                with transaction(self.db) as conn:
                    self._audit_in(conn, "logout")
            except Exception:  # closing must not fail because of the log
                log.exception("could not audit logout")
        self.user = None
        self._data_key = self._records = self._audit = self._sealer = None
        integrity.install(self.db.conn, None)

    @_locked
    def change_password(self, old: str, new: str) -> None:
        me = self._me()
        self.vault.unlock(me.username, old)
        assert self._data_key is not None
        with transaction(self.db) as conn:
            self.vault.set_password(conn, me.id, new, self._data_key)
            self._audit_in(conn, "password_change")

    @_locked
    def reset_password_with_recovery(self, username: str, code: str, new_password: str) -> None:
        """IT's path for a forgotten password: the recovery code unlocks the data key."""
        key = self.vault.unlock_with_recovery(code)
        row = self.vault.user_row(username)
        self._unlocked(key)
        try:
            with transaction(self.db) as conn:
                self.vault.set_password(conn, row["id"], new_password, key)
                self.audit.append(
                    conn,
                    self.clock(),
                    None,
                    "password_reset",
                    None,
                    {"user": row["username"], "by": "recovery_code"},
                )
        finally:
            if self.user is None:
                self._data_key = self._records = self._audit = self._sealer = None
                integrity.install(self.db.conn, None)

    # -- settings -------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        row = self.db.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
        return {**DEFAULT_SETTINGS, **(json.loads(row[0]) if row else {})}

    @_locked
    def update_settings(self, **changes: Any) -> dict[str, Any]:
        require(self._me().role, Perm.SETTINGS_MANAGE)
        unknown = set(changes) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValidationError(f"unknown settings {sorted(unknown)}", "Opción desconocida.")
        if changes.get("ule_ubigeo"):
            catalog().validate(changes["ule_ubigeo"])
        new = {**self.settings(), **changes}
        with transaction(self.db) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('settings', ?)",
                (json.dumps(new),),
            )
            self._audit_in(conn, "settings", detail={"changed": sorted(changes)})
        return new

    # -- users -------------------------------------------------------------------------
    @_locked
    def add_user(
        self, username: str, role: Role | str, password: str, display_name: str = ""
    ) -> int:
        me = self._me()
        require(me.role, Perm.USERS_MANAGE)
        assert self._data_key is not None
        with transaction(self.db) as conn:
            uid = self.vault.add_user(conn, username, Role(role), password, self._data_key, b"")
            if display_name:
                conn.execute(
                    "UPDATE users SET display_name=? WHERE id=?",
                    (self._seal_display(uid, display_name), uid),
                )
            self._audit_in(conn, "user_add", detail={"user": username, "role": str(Role(role))})
        return uid

    @_locked
    def list_users(self) -> list[User]:
        self._me()
        rows = self.db.execute(
            "SELECT id, username, role, active, display_name FROM users ORDER BY username"
        ).fetchall()
        return [
            User(r[0], r[1], Role(r[2]), bool(r[3]), self._open_display(r[0], r[4])) for r in rows
        ]

    @_locked
    def set_user_active(self, username: str, active: bool) -> None:
        me = self._me()
        require(me.role, Perm.USERS_MANAGE)
        row = self.vault.user_row(username)
        if row["id"] == me.id and not active:
            raise NotAllowed("cannot disable self", "No puede desactivar su propia cuenta.")
        with transaction(self.db) as conn:
            conn.execute("UPDATE users SET active=? WHERE id=?", (int(active), row["id"]))
            self._audit_in(
                conn, "user_enable" if active else "user_disable", detail={"user": row["username"]}
            )

    def _user_id(self, username: str) -> int:
        return int(self.vault.user_row(username)["id"])

    def _username(self, uid: int | None) -> str:
        if uid is None:
            return ""
        row = self.db.execute("SELECT username FROM users WHERE id=?", (uid,)).fetchone()
        return row[0] if row else ""

    # -- records: reads ---------------------------------------------------------------
    def _visible(self, m: RecordMeta) -> None:
        me = self._me()
        if m.owner_id != me.id and m.author_id != me.id and not can(me.role, Perm.RECORD_VIEW_ALL):
            raise NotAllowed(
                "record not visible to this user", "Esta ficha pertenece a otro usuario."
            )

    @_locked
    def get(self, uuid: str) -> RecordMeta:
        m = self.records.meta(self.db.conn, uuid)
        self._visible(m)
        return m

    @_locked
    def load_answers(self, uuid: str) -> dict:
        m = self.get(uuid)
        return self.records.answers(self.db.conn, m)

    @_locked
    def notes(self, uuid: str) -> dict:
        m = self.get(uuid)
        return self.records.notes(self.db.conn, m)

    @_locked
    def list_records(
        self,
        state: State | str | None = None,
        form_id: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[RecordMeta]:
        me = self._me()
        where, args = [], []
        if state:
            where.append("state=?")
            args.append(State(state).value)
        if form_id:
            where.append("form_id=?")
            args.append(form_id)
        if not can(me.role, Perm.RECORD_VIEW_ALL):
            where.append("(author_id=? OR assignee_id=?)")
            args += [me.id, me.id]
        elif owner:
            oid = self._user_id(owner)
            where.append("(COALESCE(assignee_id, author_id)=?)")
            args.append(oid)
        return self.records.list(self.db.conn, " AND ".join(where), tuple(args), limit)

    @_locked
    def counts_by_state(self) -> dict[str, int]:
        me = self._me()
        sql, args = "SELECT state, COUNT(*) FROM records", ()
        if not can(me.role, Perm.RECORD_VIEW_ALL):
            sql += " WHERE author_id=? OR assignee_id=?"
            args = (me.id, me.id)
        counts = {s.value: 0 for s in State}
        for state, n in self.db.execute(sql + " GROUP BY state", args):
            counts[state] = n
        return counts

    @_locked
    def find_by_dni(self, dni: str) -> list[RecordMeta]:
        self._me()
        out = []
        for uuid in self.records.find_uuids_by_dni(self.db.conn, dni):
            m = self.records.meta(self.db.conn, uuid)
            try:
                self._visible(m)
            except NotAllowed:
                continue
            out.extend(self.records.list(self.db.conn, "uuid=?", (uuid,)))
        return out

    @_locked
    def history(self, uuid: str) -> list[AuditEntry]:
        self.get(uuid)
        return self.audit.entries(self.db.conn, record_uuid=uuid)

    # -- records: writes ------------------------------------------------------------------
    def _load_editable(self, uuid: str) -> RecordMeta:
        me = self._me()
        m = self.records.meta(self.db.conn, uuid)
        if m.owner_id != me.id:
            raise NotAllowed(
                "only the record's owner edits it",
                "Solo el empadronador a cargo de esta ficha puede modificarla.",
            )
        return m

    @_locked
    def new_record(
        self,
        form_id: str,
        form_version: str,
        answers: dict | None = None,
        ule_ubigeo: str | None = None,
        record_uuid: str | None = None,
    ) -> str:
        me = self._me()
        require(me.role, Perm.RECORD_CREATE)
        now = self.clock()
        ule = ule_ubigeo or self.settings().get("ule_ubigeo")
        m = RecordMeta(
            uuid=record_uuid or str(uuidlib.uuid4()),
            revision=1,
            form_id=form_id,
            form_version=str(form_version),
            state=State.DRAFT.value,
            created_at=now,
            updated_at=now,
            author_id=me.id,
            assignee_id=None,
            ule_ubigeo=ule,
        )
        answers = answers or {}
        summary, dnis = self._facts(m, answers)
        with transaction(self.db) as conn:
            self.records.insert(conn, m, answers, summary)
            self.records.set_dnis(conn, m.uuid, dnis)
            self._audit_in(conn, "create", m.uuid, detail={"form": form_id, "v": m.form_version})
        return m.uuid

    def _facts(self, m: RecordMeta, answers: dict) -> tuple[dict, list[str]]:
        try:
            return self.hooks.facts(m.form_id, m.form_version, answers)
        except Exception:
            # A form the engine cannot read must not block saving what was typed.
            log.exception("summary extraction failed for %s", m.uuid)
            return {}, []

    @_locked
    def save_answers(self, uuid: str, answers: dict) -> RecordMeta:
        """Encrypt and store the answers; returns after a durable commit."""
        m = self._load_editable(uuid)
        if m.state == State.RETURNED.value:
            m = self._reopen(m)
        if State(m.state) not in EDITABLE:
            raise NotAllowed(
                f"record in state {m.state} is not editable",
                "Esta ficha ya no se puede editar en su estado actual.",
            )
        summary, dnis = self._facts(m, answers)
        now = self.clock()
        with transaction(self.db) as conn:
            self.records.write_answers(conn, m, answers, summary, now)
            self.records.set_dnis(conn, m.uuid, dnis)
            self._audit_in(conn, "save", m.uuid)
        m.updated_at = now
        m.summary = summary
        return m

    def _reopen(self, m: RecordMeta) -> RecordMeta:
        next_state(m.state, Action.EDIT)
        now = self.clock()
        with transaction(self.db) as conn:
            m2 = self.records.new_revision(conn, m, now)
            self.records.update_meta(
                conn,
                m.uuid,
                state=State.DRAFT.value,
                completed_at=None,
                approved_at=None,
                approved_by=None,
                quarantined=0,
            )
            self._audit_in(conn, "reopen", m.uuid, detail={"rev": m2.revision})
        m2.state = State.DRAFT.value
        return m2

    @_locked
    def reopen(self, uuid: str) -> RecordMeta:
        """A returned record goes back to DRAFT as a new revision (its author's fix)."""
        return self._reopen(self._load_editable(uuid))

    @_locked
    def complete(self, uuid: str) -> tuple[State, list[dict]]:
        """Full validation; COMPLETE only without hard errors. Returns (state, warnings).
        Raises ValidationError (with .errors) when hard errors remain."""
        m = self._load_editable(uuid)
        new_state = next_state(m.state, Action.COMPLETE)
        answers = self.records.answers(self.db.conn, m)
        errors, warnings = self.hooks.validate(m.form_id, m.form_version, answers)
        if errors:
            e = ValidationError(
                f"{len(errors)} hard errors",
                f"La ficha tiene {len(errors)} error(es) que impiden completarla. "
                "Corríjalos y vuelva a intentar.",
            )
            e.errors = errors  # type: ignore[attr-defined]
            raise e
        now = self.clock()
        with transaction(self.db) as conn:
            self.records.update_meta(
                conn,
                uuid,
                state=new_state.value,
                completed_at=now,
                updated_at=now,
                warnings=len(warnings),
            )
            self._audit_in(conn, "complete", uuid, detail={"warnings": len(warnings)})
            if not self.settings().get("review_required", True):
                # Review switched off: the system approves on completion.
                new_state = next_state(new_state, Action.APPROVE)
                self.records.update_meta(conn, uuid, state=new_state.value, approved_at=now)
                self._audit_in(conn, "approve", uuid, detail={"auto": True})
        return new_state, warnings

    def _check_reviewer(self, m: RecordMeta, perm: Perm) -> None:
        me = self._me()
        require(me.role, perm)
        if perm == Perm.RECORD_APPROVE and me.id in (m.author_id, m.assignee_id):
            raise NotAllowed(
                "author cannot approve own record",
                "No puede aprobar una ficha que usted mismo registró; debe aprobarla otro "
                "supervisor.",
            )

    @_locked
    def approve(self, uuid: str) -> None:
        m = self.records.meta(self.db.conn, uuid)
        self._check_reviewer(m, Perm.RECORD_APPROVE)
        new_state = next_state(m.state, Action.APPROVE)
        now = self.clock()
        with transaction(self.db) as conn:
            self.records.update_meta(
                conn,
                uuid,
                state=new_state.value,
                approved_at=now,
                approved_by=self._me().id,
                updated_at=now,
            )
            self._audit_in(conn, "approve", uuid)

    def approve_many(
        self,
        uuids: Iterable[str],
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ApproveResult:
        """Approve each record on its own (one refusal does not stop the rest)."""
        todo = list(uuids)
        done: list[str] = []
        refused: dict[str, str] = {}
        for i, uuid in enumerate(todo, 1):
            if cancelled and cancelled():
                break
            try:
                self.approve(uuid)
                done.append(uuid)
            except SieeError as e:
                refused[uuid] = e.user_message
            if progress:
                progress(i, len(todo))
        return ApproveResult(done, refused)

    @_locked
    def return_record(self, uuid: str, reason: str, questions: list[str] | None = None) -> None:
        """Supervisor sends a record back to its author with a reason (and questions)."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(
                "empty return reason", "Escriba el motivo de la observación para el empadronador."
            )
        m = self.records.meta(self.db.conn, uuid)
        self._check_reviewer(m, Perm.RECORD_RETURN)
        new_state = next_state(m.state, Action.RETURN)
        me = self._me()
        self._add_return(
            m,
            new_state,
            {
                "by": me.username,
                "source": "supervisor",
                "reason": reason,
                "questions": questions or [],
            },
        )

    def _add_return(self, m: RecordMeta, new_state: State, entry: dict) -> None:
        now = self.clock()
        entry = {**entry, "at": now, "revision": m.revision}
        with transaction(self.db) as conn:
            notes = self.records.notes(conn, m)
            notes.setdefault("returns", []).append(entry)
            self.records.write_notes(conn, m, notes)
            self.records.update_meta(conn, m.uuid, state=new_state.value, updated_at=now)
            self._audit_in(
                conn,
                "return",
                m.uuid,
                detail={"reason": entry["reason"], "source": entry["source"]},
            )

    @_locked
    def reassign(self, uuid: str, username: str) -> None:
        me = self._me()
        require(me.role, Perm.RECORD_REASSIGN)
        m = self.records.meta(self.db.conn, uuid)
        target = self.vault.user_row(username)
        if not target["active"] or not can(target["role"], Perm.RECORD_EDIT_OWN):
            raise ValidationError(
                "reassign target cannot take records",
                "Solo se puede reasignar a un usuario activo que registre fichas.",
            )
        with transaction(self.db) as conn:
            self.records.update_meta(conn, uuid, assignee_id=target["id"], updated_at=self.clock())
            self._audit_in(conn, "reassign", uuid, detail={"from": m.owner_id, "to": target["id"]})

    # -- audit -------------------------------------------------------------------------------
    @_locked
    def audit_verify(self) -> ChainReport:
        require(self._me().role, Perm.AUDIT_VIEW)
        return unlock.full_check(self.db, self.audit, self.clock())

    @_locked
    def audit_entries(self, **filters: Any) -> list[AuditEntry]:
        require(self._me().role, Perm.AUDIT_VIEW)
        return self.audit.entries(self.db.conn, **filters)

    @_locked
    def record_export(self, kind: str, rows: int, target_name: str) -> None:
        """Exports are written by their own module; this leaves their trace in the log."""
        require(self._me().role, Perm.EXPORT)
        with transaction(self.db) as conn:
            self._audit_in(
                conn, "export", detail={"kind": kind, "rows": rows, "file": Path(target_name).name}
            )

    def username_of(self, uid: int | None) -> str:
        return self._username(uid)
