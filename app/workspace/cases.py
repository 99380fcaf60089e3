"""The cases part of the workspace (`ws.cases`): the request (expediente) as the unit
the ULE follows (issue 15, DESIGN.md "The case").

A case is one S100 and what hangs from it: visit attempts (form `visita`), the FSU
when the request needs a visit, the desestimación decisions (form
`desestimacion`), the papers (constancia, notices, D100) and the CSE result. Each
of those is still its own encrypted record (and its own signed record on the
wire, carrying the case's uuid); this part links them (app/store/cases.py) and
derives the case's state, route and running clock with app/core/cases.py.

Every operation checks the logged-in role here, below any screen."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core import cases as rules
from app.core.audit_actions import AuditAction
from app.core.cases import CASE_STATE_LABELS, ROUTE_LABELS, CaseFacts, CaseState, Clock, Route
from app.core.errors import NotAllowed, NotFound, SieeError, ValidationError
from app.core.identifiers import case_reference
from app.core.roles import Perm, Role, can
from app.core.states import State, next_state
from app.core.ubigeo import catalog
from app.forms import FormSession
from app.forms.library import FormLibrary
from app.store import cases as links
from app.store.db import transaction
from app.store.records import RecordMeta
from app.store.vault import User
from app.workspace.context import Context, locked
from app.workspace.exports import answers_flat, street_address
from app.workspace.records import Records
from app.workspace.settings import Settings

log = logging.getLogger("siee.workspace.cases")

_S100_OPTION = "/s100/solicitud/tipo_solicitud"
_S100_DATE = "/s100/solicitud/fecha_solicitud"
_S100_NATIVE = "/s100/domicilio/comunidad_indigena"
_V = "/visita/intento/"
_D = "/desestimacion/decision/"
# The code of «1. Completa» in the FSU's `resultado` list (the visits' codes in today's
# list, rules.visit_result_code): the attempt where the interview was made.
VISIT_COMPLETE = "1"

NewRecordFn = Callable[..., str]
CompleteFn = Callable[[str], Any]


@dataclass(frozen=True)
class Visit:
    """One visit attempt of a case, as recorded (nothing is filled in for it)."""

    uuid: str
    state: State
    date: str  # YYYY-MM-DD
    time: str  # HH:MM
    enumerator: str
    result_code: str  # in today's list, the FSU's `resultado` (rules.visit_result_code)
    result_label: str
    failed: bool
    next_visit: str  # YYYY-MM-DD or ""
    notes: str


@dataclass(frozen=True)
class Decision:
    """A desestimación or a reopening of the case."""

    uuid: str
    action: str  # desestimar | reabrir
    date: str
    reason: str
    detail: str
    by: str
    at: float


@dataclass
class Case:
    """One case as the ULE follows it."""

    case_uuid: str
    request: RecordMeta | None  # the S100 (None: an FSU typed without its request)
    records: list[RecordMeta]
    option_code: str
    option_label: str
    route: Route
    request_date: dt.date
    visits: list[Visit] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    result: dict[str, Any] | None = None
    state: CaseState = CaseState.REQUESTED
    clock: Clock | None = None
    head_name: str = ""
    head_dni: str = ""
    enumerator: str = ""

    def completed_visit(self) -> Visit | None:
        """The latest recorded attempt whose result is «1. Completa» (the interview was
        made), by the date and time of the visit, then by when it was recorded; None
        when no attempt is complete (or none was recorded)."""
        done = [(v.date, v.time, i, v) for i, v in enumerate(self.visits)
                if v.result_code == VISIT_COMPLETE and v.state != State.DRAFT]
        return max(done, key=lambda x: x[:3])[3] if done else None

    @property
    def state_label(self) -> str:
        return CASE_STATE_LABELS[self.state]

    @property
    def reference(self) -> str:
        """The «N° de expediente» shown to people (app.core.identifiers.case_reference)."""
        return case_reference(self.case_uuid)

    @property
    def route_label(self) -> str:
        return ROUTE_LABELS[self.route]

    @property
    def fsus(self) -> list[RecordMeta]:
        return [m for m in self.records if m.form_id == rules.FSU]

    @property
    def dropped(self) -> bool:
        return self.state == CaseState.DROPPED

    @property
    def main_fsu(self) -> RecordMeta | None:
        """The FSU furthest along (result > delivered > queued > complete > returned >
        draft), or None when no FSU was typed yet."""
        return max(self.fsus, key=lambda m: _FSU_RANK[State(m.state)], default=None)

    def checklist(self) -> list[tuple[str, bool, str]]:
        """The papers of the expediente: (item, present, Spanish detail)."""
        req = self.request
        out = [("Solicitud S100", req is not None,
                f"{self.option_code} {self.option_label}".strip() if req else
                "no registrada en este equipo")]
        fsu = self.main_fsu
        ready = fsu is not None and State(fsu.state) not in (State.DRAFT, State.RETURNED)
        if self.route == Route.FSU:
            wording = _FSU_WORDING[State(fsu.state)] if fsu else "pendiente de la visita"
            if fsu is not None and rules.held_by_drop(fsu.form_id, fsu.state, self.dropped):
                wording = (f"{_FSU_HELD[State(fsu.state)]}; no se revisa mientras la "
                           "solicitud esté desestimada")
            out.append(("Ficha socioeconómica (FSU)", ready, wording))
        else:
            out.append(("Ficha socioeconómica (FSU)", True,
                        f"no corresponde ({self.route_label})"))
        failed = [v for v in self.visits if v.failed]
        out.append(("Notificaciones de visita (N100)", True,
                    f"{len(failed)} emitida(s)" if failed else "ninguna (no hubo visita fallida)"))
        # as ws.documents.constancia() allows it: from a completed FSU only
        out.append(("Constancia de empadronamiento", ready,
                    "disponible para entregar" if ready else
                    "se emite cuando la FSU esté completa" if fsu else "se emite con la FSU"))
        sent = any(m.state in (State.QUEUED, State.DELIVERED, State.RESULT)
                   for m in self.records)
        out.append(("Declaración jurada D100", sent,
                    "incluir en la D100 del periodo" if sent else "cuando el expediente se envíe"))
        return out


# How far an FSU has gone, and what the expediente's checklist says of it.
_FSU_RANK = {State.DRAFT: 0, State.RETURNED: 1, State.COMPLETE: 2, State.QUEUED: 3,
             State.DELIVERED: 4, State.RESULT: 5}
# What the checklist says of an FSU its case's desestimación holds (rules.held_by_drop).
_FSU_HELD = {State.DRAFT: "en borrador", State.COMPLETE: "completa"}
_FSU_WORDING = {
    State.DRAFT: "en borrador: falta completarla",
    State.RETURNED: "observada: corríjala y vuelva a completarla",
    State.COMPLETE: "completa, pendiente de la revisión del supervisor",
    State.QUEUED: "completa, en cola de envío a la sede central",
    State.DELIVERED: "entregada a la sede central, a la espera del resultado",
    State.RESULT: "con resultado de la clasificación socioeconómica (CSE)",
}


@dataclass(frozen=True)
class NoticeData:
    """The notice of visit (notificación de visita) left at the door after a failed
    attempt: the ULE's data, the attempt, and the date of the next one. It shows only
    what was recorded; anything unknown stays blank."""

    case_uuid: str
    visit_uuid: str
    municipality: str
    place: str
    ule_ubigeo: str
    address: str  # as the S100 gives it (the household's own request), or ""
    date: str  # DD/MM/YYYY
    time: str
    enumerator: str
    result_label: str
    next_visit: str  # DD/MM/YYYY or ""
    attempt: int
    issued_at: dt.datetime
    reference: str = ""  # the «N° de expediente» (case_reference), never the uuid


@dataclass(frozen=True)
class D100Item:
    case_uuid: str
    head_name: str
    head_dni: str
    option: str
    forms: str
    sent: str  # DD/MM/YYYY
    reference: str = ""  # the «N° de expediente» (case_reference)


@dataclass(frozen=True)
class D100Data:
    """A D100 sworn statement: the cases sent in a period, to be signed by the mayor or
    an authorised manager before it goes to the centre."""

    id: int
    municipality: str
    place: str
    ule_ubigeo: str
    period_from: dt.date
    period_to: dt.date
    items: list[D100Item]
    state: str
    issued_at: dt.datetime
    issued_by: str


def municipality_of(ule: str) -> tuple[str, str]:
    """(municipality name, place) of a ULE ubigeo, in Spanish."""
    district = catalog().get(ule or "")
    if district is None:
        return "Municipalidad", ""
    place = f"{district.distrito}, {district.provincia}, {district.departamento}"
    if ule.endswith("01"):
        return f"Municipalidad Provincial de {district.provincia}", place
    return f"Municipalidad Distrital de {district.distrito}", place


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return ""


class Cases:
    """Cases (`ws.cases`): list and read them, record visits, drop and reopen, notices,
    the S100's routing and reevaluación checks, the D100."""

    def __init__(self, ctx: Context, records: Records, forms: FormLibrary, settings: Settings,
                 new_record: NewRecordFn, complete: CompleteFn) -> None:
        self.ctx = ctx
        self.records = records
        self.forms = forms
        self.settings = settings
        self._new_record = new_record
        self._complete = complete

    # -- links ---------------------------------------------------------------------------------
    def link_new(self, conn: Any, m: RecordMeta, case_uuid: str | None) -> None:
        """Link a new record to its case inside the caller's transaction: a request is its
        own case; another record joins `case_uuid` (its own case when None)."""
        if m.form_id != rules.S100 and case_uuid:
            if links.case_of(conn, case_uuid) is None:
                raise NotFound(f"case {case_uuid} unknown",
                               "No se encontró la solicitud (expediente) indicada.")
            case_uuid = links.case_of(conn, case_uuid)
        links.link(conn, m.uuid, case_uuid if m.form_id != rules.S100 and case_uuid else m.uuid)
        if m.form_id == rules.FSU and not case_uuid:
            self.relink_by_dni(conn, m)

    def relink_by_dni(self, conn: Any, m: RecordMeta) -> None:
        """An FSU typed without its request (a paper FSU, or before cases existed) that is
        still a case of its own joins the newest S100 sharing a DNI with it (the keyed DNI
        index), as the dashboard matched them before cases existed."""
        if m.form_id != rules.FSU or links.case_of(conn, m.uuid) not in (None, m.uuid):
            return
        request = links.request_by_dni(conn, m.uuid)
        if request is not None:  # its visits, if any, come along
            links.move_case(conn, m.uuid, links.case_of(conn, request) or request)

    @locked
    def case_of(self, uuid: str) -> str:
        """The case uuid of a record the user may see."""
        self.records.get(uuid)
        return links.case_of(self.ctx.conn, uuid) or uuid

    # -- reading -------------------------------------------------------------------------------
    def _option(self, m: RecordMeta, flat: dict[str, str]) -> tuple[str, str, dict[str, str]]:
        code = flat.get(_S100_OPTION, "")
        try:
            fd = self.forms.get(m.form_id, m.form_version)
            for c in fd.choices.get("tipo_solicitud", []):
                if c.name == code:
                    return code, c.label(fd.default_language), c.extra
        except SieeError:
            log.warning("form of a request could not be loaded")
        return code, "", {}

    def _address(self, m: RecordMeta) -> str:
        """The household's address as its S100 gives it («Pasaje Flores 1041 Mz. B —
        frente al mercado»), or "" when none was recorded. Older S100 versions kept it in
        one `direccion` field; the current one splits it (tipo_via, nombre_via, ...)."""
        flat = self._answers(m)
        d = "/s100/domicilio"
        try:
            fd = self.forms.get(m.form_id, m.form_version)
            street = street_address(fd, flat, d)
        except SieeError:
            log.warning("form of a request could not be loaded")
            street = ""
        street = " ".join(x for x in (flat.get(d + "/direccion", ""), street) if x)
        return " — ".join(x for x in (street, flat.get(d + "/referencia", "")) if x)

    def _answers(self, m: RecordMeta) -> dict[str, str]:
        with self.ctx.lock:  # one record at a time: long reads never freeze the window
            try:
                return answers_flat(self.ctx.session.records.answers(self.ctx.conn, m))
            except SieeError:
                return {}

    def _notes(self, m: RecordMeta) -> dict:
        with self.ctx.lock:
            try:
                return self.ctx.session.records.notes(self.ctx.conn, m)
            except SieeError:
                return {}

    def _build(self, case_uuid: str, metas: list[RecordMeta], people: dict[int, str],
               today: dt.date) -> Case:
        request = next((m for m in metas if m.uuid == case_uuid and m.form_id == rules.S100),
                       None)
        code = label = ""
        extra: dict[str, str] = {}
        native = False
        first = request or min(metas, key=lambda m: m.created_at)
        request_date = dt.date.fromtimestamp(first.created_at)
        if request is not None:
            flat = self._answers(request)
            code, label, extra = self._option(request, flat)
            native = flat.get(_S100_NATIVE) == "1"
            try:
                request_date = dt.date.fromisoformat(flat.get(_S100_DATE, "")[:10])
            except ValueError:
                pass
        route = rules.route_of(extra, native) if request is not None else Route.FSU
        visits: list[Visit] = []
        decisions: list[Decision] = []
        result = None
        for m in sorted(metas, key=lambda x: x.created_at):
            if m.form_id == rules.VISIT:
                visits.append(self._visit(m))
            elif m.form_id == rules.DROP and m.state != State.DRAFT:
                a = self._answers(m)
                decisions.append(Decision(m.uuid, a.get(_D + "accion", ""), a.get(_D + "fecha", ""),
                                          a.get(_D + "motivo", ""), a.get(_D + "detalle", ""),
                                          people.get(m.author_id, "?"), m.created_at))
            if m.state == State.RESULT:
                res = self._notes(m).get("result")
                if res and (result is None or str(res.get("result_date") or "")
                            >= str(result.get("result_date") or "")):
                    result = res
        dropped = rules.dropped_by([d.action for d in decisions])
        facts = CaseFacts(
            route=route,
            request_state=State(request.state) if request is not None else None,
            fsu_states=[State(m.state) for m in metas if m.form_id == rules.FSU],
            visits_failed=[v.failed for v in visits],
            dropped=dropped,
            has_result=result is not None,
        )
        head = request or next((m for m in metas if m.form_id == rules.FSU), first)
        s = {} if head.damaged else (head.summary or {})
        return Case(
            case_uuid=case_uuid, request=request, records=metas, option_code=code,
            option_label=label, route=route, request_date=request_date, visits=visits,
            decisions=decisions, result=result, state=rules.case_state(facts),
            clock=rules.running_clock(facts, request_date),
            head_name=s.get("head_name") or s.get("head") or "",
            head_dni=s.get("head_dni") or s.get("dni") or "",
            enumerator=people.get(first.owner_id, "?"),
        )

    def _visit(self, m: RecordMeta) -> Visit:
        """One attempt as recorded: its label and outcome from the form version it was
        made with; its code in today's list (the FSU's, `rules.visit_result_code`)."""
        a = self._answers(m)
        stored = a.get(_V + "resultado", "")
        label, failed = stored, False
        try:
            fd = self.forms.get(m.form_id, m.form_version)
            for c in fd.choices.get("resultado_visita", []):
                if c.name == stored:
                    label, failed = c.label(fd.default_language), rules.visit_failed(c.extra)
        except SieeError:
            log.warning("visit form could not be loaded")
        return Visit(m.uuid, State(m.state), a.get(_V + "fecha_visita", ""),
                     a.get(_V + "hora_visita", "")[:5], a.get(_V + "empadronador", ""),
                     rules.visit_result_code(stored, m.form_version),
                     label, failed, a.get(_V + "proxima_visita", ""),
                     a.get(_V + "observaciones", ""))

    def list(self, today: dt.date | None = None) -> list[Case]:
        """Every case the logged-in user may see (an enumerator: the cases holding one
        of their records), newest request first."""
        with self.ctx.lock:
            me = self.ctx.me()
            conn = self.ctx.conn
            today = today or dt.date.fromtimestamp(self.ctx.clock())
            people = self.ctx.people()
            all_links = links.all_links(conn)
            metas = self.ctx.session.records.list(conn, "", ())
            groups: dict[str, list[RecordMeta]] = {}
            for m in metas:
                groups.setdefault(all_links.get(m.uuid, m.uuid), []).append(m)
            if not can(me.role, Perm.RECORD_VIEW_ALL):
                groups = {k: v for k, v in groups.items()
                          if any(m.owner_id == me.id or m.author_id == me.id for m in v)}
        out = [self._build(k, v, people, today) for k, v in groups.items()]
        out.sort(key=lambda c: (c.request_date, c.case_uuid), reverse=True)
        return out

    def dropped_cases(self) -> set[str]:
        """The uuids of the dropped cases (the newest decision of each is a
        desestimación, as `get` decides it), reading only the decision records: cheap
        enough for every load of the review queue."""
        with self.ctx.lock:
            self.ctx.me()
            conn = self.ctx.conn
            all_links = links.all_links(conn)
            metas = self.ctx.session.records.list(conn, "form_id=? AND state<>?",
                                                  (rules.DROP, State.DRAFT.value))
        actions: dict[str, list[str]] = {}
        for m in sorted(metas, key=lambda x: x.created_at):
            action = self._answers(m).get(_D + "accion", "")
            actions.setdefault(all_links.get(m.uuid, m.uuid), []).append(action)
        return {case for case, done in actions.items() if rules.dropped_by(done)}

    def form_counts(self) -> dict[str, int]:
        """The household forms (fichas) the user may see per state, those a dropped case
        holds counted apart under app.core.cases.HELD (rules.form_counts): what the
        records list's counters and the dashboard show. The user may see what
        RecordsView.counts_by_state counts: every record, or an enumerator's own."""
        dropped = self.dropped_cases()
        with self.ctx.lock:
            me = self.ctx.me()
            conn = self.ctx.conn
            all_links = links.all_links(conn)
            steps = rules.CASE_STEPS
            metas = self.ctx.session.records.list(
                conn, f"form_id NOT IN ({','.join('?' * len(steps))})", tuple(steps))
        if not can(me.role, Perm.RECORD_VIEW_ALL):
            metas = [m for m in metas if me.id in (m.author_id, m.assignee_id)]
        return rules.form_counts([(m.form_id, m.state, all_links.get(m.uuid, m.uuid) in dropped)
                                  for m in metas])

    def get(self, case_uuid: str, today: dt.date | None = None) -> Case:
        """One case (NotFound / NotAllowed in Spanish)."""
        with self.ctx.lock:
            self.ctx.me()
            conn = self.ctx.conn
            real = links.case_of(conn, case_uuid) or case_uuid
            uuids = links.members(conn, real) or [real]
            metas = []
            for u in uuids:
                try:
                    metas.append(self.ctx.session.records.meta(conn, u))
                except NotFound:
                    continue
            if not metas:
                raise NotFound(f"case {case_uuid} unknown", "No existe ese expediente.")
            me = self.ctx.me()
            if not can(me.role, Perm.RECORD_VIEW_ALL) and not any(
                    m.owner_id == me.id or m.author_id == me.id for m in metas):
                raise NotAllowed("case not visible", "Este expediente pertenece a otro usuario.")
            return self._build(real, metas, self.ctx.people(),
                               today or dt.date.fromtimestamp(self.ctx.clock()))

    # -- the request's checks ------------------------------------------------------------------
    def check_request(self, m: RecordMeta, answers: dict) -> None:
        """Checks of an S100 beyond its form (called by `complete`): a request option with
        `cse_max_dias` (reevaluación) needs a CSE of the household, held on this laptop,
        at most that many calendar days old at the request date. ValidationError (Spanish)."""
        flat = answers_flat(answers)
        code, label, extra = self._option(m, flat)
        limit = rules.max_cse_days(extra)
        if limit is None:
            return
        try:
            request_date = dt.date.fromisoformat(flat.get(_S100_DATE, "")[:10])
        except ValueError:
            request_date = dt.date.fromtimestamp(self.ctx.clock())
        try:
            rules.check_cse_age(label or code, self._last_cse(m, answers), request_date, limit)
        except ValidationError as e:
            # Pinned to the question, so the form shows it there and jumps to it.
            e.errors = [{"path": _S100_OPTION, "message": e.user_message}]  # type: ignore[attr-defined]
            raise

    def _last_cse(self, m: RecordMeta, answers: dict) -> dt.date | None:
        """The newest CSE result date among the records sharing a DNI with this request."""
        conn, store = self.ctx.conn, self.ctx.session.records
        try:
            _summary, dnis = self.ctx.hooks.facts(m.form_id, m.form_version, answers)
        except Exception:  # noqa: BLE001 - a form the engine cannot read: no DNI known
            log.exception("facts of a request could not be read")
            return None
        best: dt.date | None = None
        seen: set[str] = {m.uuid}
        for dni in dnis:
            for uuid in store.find_uuids_by_dni(conn, dni):
                if uuid in seen:
                    continue
                seen.add(uuid)
                other = store.meta(conn, uuid)
                if other.state != State.RESULT:
                    continue
                res = self._notes(other).get("result") or {}
                try:
                    d = dt.date.fromisoformat(str(res.get("result_date") or "")[:10])
                except ValueError:
                    continue
                best = d if best is None or d > best else best
        return best

    # -- visits ----------------------------------------------------------------------------------
    def enumerators(self) -> list[User]:
        """Who may be named as the enumerator of a visit: the ULE's active users with
        the role empadronador, by name (any user who records visits may read it)."""
        self.ctx.require(Perm.RECORD_CREATE)
        with self.ctx.lock:
            users = self.ctx.users()
        return sorted((u for u in users if u.active and u.role == Role.EMPADRONADOR),
                      key=lambda u: ((u.display_name or u.username).lower(), u.username))

    def _visit_enumerator(self, username: str | None) -> User:
        """The enumerator a visit is recorded for: `username` when it is an active
        empadronador of this laptop (or the logged-in user); None: the logged-in user.
        ValidationError (Spanish) otherwise."""
        me = self.ctx.me()
        if not username or username == me.username:
            return me
        found = next((u for u in self.enumerators() if u.username == username), None)
        if found is None:
            raise ValidationError(
                f"{username!r} is not an active enumerator",
                f"«{username}» no es un empadronador(a) activo de esta ULE: elija uno de la "
                "lista (Supervisión › Usuarios muestra quiénes son).")
        return found

    def record_visit(self, case_uuid: str, date: str, time: str, result: str,
                     next_visit: str = "", notes: str = "",
                     enumerator: str | None = None) -> str:
        """Record one visit attempt of a case (form `visita`) and complete it (then it
        follows review like any record). `date` YYYY-MM-DD, `time` HH:MM, `result` a
        code of the visit form's `resultado_visita` (the FSU's result codes).
        `enumerator`: the user name of the empadronador who made the visit (one of
        `enumerators()`); None: the logged-in user (a supervisor typing a visit names
        the enumerator, the screen asks). Refused for a dropped case and for a request
        that needs no visit. Returns its uuid."""
        self.ctx.require(Perm.RECORD_CREATE)
        visitor = self._visit_enumerator(enumerator)
        case = self.get(case_uuid)
        if case.dropped:
            raise NotAllowed("case dropped", "La solicitud fue desestimada: no se registran "
                             "visitas. El supervisor puede reabrirla si corresponde.")
        if case.route != Route.FSU:
            raise ValidationError(
                "request needs no visit",
                f"La solicitud «{case.option_label}» no lleva visita "
                f"({case.route_label}).")
        fd = self.forms.bundled(rules.VISIT)
        s = FormSession(fd, None)
        for name, value in (("fecha_visita", date), ("hora_visita", time),
                            ("empadronador", visitor.display_name or visitor.username),
                            ("resultado", result), ("proxima_visita", next_visit),
                            ("observaciones", notes)):
            if value:
                s.set(_V + name, value)
        report = s.validate()
        if report.errors:
            e = ValidationError(f"{len(report.errors)} errors in visit",
                                "El intento de visita tiene datos incompletos o inválidos: "
                                + " ".join(err.message for err in report.errors))
            e.errors = report.errors  # type: ignore[attr-defined]
            raise e
        with self.ctx.lock, transaction(self.ctx.db) as conn:
            uuid = self._new_record(fd.form_id, str(fd.version), s.to_json(),
                                    case_uuid=case.case_uuid)
            self._complete(uuid)
            self.ctx.audit(conn, AuditAction.VISIT, case.case_uuid,
                           detail={"visit": uuid, "result": result,
                                   "enumerator": visitor.username})
        return uuid

    def notice(self, visit_uuid: str) -> NoticeData:
        """The notice of visit of a failed attempt (audited: a paper given out)."""
        with self.ctx.lock:
            m = self.records.get(visit_uuid)
            if m.form_id != rules.VISIT:
                raise ValidationError("not a visit", "Esa ficha no es un intento de visita.")
            v = self._visit(m)
            if not v.failed:
                raise ValidationError("visit did not fail",
                                      "La entrevista se realizó: no corresponde notificación.")
            case = self.get(self.case_of(visit_uuid))
            address = self._address(case.request) if case.request is not None else ""
            ule = m.ule_ubigeo or self.settings.get("ule_ubigeo") or ""
            municipality, place = municipality_of(ule)
            attempt = 1 + [x.uuid for x in case.visits].index(visit_uuid)
            with transaction(self.ctx.db) as conn:
                self.ctx.audit(conn, AuditAction.NOTICE, case.case_uuid,
                               detail={"visit": visit_uuid})
            return NoticeData(case.case_uuid, visit_uuid, municipality, place, ule, address,
                              _date(v.date), v.time, v.enumerator, v.result_label,
                              _date(v.next_visit) if v.next_visit else "", attempt,
                              dt.datetime.fromtimestamp(self.ctx.clock()), case.reference)

    # -- desestimación -------------------------------------------------------------------------
    def drop_reasons(self) -> list[str]:
        """The grounds offered to drop a request (setting `desestimacion_motivos`)."""
        return [str(r) for r in self.settings.get("desestimacion_motivos") or []]

    def drop(self, case_uuid: str, reason: str, detail: str = "") -> str:
        """Drop a request (desestimación): supervisor only, with one of the reasons of the
        settings. A record of form `desestimacion` goes straight to the outbox (the
        supervisor's own decision needs no other approval); the case stops its clocks.
        Returns the record's uuid."""
        return self._decide(case_uuid, "desestimar", reason, detail)

    def reopen(self, case_uuid: str, reason: str) -> str:
        """Reopen a dropped request: supervisor only, with a reason typed by them."""
        return self._decide(case_uuid, "reabrir", reason, "")

    def _decide(self, case_uuid: str, action: str, reason: str, detail: str) -> str:
        ctx = self.ctx
        me = ctx.require(Perm.CASE_DROP)
        reason, detail = " ".join((reason or "").split()), (detail or "").strip()
        case = self.get(case_uuid)
        if action == "desestimar":
            if case.dropped:
                raise ValidationError("already dropped", "La solicitud ya está desestimada.")
            if case.state == CaseState.RESULT:
                raise ValidationError("case has a result", "La solicitud ya tiene resultado de "
                                      "CSE: no se puede desestimar.")
            if reason not in self.drop_reasons():
                raise ValidationError("unknown drop reason",
                                      "Elija uno de los motivos de desestimación de la lista "
                                      "(Configuración).")
        else:
            if not case.dropped:
                raise ValidationError("not dropped", "Solo se reabre una solicitud desestimada.")
            if len(reason) < 3:
                raise ValidationError("no reason", "Escriba el motivo para reabrir la solicitud.")
        fd = self.forms.bundled(rules.DROP)
        s = FormSession(fd, None)
        s.set(_D + "accion", action)
        s.set(_D + "fecha", dt.date.fromtimestamp(ctx.clock()).isoformat())
        s.set(_D + "motivo", reason)
        if detail:
            s.set(_D + "detalle", detail)
        report = s.validate()
        if report.errors:
            raise ValidationError("decision invalid",
                                  " ".join(err.message for err in report.errors))
        with ctx.lock, transaction(ctx.db) as conn:
            uuid = self._new_record(fd.form_id, str(fd.version), s.to_json(),
                                    case_uuid=case.case_uuid)
            now = ctx.clock()
            store = ctx.session.records
            state = next_state(State.DRAFT, "complete")
            store.update_meta(conn, uuid, state=state, completed_at=now, updated_at=now)
            state = next_state(state, "approve")
            store.update_meta(conn, uuid, state=state, approved_at=now, approved_by=me.id)
            ctx.audit(conn, AuditAction.CASE_DROP if action == "desestimar"
                      else AuditAction.CASE_REOPEN, case.case_uuid,
                      detail={"reason": reason, "record": uuid})
        log.info("case %s: %s", case.case_uuid, action)
        return uuid

    # -- D100 ------------------------------------------------------------------------------------
    def d100_generate(self, period_from: dt.date, period_to: dt.date) -> D100Data:
        """A new D100 listing the cases whose records were sent (approved for sending)
        between the two dates, inclusive. Supervisor only; audited."""
        me = self.ctx.require(Perm.D100_MANAGE)
        if period_to < period_from:
            raise ValidationError("bad period", "La fecha final debe ser igual o posterior a "
                                  "la inicial.")
        cases = [c for c in self.list() if self._sent_on(c, period_from, period_to)]
        if not cases:
            raise ValidationError("no cases in period", "No hay expedientes enviados en ese "
                                  "periodo: no hay nada que declarar en una D100.")
        with self.ctx.lock, transaction(self.ctx.db) as conn:
            d100_id = links.d100_add(conn, self.ctx.clock(), me.id, period_from.isoformat(),
                                     period_to.isoformat(), [c.case_uuid for c in cases])
            self.ctx.audit(conn, AuditAction.D100, detail={"id": d100_id, "state": "generado",
                                                           "cases": len(cases)})
        return self.d100(d100_id)

    @staticmethod
    def _sent_on(c: Case, start: dt.date, end: dt.date) -> dt.date | None:
        """The day the case's request or FSU last went to the outbox, when it falls in
        [start, end]; None otherwise."""
        days = [dt.date.fromtimestamp(m.approved_at) for m in c.records
                if m.approved_at and m.form_id in (rules.S100, rules.FSU)
                and m.state in (State.QUEUED, State.DELIVERED, State.RESULT)]
        day = max(days) if days else None
        return day if day and start <= day <= end else None

    def d100(self, d100_id: int) -> D100Data:
        """One D100 with its cases, as it is printed."""
        self.ctx.require(Perm.D100_MANAGE)
        with self.ctx.lock:
            row = next((r for r in links.d100_list(self.ctx.conn) if r.id == d100_id), None)
            if row is None:
                raise NotFound("no such D100", f"No existe la D100 N° {d100_id}.")
            people = self.ctx.people()
        items = []
        for cu in row.cases:
            try:
                c = self.get(cu)
            except SieeError:
                continue
            sent = self._sent_on(c, dt.date.min, dt.date.max)
            items.append(D100Item(cu, c.head_name, c.head_dni,
                                  f"{c.option_code} {c.option_label}".strip(),
                                  ", ".join(sorted({m.form_id.upper() for m in c.records})),
                                  sent.strftime("%d/%m/%Y") if sent else "", c.reference))
        ule = self.settings.get("ule_ubigeo") or ""
        municipality, place = municipality_of(ule)
        return D100Data(row.id, municipality, place, ule,
                        dt.date.fromisoformat(row.period_from),
                        dt.date.fromisoformat(row.period_to),
                        items, row.state, dt.datetime.fromtimestamp(row.created_at),
                        people.get(row.created_by or 0, ""))

    def d100_list(self) -> list[links.D100Row]:
        """Every D100 with its tracking state, newest first."""
        self.ctx.require(Perm.D100_MANAGE)
        with self.ctx.lock:
            return links.d100_list(self.ctx.conn)

    def d100_mark(self, d100_id: int, state: str) -> None:
        """Track a D100: «firmado» (signed by the mayor or an authorised manager), then
        «enviado» (sent to the centre). Audited."""
        self.ctx.require(Perm.D100_MANAGE)
        order = links.D100_STATES
        with self.ctx.lock:
            row = next((r for r in links.d100_list(self.ctx.conn) if r.id == d100_id), None)
            if row is None:
                raise NotFound("no such D100", f"No existe la D100 N° {d100_id}.")
            if state not in order or order.index(state) != order.index(row.state) + 1:
                raise ValidationError(
                    f"D100 {row.state} -> {state}",
                    "La D100 sigue el orden generada → firmada → enviada: "
                    f"esta está «{row.state}».")
            with transaction(self.ctx.db) as conn:
                links.d100_set_state(conn, d100_id, state, self.ctx.clock())
                self.ctx.audit(conn, AuditAction.D100, detail={"id": d100_id, "state": state})
