"""The workspace: an unlocked local data folder, its logged-in user, and its parts.

Every operation the window, the CLI and sync offer goes through here: it checks the
role and the record's state (app.core), does the change in one transaction with its
audit entry (app.store), and never trusts the caller to have checked. Thread-safe:
the window runs long work on worker threads.

Like Anki's Collection composes its managers, `Workspace` holds the session and the
record lifecycle itself and composes the other parts, each on the same `Context`:

    ws.settings   app/workspace/settings.py   defaults, IT's files, the one write path
    ws.review     app/workspace/review.py     approve, return, reassign, the queue
    ws.documents  app/workspace/documents.py  dashboard, exports, constancia data
    ws.admin      app/workspace/admin.py      users, audit log, backup
    ws.centre     app/workspace/centre.py     sync with the centre (HTTP and USB)
    ws.cases      app/workspace/cases.py      cases (expedientes): visits, desestimación, D100
    ws.sync(...)  one sync run (the centre part's main operation)
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from app.core import cases as cases_rules
from app.core.audit_actions import AuditAction
from app.core.errors import AuthError, NotAllowed, NotFound, SieeError, ValidationError
from app.core.roles import Perm, Role
from app.core.states import EDITABLE, STATE_LABELS, Action, State, next_state
from app.core.ubigeo import catalog
from app.forms import FormSession, carry_over
from app.forms.library import FormLibrary
from app.store import crypto, meta, unlock
from app.store.audit import AuditEntry
from app.store.backup import finish_backups
from app.store.db import DB_NAME, connect, migrate, transaction
from app.store.records import RecordMeta, RecordStore
from app.store.vault import User, Vault
from app.sync.model import CancelFn, ProgressFn, SyncReport
from app.workspace.admin import Admin
from app.workspace.cases import Cases, Visit
from app.workspace.centre import Centre
from app.workspace.context import Context, FormHooks, locked
from app.workspace.documents import Documents
from app.workspace.hooks import EngineHooks
from app.workspace.practice import Practice, is_practice
from app.workspace.practice_centre import PracticeCentre
from app.workspace.records import Records
from app.workspace.review import Review
from app.workspace.settings import DEFAULTS, Settings

log = logging.getLogger("siee.workspace")

class Workspace:
    """One open data folder. Create with `Workspace.create` (first run) or
    `Workspace.open`; then `login`. Every public method checks the logged-in user's
    role (app.core.roles) and raises SieeError subclasses with Spanish messages."""

    def __init__(
        self,
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        kdf: crypto.KdfParams | None = None,
        hooks: FormHooks | None = None,
    ) -> None:
        data_dir = Path(data_dir)
        db = connect(data_dir / DB_NAME)
        migrate(db)
        self.forms = FormLibrary(data_dir / "forms")
        self._keep_shipped_forms()
        self.ctx = Context(
            data_dir=data_dir,
            db=db,
            vault=Vault(db, clock, kdf),
            clock=clock,
            hooks=hooks or EngineHooks(data_dir / "forms"),
        )
        self.records_view = Records(self.ctx)
        self.settings = Settings(self.ctx)
        self.cases = Cases(self.ctx, self.records_view, self.forms, self.settings,
                           self.new_record, self.complete)
        self.review = Review(self.ctx, self.records_view, self.forms, self.cases)
        self.documents = Documents(self.ctx, self.records_view, self.forms, self.settings,
                                   self.cases)
        self.admin = Admin(self.ctx, self.settings)
        # A practice workspace (issue 18) gets the simulated centre: it never reaches a server.
        self.practice = Practice(self.ctx, is_practice(db))
        centre = PracticeCentre if self.practice.enabled else Centre
        self.centre = centre(self.ctx, self.settings, self.forms)

    def _keep_shipped_forms(self) -> None:
        """Copy the form versions this program ships into the data folder's forms store,
        so records made with them stay readable after any later update (FormLibrary.
        keep_shipped). A folder that cannot be written does not stop the opening: the
        package still holds them, and the next opening tries again."""
        try:
            self.forms.keep_shipped()
        except OSError as e:
            log.warning("shipped form versions not copied to the data folder: %s",
                        e.__class__.__name__)

    # -- the shared parts, read-only for callers ---------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.ctx.data_dir

    @property
    def db(self):  # noqa: ANN201 - sqlite_utils.Database (tests and benchmarks read it)
        return self.ctx.db

    @property
    def clock(self) -> Callable[[], float]:
        return self.ctx.clock

    @property
    def hooks(self) -> FormHooks:
        return self.ctx.hooks

    @property
    def lock(self):  # noqa: ANN201 - threading.RLock
        """The workspace lock (re-entrant): hold it to read several things consistently."""
        return self.ctx.lock

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Several operations committed as one (the lock held, one transaction; the
        operations inside nest as savepoints): e.g. the S100 and FSU of one demo
        household, so a killed run never leaves half a household (issue 19 item 9)."""
        with self.ctx.lock, transaction(self.ctx.db):
            yield

    @property
    def vault(self) -> Vault:
        return self.ctx.vault

    @property
    def user(self) -> User | None:
        """The logged-in user, or None."""
        return self.ctx.session.user

    @property
    def records(self) -> RecordStore:
        """The record store (AuthError while locked); for tests and benchmarks."""
        return self.ctx.session.records

    def current_user(self) -> User:
        """The logged-in user; AuthError (Spanish: log in) when nobody is."""
        return self.ctx.me()

    # -- opening -----------------------------------------------------------------------------
    @staticmethod
    def is_initialized(data_dir: Path) -> bool:
        path = Path(data_dir) / DB_NAME
        if not path.exists():
            return False
        ws = Workspace(Path(data_dir))
        try:
            return ws.vault.is_initialized()
        finally:
            ws.close()

    @classmethod
    def open(cls, data_dir: Path, **kw: object) -> Workspace:
        data_dir = Path(data_dir)
        if not (data_dir / DB_NAME).exists():
            raise NotFound(
                f"no workspace in {data_dir}",
                "No hay datos de SIEE Campo en esa carpeta. Ejecute primero la configuración "
                "inicial.",
            )
        return cls(data_dir, **kw)  # type: ignore[arg-type]

    @classmethod
    def create(
        cls,
        data_dir: Path,
        admin_username: str,
        admin_password: str,
        ule_ubigeo: str | None = None,
        display_name: str = "",
        practice: bool = False,
        **kw: object,
    ) -> tuple[Workspace, str]:
        """Initialize a new data folder; returns the workspace (admin logged in) and
        the recovery code, which is shown once and never stored in clear. `practice`:
        a practice workspace (app/workspace/practice.py), for good."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if ule_ubigeo:
            catalog().validate(ule_ubigeo)
        if cls.is_initialized(data_dir):
            raise ValidationError(
                "workspace already initialized",
                "Esta carpeta ya tiene datos de SIEE Campo; no se puede configurar de nuevo.",
            )
        ws = cls(data_dir, **kw)  # type: ignore[arg-type]
        ctx = ws.ctx
        key, code, uid = ctx.vault.initialize(admin_username, admin_password)
        ctx.unlock(key)
        with transaction(ctx.db) as conn:
            meta.put(conn, meta.WORKSPACE_ID, str(uuidlib.uuid4()))
            if practice:
                ws.practice.mark(conn)
                ws.centre = PracticeCentre(ctx, ws.settings, ws.forms)
            ws.settings.write(conn, {**DEFAULTS, "ule_ubigeo": ule_ubigeo}, audited=[],
                              check_locks=False)  # IT's files are applied next
            if display_name:
                ctx.vault.set_display_name(conn, uid, ctx.session.seal_display(uid, display_name))
            ctx.session.user = User(
                uid, admin_username.strip().lower(), Role.ADMIN, True, display_name
            )
            ctx.audit(conn, AuditAction.INIT, detail={"ule_ubigeo": ule_ubigeo,
                                                      **({"practice": True} if practice else {})})
        log.info("workspace initialized in %s", data_dir)
        return ws, code

    def close(self) -> None:
        with self.ctx.lock:
            self.logout()
            self.ctx.db.conn.close()

    # -- session -----------------------------------------------------------------------------
    def usernames(self) -> list[str]:
        return self.ctx.vault.usernames()

    @locked
    def login(self, username: str, password: str) -> User:
        ctx = self.ctx
        try:
            key, row = ctx.vault.unlock(username, password)
        except AuthError as e:
            with transaction(ctx.db) as conn:
                ctx.vault.add_auth_event(conn, ctx.clock(), username, e.code)
            log.warning("log-in refused (%s)", e.code)
            raise
        ctx.unlock(key)
        uid = row["id"]
        ctx.session.user = User(
            uid,
            row["username"],
            Role(row["role"]),
            True,
            ctx.session.open_display(uid, ctx.vault.display_name_blob(uid)),
            bool(row["must_change_password"]),
        )
        with transaction(ctx.db) as conn:
            # Before this log-in's own entries: is the chain's end where its seal says,
            # were the lock-out counters or record rows edited outside the program?
            unlock.on_login(conn, ctx.session.records, ctx.session.audit, ctx.clock(), row)
            # Failures seen while locked enter the chain now that the key is known.
            for ts, name, event in ctx.vault.take_auth_events(conn):
                ctx.session.audit.append(
                    conn, ts, None, AuditAction.LOGIN_FAILED, None, {"user": name, "why": event}
                )
            ctx.audit(conn, AuditAction.LOGIN)
        finish_backups(ctx.db, ctx.session.audit, key, ctx.clock())  # a killed backup run
        try:
            self._queue_waiting_steps()
        except (SieeError, sqlite3.Error):  # the next log-in tries again; this one goes on
            log.exception("case steps waiting for review could not be queued")
        log.info("user %s logged in", uid)
        return ctx.session.user

    @locked
    def logout(self) -> None:
        ctx = self.ctx
        if ctx.session.user is not None and ctx.session.unlocked:
            try:
                with transaction(ctx.db) as conn:
                    ctx.audit(conn, AuditAction.LOGOUT)
            except Exception:  # closing must not fail because of the log
                log.exception("could not audit logout")
        ctx.relock()

    @locked
    def change_password(self, old: str, new: str) -> None:
        """The logged-in user chooses a new password (`old` is checked first, AuthError
        when wrong). Allowed, and the only thing allowed, while the password is still
        one an administrator gave; afterwards the flag is cleared. ValidationError
        (Spanish) for a weak password or one equal to the old."""
        ctx = self.ctx
        me = ctx.me(pending_change_ok=True)
        ctx.vault.unlock(me.username, old)
        if new == old:
            raise ValidationError(
                "new password equals the old",
                "La nueva contraseña debe ser distinta de la anterior.",
            )
        with transaction(ctx.db) as conn:
            ctx.vault.set_password(conn, me.id, new, ctx.session.key(), must_change=False)
            ctx.audit(conn, AuditAction.PASSWORD_CHANGE)
        ctx.session.user = replace(me, must_change_password=False)

    @property
    def must_change_password(self) -> bool:
        """True while the logged-in user's password is one an administrator gave."""
        u = self.ctx.session.user
        return bool(u and u.must_change_password)

    def role_of(self, username: str) -> Role | None:
        """The role of `username` (clear in the store, like the names the log-in window
        lists), or None for an unknown user: the log-in window's «¿Olvidó su
        contraseña?» tells an administrator and an enumerator different things."""
        try:
            return Role(self.ctx.vault.user_row(username)["role"])
        except (NotFound, ValidationError):
            return None

    def admin_usernames(self) -> list[str]:
        """The active administrators' usernames (whom to ask for a new password)."""
        return self.ctx.vault.admin_usernames()

    @locked
    def reset_password_with_recovery(self, username: str, code: str, new_password: str) -> None:
        """IT's path for a forgotten password: the recovery code unlocks the data key."""
        ctx = self.ctx
        key = ctx.vault.unlock_with_recovery(code)
        row = ctx.vault.user_row(username)
        was_user = ctx.session.user
        ctx.unlock(key)
        try:
            with transaction(ctx.db) as conn:
                ctx.vault.set_password(conn, row["id"], new_password, key)
                ctx.audit(
                    conn,
                    AuditAction.PASSWORD_RESET,
                    detail={"user": row["username"], "by": "recovery_code"},
                    user_id=None,
                )
        finally:
            if was_user is None:
                ctx.relock()

    def username_of(self, uid: int | None) -> str:
        return self.ctx.username(uid)

    # -- records: reads (app/workspace/records.py) ----------------------------------------------
    def get(self, uuid: str) -> RecordMeta:
        """A record's metadata, if the logged-in user may see it (NotAllowed otherwise)."""
        return self.records_view.get(uuid)

    def load_answers(self, uuid: str) -> dict:
        return self.records_view.answers(uuid)

    def notes(self, uuid: str) -> dict:
        return self.records_view.notes(uuid)

    def list_records(
        self,
        state: State | str | None = None,
        form_id: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[RecordMeta]:
        """The records the logged-in user may see, newest change first."""
        return self.records_view.list(state, form_id, owner, limit)

    def counts_by_state(self, exclude_forms: tuple[str, ...] = ()) -> dict[str, int]:
        """See app/workspace/records.py counts_by_state."""
        return self.records_view.counts_by_state(exclude_forms)

    def find_by_dni(self, dni: str) -> list[RecordMeta]:
        return self.records_view.find_by_dni(dni)

    def history(self, uuid: str) -> list[AuditEntry]:
        return self.records_view.history(uuid)

    def can_edit(self, m: RecordMeta) -> bool:
        """Whether the logged-in user may change this record's answers now: its owner
        (author, or assignee after a reassignment), while DRAFT or RETURNED (a returned
        record reopens as a new revision on its first save)."""
        me = self.ctx.session.user
        return bool(
            me is not None
            and m.owner_id == me.id
            and m.state in (State.DRAFT, State.RETURNED)
        )

    # -- records: writes ---------------------------------------------------------------------
    def _load_editable(self, uuid: str) -> RecordMeta:
        me = self.ctx.me()
        m = self.ctx.session.records.meta(self.ctx.conn, uuid)
        if m.owner_id != me.id:
            raise NotAllowed(
                "only the record's owner edits it",
                "Solo el empadronador a cargo de esta ficha puede modificarla.",
            )
        return m

    def _facts(self, m: RecordMeta, answers: dict) -> tuple[dict, list[str]]:
        try:
            return self.ctx.hooks.facts(m.form_id, m.form_version, answers)
        except Exception:
            # A form the engine cannot read must not block saving what was typed.
            log.exception("summary extraction failed for %s", m.uuid)
            return {}, []

    @locked
    def new_record(
        self,
        form_id: str,
        form_version: str,
        answers: dict | None = None,
        ule_ubigeo: str | None = None,
        record_uuid: str | None = None,
        case_uuid: str | None = None,
    ) -> str:
        """A new DRAFT record; an S100 opens its own case, any other record joins the
        case of `case_uuid` (a request's or any member's uuid) or opens its own."""
        ctx = self.ctx
        me = ctx.require(Perm.RECORD_CREATE)
        now = ctx.clock()
        ule = ule_ubigeo or self.settings.get("ule_ubigeo")
        m = RecordMeta(
            uuid=record_uuid or str(uuidlib.uuid4()),
            revision=1,
            form_id=form_id,
            form_version=str(form_version),
            state=State.DRAFT,
            created_at=now,
            updated_at=now,
            author_id=me.id,
            assignee_id=None,
            ule_ubigeo=ule,
        )
        answers = answers or {}
        summary, dnis = self._facts(m, answers)
        with transaction(ctx.db) as conn:
            ctx.session.records.insert(conn, m, answers, summary)
            ctx.session.records.set_dnis(conn, m.uuid, dnis)
            self.cases.link_new(conn, m, case_uuid)
            ctx.audit(conn, AuditAction.CREATE, m.uuid,
                      detail={"form": form_id, "v": m.form_version})
        return m.uuid

    def form_properties(self) -> dict[str, str]:
        """What `property(name)` gives in a new record's defaults (the form files
        prefill with it): `username` is the logged-in person's name (their display
        name, else their user name: ODK's «username» metadata), `siee:ule` the
        configured ULE's ubigeo ('' when none is set)."""
        me = self.ctx.me()
        return {
            "username": me.display_name or me.username,
            "siee:ule": str(self.settings.get("ule_ubigeo") or ""),
        }

    def new_draft(self, form_id: str, from_uuid: str | None = None) -> str:
        """A new draft of the bundled `form_id`, its defaults filled with what the program
        knows (`form_properties`: the logged-in person, the ULE). With `from_uuid` (an
        S100 for a new FSU), the household's answers then carry over to same-named
        questions (app/forms/carry_over.py), and an FSU's «Control de la visita» takes
        the enumerator, date and result of the case's completed visit, if one was
        recorded (`_visit_control`). Returns the new record's uuid."""
        fd = self.forms.bundled(form_id)
        session = FormSession(fd, None, properties=self.form_properties())
        if from_uuid:
            src = self.get(from_uuid)
            src_session = FormSession(self.forms.get(src.form_id, src.form_version),
                                      self.load_answers(from_uuid) or None)
            carry_over(src_session, session)
            case = self.cases.get(self.cases.case_of(from_uuid))
            if form_id == "fsu":
                _visit_control(session, case.completed_visit())
        answers = session.to_json(include_aside=True)
        if from_uuid:
            if case.dropped:
                raise NotAllowed("case dropped", "La solicitud fue desestimada: no se registra "
                                 "una FSU. El supervisor puede reabrirla si corresponde.")
            if form_id == "fsu" and case.main_fsu is not None:
                # one household, one FSU: a second one from the same S100 split the
                # household's answers and results (found in a clerk walk-through)
                raise ValidationError(
                    "request already has an FSU",
                    "Esta solicitud ya tiene su FSU (estado «"
                    f"{STATE_LABELS[State(case.main_fsu.state)]}»): ábrala desde la lista de "
                    "fichas para continuarla o corregirla.")
            if form_id == "fsu" and case.route.value != "fsu":
                raise ValidationError(
                    "request needs no visit",
                    f"La solicitud «{case.option_label}» no lleva visita ni FSU "
                    f"({case.route_label}): se revisa y envía con la S100.")
            return self.new_record(fd.form_id, str(fd.version), answers,
                                   case_uuid=case.case_uuid)
        return self.new_record(fd.form_id, str(fd.version), answers)

    @locked
    def save_answers(self, uuid: str, answers: dict) -> RecordMeta:
        """Encrypt and store the answers; returns after a durable commit."""
        ctx = self.ctx
        m = self._load_editable(uuid)
        if m.state == State.RETURNED:
            m = self._reopen(m)
        if m.state not in EDITABLE:
            raise NotAllowed(
                f"record in state {m.state} is not editable",
                "Esta ficha ya no se puede editar en su estado actual.",
            )
        summary, dnis = self._facts(m, answers)
        now = ctx.clock()
        with transaction(ctx.db) as conn:
            ctx.session.records.write_answers(conn, m, answers, summary, now)
            ctx.session.records.set_dnis(conn, m.uuid, dnis)
            self.cases.relink_by_dni(conn, m)
            ctx.audit(conn, AuditAction.SAVE, m.uuid)
        m.updated_at = now
        m.summary = summary
        return m

    def _reopen(self, m: RecordMeta) -> RecordMeta:
        ctx = self.ctx
        new_state = next_state(m.state, Action.EDIT)
        now = ctx.clock()
        with transaction(ctx.db) as conn:
            m2 = ctx.session.records.new_revision(conn, m, now)
            ctx.session.records.update_meta(
                conn,
                m.uuid,
                state=new_state,
                completed_at=None,
                approved_at=None,
                approved_by=None,
                quarantined=0,
            )
            ctx.audit(conn, AuditAction.REOPEN, m.uuid, detail={"rev": m2.revision})
        m2.state = new_state
        return m2

    @locked
    def reopen(self, uuid: str) -> RecordMeta:
        """A returned record goes back to DRAFT as a new revision (its author's fix)."""
        return self._reopen(self._load_editable(uuid))

    @locked
    def complete(self, uuid: str) -> tuple[State, list[dict]]:
        """Full validation; COMPLETE only without hard errors. Returns (state, warnings).
        Raises ValidationError (with .errors) when hard errors remain."""
        ctx = self.ctx
        records = ctx.session.records
        m = self._load_editable(uuid)
        new_state = next_state(m.state, Action.COMPLETE)
        if m.form_id == cases_rules.DROP:
            # a decision goes to the centre unreviewed: only the supervisor takes one
            ctx.require(Perm.CASE_DROP)
        answers = records.answers(ctx.conn, m)
        errors, warnings = ctx.hooks.validate(m.form_id, m.form_version, answers)
        if not errors and m.form_id == "s100":
            self.cases.check_request(m, answers)  # reevaluación: a CSE under 180 days
        if errors:
            e = ValidationError(
                f"{len(errors)} hard errors",
                f"La ficha tiene {len(errors)} error(es) que impiden completarla. "
                "Corríjalos y vuelva a intentar.",
            )
            e.errors = errors  # type: ignore[attr-defined]
            raise e
        now = ctx.clock()
        with transaction(ctx.db) as conn:
            records.update_meta(
                conn, uuid, state=new_state, completed_at=now, updated_at=now,
                warnings=len(warnings),
            )
            ctx.audit(conn, AuditAction.COMPLETE, uuid, detail={"warnings": len(warnings)})
            if not cases_rules.needs_review(m.form_id):
                # A step of a case (a visit attempt): to the outbox, no review.
                new_state = self._queue_unreviewed(conn, uuid, new_state, m.form_id, now)
            elif not self.settings.get("review_required"):
                # Review switched off: the system approves on completion.
                new_state = next_state(new_state, Action.APPROVE)
                records.update_meta(conn, uuid, state=new_state, approved_at=now)
                ctx.audit(conn, AuditAction.APPROVE, uuid, detail={"auto": True})
        return new_state, warnings

    def _queue_unreviewed(self, conn: sqlite3.Connection, uuid: str, state: State,
                          form_id: str, now: float, user_id: int | None = -1) -> State:
        """Queue a completed step of a case, which nobody reviews
        (app.core.cases.needs_review), inside the caller's transaction; audited as an
        automatic approval by `user_id` (-1: the logged-in user, None: the system).
        Returns the new state."""
        new_state = next_state(state, Action.APPROVE)
        self.ctx.session.records.update_meta(conn, uuid, state=new_state, approved_at=now,
                                             updated_at=now)
        self.ctx.audit(conn, AuditAction.APPROVE, uuid, detail={"auto": True, "step": form_id},
                       user_id=user_id)
        return new_state

    def _queue_waiting_steps(self) -> int:
        """Visit attempts that an earlier version of the program completed into the
        supervisor's review queue join the outbox now, as they do when recorded: a
        laptop updated with visits waiting for review would otherwise keep them in
        «Completa», never sent. Done at log-in, audited as the system's; rows whose
        metadata fails its check are left alone (they are reported as damaged). (That
        version queued every desestimación it made: none waits.) Returns how many."""
        ctx = self.ctx
        with ctx.lock:
            waiting = [m for m in ctx.session.records.list(
                ctx.conn, "state=? AND form_id=?", (State.COMPLETE.value, cases_rules.VISIT))
                       if not m.damaged]
            if not waiting:
                return 0
            now = ctx.clock()
            with transaction(ctx.db) as conn:
                for m in waiting:
                    self._queue_unreviewed(conn, m.uuid, State(m.state), m.form_id, now,
                                           user_id=None)
        log.info("%d visit attempts left for review by an earlier version queued", len(waiting))
        return len(waiting)

    # -- sync ----------------------------------------------------------------------------------
    def sync(self, progress: ProgressFn | None = None,
             cancelled: CancelFn | None = None) -> SyncReport:
        """Send every queued record to the centre, then apply its inbox (`ws.centre.sync`)."""
        return self.centre.sync(progress, cancelled)


# The FSU's «Control de la visita» answers a recorded visit attempt holds.
_FSU_CONTROL = "/fsu/control/"


def _visit_control(session: FormSession, visit: Visit | None) -> None:
    """Fill a new FSU's visit control from the case's completed visit (registered in
    the expediente, «Registrar visita…»): who made it, its date and its result, as the
    visit record holds them; nothing else is filled in. With no completed visit (None)
    the form's own defaults stay (the logged-in person, today). The clerk can still
    change them in the form."""
    if visit is None:
        return
    for name, value in (("empadronador", visit.enumerator), ("fecha_visita", visit.date),
                        ("resultado", visit.result_code)):
        path = _FSU_CONTROL + name
        if value and session.has(path):
            try:
                session.set(path, value)
            except SieeError:  # refused by the form (an older list): the default stays
                log.warning("visit control answer %s not carried to the FSU", name)
