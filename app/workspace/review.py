"""The review part of the workspace (`ws.review`): the supervisor's queue, a record's
read-only detail, approve (one or many), return with a reason, reassign.

Rules: app/core/states.py (which transitions exist), app/core/roles.py (who may),
app/core/cases.py (what is reviewed: the household's forms, not the steps of a case,
and nothing a dropped case holds until it is reopened); a supervisor never approves a
record they wrote or hold (four eyes)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.core import cases as cases_rules
from app.core.audit_actions import AuditAction
from app.core.errors import NotAllowed, SieeError, ValidationError
from app.core.roles import Perm, can, require
from app.core.states import Action, State, next_state
from app.forms import FormSession
from app.forms.library import FormLibrary
from app.store import cases as case_links
from app.store.db import transaction
from app.store.records import RecordMeta
from app.workspace import exports
from app.workspace.cases import Cases
from app.workspace.context import Context, locked
from app.workspace.documents import _member_name, _summary_head
from app.workspace.records import Records

log = logging.getLogger("siee.workspace.review")


@dataclass(frozen=True)
class ApproveResult:
    approved: list[str]
    refused: dict[str, str]  # uuid -> Spanish reason


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueItem:
    """One COMPLETE record waiting for the supervisor."""

    uuid: str
    form_id: str
    revision: int
    head_name: str
    head_dni: str
    ubigeo: str
    members: int
    enumerator: str  # who holds the record now (assignee, else author)
    enumerator_id: int
    completed_at: float | None
    warnings: int
    own: bool  # the reviewer wrote or holds it: they may not approve it
    case_uuid: str = ""  # the request (expediente) the record belongs to


@dataclass(frozen=True)
class ReviewLine:
    """One line of the read-only view of a whole survey."""

    path: str
    kind: str  # section | member | question | note
    depth: int
    label: str
    text: str = ""
    warning: str | None = None
    error: str | None = None


@dataclass
class ReviewDetail:
    uuid: str
    form_id: str
    form_title: str
    revision: int
    state: str
    head_name: str
    enumerator: str
    author: str
    completed_at: float | None
    lines: list[ReviewLine]
    returns: list[dict]
    result: dict | None
    can_approve: bool
    can_return: bool
    note: str = ""  # why no decision may be taken on it now (Spanish), or ""

    @property
    def warnings(self) -> list[ReviewLine]:
        return [ln for ln in self.lines if ln.warning]

    @property
    def errors(self) -> list[ReviewLine]:
        return [ln for ln in self.lines if ln.error]


class Review:
    """Supervisor operations (`ws.review`)."""

    def __init__(self, ctx: Context, records: Records, forms: FormLibrary,
                 cases: Cases) -> None:
        self.ctx = ctx
        self.records = records
        self.forms = forms
        self.cases = cases

    def assignable_users(self) -> list[tuple[str, str]]:
        """(username, shown name) of active users who can hold records (for reassign)."""
        with self.ctx.lock:
            self.ctx.require(Perm.RECORD_REASSIGN)
            out = []
            for u in self.ctx.users():
                if u.active and can(u.role, Perm.RECORD_EDIT_OWN):
                    shown = f"{u.display_name} ({u.username})" if u.display_name else u.username
                    out.append((u.username, shown))
            return out

    # queue ---------------------------------------------------------------------------
    def queue(self, form_id: str | None = None) -> list[QueueItem]:
        """The records the supervisor has to review (app.core.cases.awaits_review:
        COMPLETE household forms, not the steps of a case, none of a dropped case),
        oldest completion first, the records of one household together."""
        steps = cases_rules.CASE_STEPS
        with self.ctx.lock:
            me = self.ctx.me()
            require(me.role, Perm.RECORD_APPROVE)
            where = f"state=? AND form_id NOT IN ({','.join('?' * len(steps))})"
            args = [State.COMPLETE.value, *steps]
            if form_id:
                where += " AND form_id=?"
                args.append(form_id)
            metas = self.ctx.session.records.list(self.ctx.conn, where, tuple(args))
            people = self.ctx.people()
            case_of = case_links.all_links(self.ctx.conn)
            dropped = self.cases.dropped_cases() if metas else set()
            metas = [m for m in metas if not cases_rules.held_by_drop(
                m.form_id, m.state, case_of.get(m.uuid, m.uuid) in dropped)]
            heads: dict[str, tuple[str, str]] = {}
            for m in metas:  # a visit or a desestimación shows its household's name
                c = case_of.get(m.uuid, m.uuid)
                if c != m.uuid and c not in heads:
                    try:
                        heads[c] = _summary_head(self.ctx.session.records.meta(self.ctx.conn, c))
                    except SieeError:
                        heads[c] = ("", "")
        items = []
        for m in metas:
            head, dni = _summary_head(m)
            case = case_of.get(m.uuid, m.uuid)
            if not head and case in heads:
                head, dni = heads[case]
            s = {} if m.damaged else m.summary
            items.append(
                QueueItem(
                    uuid=m.uuid,
                    form_id=m.form_id,
                    revision=m.revision,
                    head_name=head if not m.damaged else "(ficha dañada)",
                    head_dni=dni,
                    ubigeo=str(s.get("ubigeo") or m.ule_ubigeo or ""),
                    members=int(s.get("members") or 0),
                    enumerator=people.get(m.owner_id, "?"),
                    enumerator_id=m.owner_id,
                    completed_at=m.completed_at,
                    warnings=int(m.warnings or 0),
                    own=me.id in (m.author_id, m.assignee_id),
                    case_uuid=case,
                )
            )
        # Oldest first, the records of one household together (its oldest decides).
        first: dict[str, float] = {}
        for i in items:
            first[i.case_uuid] = min(first.get(i.case_uuid, i.completed_at or 0.0),
                                     i.completed_at or 0.0)
        items.sort(key=lambda i: (first[i.case_uuid], i.case_uuid, i.completed_at or 0.0, i.uuid))
        return items

    def detail(self, uuid: str) -> ReviewDetail:
        """The whole survey as read-only lines, soft warnings and errors marked."""
        with self.ctx.lock:
            me = self.ctx.me()
            m = self.records.get(uuid)  # visibility: the owner, or a role that sees all
            answers = self.ctx.session.records.answers(self.ctx.conn, m)
            notes = self.ctx.session.records.notes(self.ctx.conn, m)
            people = self.ctx.people()
        fd = self.forms.get(m.form_id, m.form_version)
        session = FormSession.from_json(fd, answers)
        labels = exports.FormLabels(fd, session.language)
        lines: list[ReviewLine] = []
        members_seen = 0
        for st in session.iter_nodes():
            if not st.relevant:
                continue
            depth = max(0, st.path.count("/") - 2)
            if st.kind == "group":
                if st.path.count("/") > 1:
                    lines.append(ReviewLine(st.path, "section", depth, st.label))
                continue
            if st.kind == "repeat":
                members_seen += 1
                pos = st.path.rsplit("[", 1)[-1].rstrip("]")
                name = _member_name(session, st.path)
                label = f"Integrante {pos}" + (f": {name}" if name else "")
                lines.append(ReviewLine(st.path, "member", depth, label))
                continue
            if st.type == "calculate":
                continue
            if st.type == "note":
                if st.label:
                    lines.append(ReviewLine(st.path, "note", depth, st.label))
                continue
            nd = fd.node(st.path)
            lines.append(
                ReviewLine(
                    st.path,
                    "question",
                    depth,
                    st.label or nd.name,
                    labels.value_text(nd, st.value),
                    warning=st.warning,
                    error=st.message,
                )
            )
        head, _dni = _summary_head(m)
        reviewer = can(me.role, Perm.RECORD_APPROVE)
        own = me.id in (m.author_id, m.assignee_id)
        note = self._held_note(m)
        return ReviewDetail(
            uuid=m.uuid,
            form_id=m.form_id,
            form_title=fd.title,
            revision=m.revision,
            state=m.state,
            head_name=head,
            enumerator=people.get(m.owner_id, "?"),
            author=people.get(m.author_id, "?"),
            completed_at=m.completed_at,
            lines=lines,
            returns=list(notes.get("returns") or []),
            result=notes.get("result"),
            can_approve=reviewer and not own and not note and m.state == State.COMPLETE.value,
            can_return=can(me.role, Perm.RECORD_RETURN) and not note
            and m.state in (State.COMPLETE.value, State.QUEUED.value),
            note=note,
        )

    # decisions ---------------------------------------------------------------------------
    def _held_note(self, m: RecordMeta) -> str:
        """Why the supervisor takes no decision on `m` now (Spanish), or "": its case was
        dropped and holds it (app.core.cases.held_by_drop) until it is reopened."""
        if not cases_rules.held_by_drop(m.form_id, m.state, True):
            return ""  # not a household form waiting at the ULE: no case to look up
        case = case_links.case_of(self.ctx.conn, m.uuid) or m.uuid
        if case not in self.cases.dropped_cases():
            return ""
        return ("La solicitud de este hogar fue desestimada: sus fichas no se revisan. "
                "Si corresponde, el supervisor la reabre desde el expediente (Ctrl+E) y la "
                "ficha vuelve a la revisión.")

    def _check_reviewer(self, m: RecordMeta, perm: Perm) -> None:
        me = self.ctx.me()
        require(me.role, perm)
        if perm == Perm.RECORD_APPROVE and me.id in (m.author_id, m.assignee_id):
            raise NotAllowed(
                "author cannot approve own record",
                "No puede aprobar una ficha que usted mismo registró; debe aprobarla otro "
                "supervisor.",
            )
        note = self._held_note(m)
        if note:
            raise NotAllowed("record held by a dropped case", note)

    @locked
    def approve(self, uuid: str) -> None:
        m = self.ctx.session.records.meta(self.ctx.conn, uuid)
        self._check_reviewer(m, Perm.RECORD_APPROVE)
        new_state = next_state(m.state, Action.APPROVE)
        now = self.ctx.clock()
        with transaction(self.ctx.db) as conn:
            self.ctx.session.records.update_meta(
                conn,
                uuid,
                state=new_state.value,
                approved_at=now,
                approved_by=self.ctx.me().id,
                updated_at=now,
            )
            self.ctx.audit(conn, AuditAction.APPROVE, uuid)

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

    @locked
    def return_record(self, uuid: str, reason: str, questions: list[str] | None = None) -> None:
        """Supervisor sends a record back to its author with a reason (and questions)."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(
                "empty return reason", "Escriba el motivo de la observación para el empadronador."
            )
        m = self.ctx.session.records.meta(self.ctx.conn, uuid)
        self._check_reviewer(m, Perm.RECORD_RETURN)
        new_state = next_state(m.state, Action.RETURN)
        me = self.ctx.me()
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
        now = self.ctx.clock()
        entry = {**entry, "at": now, "revision": m.revision}
        with transaction(self.ctx.db) as conn:
            notes = self.ctx.session.records.notes(conn, m)
            notes.setdefault("returns", []).append(entry)
            self.ctx.session.records.write_notes(conn, m, notes)
            self.ctx.session.records.update_meta(
                conn, m.uuid, state=new_state.value, updated_at=now
            )
            self.ctx.audit(
                conn,
                AuditAction.RETURN,
                m.uuid,
                detail={"reason": entry["reason"], "source": entry["source"]},
            )

    @locked
    def reassign(self, uuid: str, username: str) -> None:
        me = self.ctx.me()
        require(me.role, Perm.RECORD_REASSIGN)
        m = self.ctx.session.records.meta(self.ctx.conn, uuid)
        target = self.ctx.vault.user_row(username)
        if not target["active"] or not can(target["role"], Perm.RECORD_EDIT_OWN):
            raise ValidationError(
                "reassign target cannot take records",
                "Solo se puede reasignar a un usuario activo que registre fichas.",
            )
        with transaction(self.ctx.db) as conn:
            self.ctx.session.records.update_meta(
                conn, uuid, assignee_id=target["id"], updated_at=self.ctx.clock()
            )
            self.ctx.audit(
                conn, AuditAction.REASSIGN, uuid, detail={"from": m.owner_id, "to": target["id"]}
            )
