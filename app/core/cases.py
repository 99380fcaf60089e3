"""The case (expediente): one S100 request and what hangs from it (DESIGN.md "The
case"). Plain rules, no I/O: the route a request takes, the case's state derived
from its records, which deadline clock runs, and the reevaluación's 180-day rule.

Where the data comes from:
- the route of each request option is the `ruta` column of the S100's
  `tipo_solicitud` choices (app/forms/bundled/s100.md), `ruta_comunidad_nativa`
  when the household belongs to an Amazonian native community (geographic
  criterion, Directiva 001-2020-MIDIS §7.4), and `cse_max_dias` the age limit of
  the household's last CSE (reevaluación: 180 calendar days, DOMAIN.md);
- a visit's outcome is the `fallida` / `nueva_visita` columns of the visit form's
  `resultado_visita` choices (app/forms/bundled/visita.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from app.core import deadlines
from app.core.errors import ValidationError
from app.core.states import State

S100 = "s100"
FSU = "fsu"
VISIT = "visita"
DROP = "desestimacion"
# Form ids that belong to a case without being its request.
CASE_FORMS = (FSU, VISIT, DROP)
# Steps of a case: a visit attempt and a decision (desestimación, reopening) are facts
# of the case's history, not forms of the household. Each still travels to the centre
# as its own record (DESIGN.md "The case"), but nobody reviews it and nothing counts it
# as a «ficha»; the household's forms are the S100 and the FSU.
CASE_STEPS = (VISIT, DROP)


def needs_review(form_id: str) -> bool:
    """Whether a completed record of `form_id` waits for the supervisor before it goes
    to the centre (DESIGN.md: the supervisor reviews completed surveys). A step of a
    case does not: a visit attempt is queued when it is recorded, a decision is the
    supervisor's own."""
    return form_id not in CASE_STEPS


def awaits_review(form_id: str, state: State | str, case_dropped: bool) -> bool:
    """Whether a record is one the supervisor has to review now: a completed household
    form (S100, FSU) of a case that is not dropped."""
    return State(state) == State.COMPLETE and needs_review(form_id) and not case_dropped


def held_by_drop(form_id: str, state: State | str, case_dropped: bool) -> bool:
    """Whether a household form is held by its case's desestimación: not sent yet (a
    draft or a completed record) in a dropped case. Nobody reviews it until the
    supervisor reopens the case, which brings it back as it was; what was already
    queued or delivered keeps its way to the centre."""
    return (case_dropped and needs_review(form_id)
            and State(state) in (State.DRAFT, State.COMPLETE))


# The key under which the household forms a dropped case holds (held_by_drop) are counted,
# beside the state values: their rows read «Desestimada», so no counter shows them as
# «Borrador» or «Completa».
HELD = "HELD"


def form_counts(records: list[tuple[str, State | str, bool]]) -> dict[str, int]:
    """Household forms per state (state value -> count, every state present), from
    (form id, state, its case is dropped) of each record: the steps of a case are left
    out (they are not fichas) and the forms a dropped case holds are counted under
    HELD, not under their state. The one rule every counter of fichas follows (the
    records list, the dashboard)."""
    counts = {s.value: 0 for s in State}
    counts[HELD] = 0
    for form_id, state, dropped in records:
        if not needs_review(form_id):
            continue
        counts[HELD if held_by_drop(form_id, state, dropped) else State(state).value] += 1
    return counts


def dropped_by(actions: list[str]) -> bool:
    """Whether a case is dropped, from its decisions' actions (`desestimar` or
    `reabrir`) in the order they were taken: the newest decides."""
    return bool(actions) and actions[-1] == "desestimar"


class Route(StrEnum):
    """What a request needs before it goes to the centre."""

    FSU = "fsu"  # a home visit and an FSU
    NO_VISIT = "sin_visita"  # the S100 alone
    MEMBERS = "integrantes"  # the S100 with its list of members (R200), no visit


ROUTE_LABELS: dict[Route, str] = {
    Route.FSU: "Con visita (FSU)",
    Route.NO_VISIT: "Sin visita (solo S100)",
    Route.MEMBERS: "Sin visita (S100 con registro de integrantes)",
}


def route_of(extra: dict[str, str] | None, native_community: bool = False) -> Route:
    """The route of a request option from its choice row's extra columns (`ruta`,
    `ruta_comunidad_nativa`). An option without a `ruta` (a form version older than
    the column) needs a visit, which is what every request needed before."""
    extra = extra or {}
    raw = (extra.get("ruta_comunidad_nativa") if native_community else "") or extra.get("ruta")
    try:
        return Route((raw or Route.FSU.value).strip().lower())
    except ValueError:
        return Route.FSU


def max_cse_days(extra: dict[str, str] | None) -> int | None:
    """The `cse_max_dias` column (days) of a request option, or None."""
    raw = (extra or {}).get("cse_max_dias", "").strip()
    return int(raw) if raw.isdigit() else None


def check_cse_age(
    option_label: str, last_cse: dt.date | None, request_date: dt.date, max_days: int
) -> None:
    """Refuse a request that needs a recent CSE (reevaluación: under 180 calendar days,
    DOMAIN.md) when the household has none on this laptop or it is older than `max_days`
    at the request date. Raises ValidationError with a Spanish message."""
    if last_cse is None:
        raise ValidationError(
            "no CSE result held for the household",
            f"«{option_label}» procede solo con una CSE de menos de {max_days} días y este "
            "equipo no tiene ningún resultado de CSE de este hogar (buscado por sus DNI). "
            "Revise los DNI o registre una actualización de la CSE.",
        )
    age = (request_date - last_cse).days
    if age > max_days:
        raise ValidationError(
            f"last CSE is {age} days old (limit {max_days})",
            f"«{option_label}» no procede: la última CSE del hogar es del {last_cse:%d/%m/%Y} "
            f"({age} días; límite {max_days} días calendario). Registre una actualización "
            "de la CSE, que lleva visita.",
        )


# The visit form's result codes up to its version 2026113001, which had its own list;
# since 2026113002 it uses the FSU's `resultado` codes (the official FSU's), so a code
# means the same result in a visit and in an FSU. A stored attempt keeps the code and
# version it was made with (its label is read from that version); `visit_result_code`
# gives its code in today's list wherever codes are compared.
VISIT_CODES_BEFORE_FSU_LIST: dict[str, str] = {
    "1": "1",  # Entrevista realizada -> Completa
    "2": "4",  # No ubicado / ausente -> Ausente / no ubicado
    "3": "6",  # No reside -> No reside en la vivienda
    "4": "3",  # Negativa de empadronamiento -> Rechazo / negativa de empadronamiento
    "5": "7",  # Fallecido -> Fallecido(a)
    "6": "8",  # Dirección imprecisa
    "7": "9",  # Vivienda colectiva
}
LAST_VISIT_VERSION_WITH_OWN_CODES = 2026113001


def visit_result_code(code: str, form_version: str) -> str:
    """The code of a stored visit result in today's list (the FSU's `resultado`):
    attempts made with the visit form up to 2026113001 are mapped
    (VISIT_CODES_BEFORE_FSU_LIST); later ones, and versions that are not numbers
    (a centre-made form), are returned as they are."""
    try:
        old = int(str(form_version)) <= LAST_VISIT_VERSION_WITH_OWN_CODES
    except ValueError:
        old = False
    return VISIT_CODES_BEFORE_FSU_LIST.get(code, code) if old else code


def visit_failed(extra: dict[str, str] | None) -> bool:
    """Whether a visit result means the interview did not happen (`fallida` column)."""
    return (extra or {}).get("fallida", "").strip().lower() in ("si", "sí", "yes", "1")


class CaseState(StrEnum):
    REQUESTED = "solicitud"  # the S100 is being written or reviewed
    VISIT_PENDING = "visita_pendiente"
    VISIT_FAILED = "visita_fallida"
    VISITED = "visitado"  # the interview happened (a visit says so), the FSU is not typed yet
    IN_REVIEW = "en_revision"
    RETURNED = "observado"
    QUEUED = "en_cola"  # approved, in the send queue: not at the centre yet
    SENT = "enviado"  # waiting for the centre's result
    RESULT = "con_resultado"
    DROPPED = "desestimado"


CASE_STATE_LABELS: dict[CaseState, str] = {
    CaseState.REQUESTED: "Solicitud en registro",
    CaseState.VISIT_PENDING: "Visita pendiente",
    CaseState.VISIT_FAILED: "Visita fallida (volver a visitar)",
    CaseState.VISITED: "Visita realizada, FSU por registrar",
    CaseState.IN_REVIEW: "En revisión",
    CaseState.RETURNED: "Observado",
    CaseState.QUEUED: "Aprobado, en cola de envío",
    CaseState.SENT: "Enviado, espera resultado",
    CaseState.RESULT: "Con resultado",
    CaseState.DROPPED: "Desestimado",
}


@dataclass
class CaseFacts:
    """What the rules need to know of one case (built by the workspace)."""

    route: Route
    request_state: State | None  # the S100's state (None: a case without S100, legacy)
    fsu_states: list[State] = field(default_factory=list)
    visits_failed: list[bool] = field(default_factory=list)  # in order of the attempts
    dropped: bool = False
    has_result: bool = False

    @property
    def visited(self) -> bool:
        """The interview happened: an FSU exists or a visit says so."""
        return bool(self.fsu_states) or any(not f for f in self.visits_failed)


_SENT = {State.QUEUED, State.DELIVERED}


def case_state(f: CaseFacts) -> CaseState:
    """The state of a case from its records (DESIGN.md: lists and dashboards count cases;
    docs/process.md names them). In order:
    - dropped, then with its result, then returned (any record observed);
    - nothing past draft and no visit: the request is being written (REQUESTED), also
      for an FSU typed without its S100;
    - a request with visit whose FSU is not completed yet: VISIT_FAILED when the last
      attempt failed, VISITED when the last attempt says the interview happened (its
      visit clock is met, the 25-day one runs), else VISIT_PENDING (a draft FSU is not
      a finished interview);
    - a record completed and waiting for the supervisor: IN_REVIEW;
    - otherwise what the case needs was queued or delivered: QUEUED while any of its
      forms is still in the send queue, SENT once all reached the centre (a stray draft
      FSU beside a delivered one does not pull the case back to review)."""
    if f.dropped:
        return CaseState.DROPPED
    if f.has_result:
        return CaseState.RESULT
    states = ([f.request_state] if f.request_state else []) + list(f.fsu_states)
    if State.RETURNED in states:
        return CaseState.RETURNED
    started = [s for s in f.fsu_states if s != State.DRAFT]
    if f.request_state in (None, State.DRAFT) and not started and not f.visits_failed:
        return CaseState.REQUESTED
    if f.route == Route.FSU:
        if not started:
            if f.visits_failed and f.visits_failed[-1]:
                return CaseState.VISIT_FAILED
            return CaseState.VISITED if f.visits_failed else CaseState.VISIT_PENDING
        if State.COMPLETE in started or f.request_state == State.COMPLETE:
            return CaseState.IN_REVIEW
        return CaseState.QUEUED if State.QUEUED in [*started, f.request_state] else (
            CaseState.SENT)
    if f.request_state == State.QUEUED:
        return CaseState.QUEUED
    if f.request_state in _SENT:
        return CaseState.SENT
    if f.request_state == State.COMPLETE:
        return CaseState.IN_REVIEW
    return CaseState.REQUESTED


@dataclass(frozen=True)
class Clock:
    """A running deadline of a case (DOMAIN.md: visit within 8 business days of the
    request, result within 25)."""

    target: int  # business days
    stage: str  # Spanish
    since: dt.date

    def elapsed(self, today: dt.date) -> int:
        return deadlines.business_days_between(self.since, today)

    def due(self) -> dt.date:
        return deadlines.add_business_days(self.since, self.target)


def running_clock(f: CaseFacts, request_date: dt.date) -> Clock | None:
    """The clock a case is measured against today, or None when none runs: a dropped
    case (desestimación stops its clocks) or one with its result. A request routed
    without visit has no visit clock, only the result clock."""
    st = case_state(f)
    if st in (CaseState.DROPPED, CaseState.RESULT):
        return None
    if f.route == Route.FSU and not f.visited:
        stage = "Visita fallida: volver a visitar" if st == CaseState.VISIT_FAILED else (
            CASE_STATE_LABELS[CaseState.VISIT_PENDING])
        return Clock(deadlines.VISIT_TARGET_DAYS, stage, request_date)
    return Clock(deadlines.RESULT_TARGET_DAYS, CASE_STATE_LABELS[st], request_date)
