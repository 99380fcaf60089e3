"""The documents part of the workspace (`ws.documents`): the supervisor's dashboard,
exports (CSV / Excel) and the household's constancia data.

Every operation checks the logged-in role here, below any screen. Long reads
(dashboard, exports) hold the workspace lock one record at a time, so a bulk
operation never freezes the other users of the workspace (the GUI thread)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core import cases as cases_rules
from app.core import deadlines
from app.core.audit_actions import AuditAction
from app.core.errors import NotAllowed, SieeError, ValidationError
from app.core.roles import Perm
from app.core.states import STATE_LABELS, State
from app.core.ubigeo import catalog
from app.forms import FormDef, FormSession, NodeDef, list_bundled
from app.forms.library import FormLibrary
from app.store import stats
from app.store.db import transaction
from app.store.records import RecordMeta
from app.workspace import exports
from app.workspace.cases import Case, Cases
from app.workspace.context import Context, locked
from app.workspace.records import Records
from app.workspace.settings import Settings

log = logging.getLogger("siee.workspace.documents")

CSE_LABELS = {
    "pobre_extremo": "Pobre extremo",
    "pobre": "Pobre",
    "no_pobre": "No pobre",
}
DASHBOARD_DAYS = 14
WAITING_LIMIT = 30


def cse_label(category: str | None) -> str:
    c = (category or "").strip().lower().replace(" ", "_")
    return CSE_LABELS.get(c, category or "")


def _summary_head(m: RecordMeta) -> tuple[str, str]:
    s = {} if m.damaged else (m.summary or {})
    return (s.get("head_name") or s.get("head") or "", s.get("head_dni") or s.get("dni") or "")


@dataclass(frozen=True)
class EnumeratorRow:
    user_id: int
    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    created: int = 0
    completed: int = 0
    approved: int = 0
    delivered: int = 0


@dataclass(frozen=True)
class WaitingItem:
    """A household still waiting for the visit or the result, against its target."""

    uuid: str  # the record to open (the FSU when there is one, else the S100)
    head_name: str
    enumerator: str
    stage: str  # Spanish
    since: dt.date  # the request date (or the FSU's when no S100 is linked)
    elapsed: int  # business days since `since`
    target: int  # 8 (visit) or 25 (result)
    due: dt.date

    @property
    def overdue(self) -> bool:
        return self.elapsed > self.target

    @property
    def status(self) -> str:
        return deadlines.deadline_text(self.elapsed, self.target)


@dataclass
class Dashboard:
    today: dt.date
    counts: dict[str, int]
    by_enumerator: list[EnumeratorRow]
    by_day: list[DayRow]
    returned_by_supervisor: int
    returned_by_centre: int
    results: dict[str, int]  # Spanish CSE label -> count
    oldest_queued_at: float | None
    oldest_complete_at: float | None
    waiting: list[WaitingItem]
    quarantined: int = 0  # kept apart after a conflict reported by the centre
    visits_pending: int = 0
    visits_overdue: int = 0
    results_pending: int = 0
    results_overdue: int = 0
    households: int = 0  # cases (one S100 and its records): one household counted once
    cases: dict[str, int] = field(default_factory=dict)  # Spanish case state -> count
    dropped: int = 0  # desestimadas: no clock runs for them
    queue: int = 0  # the send queue: every record the next sync sends (SyncStatus.pending)


@dataclass(frozen=True)
class ExportResult:
    kind: str
    fmt: str
    path: Path
    rows: int


@dataclass
class Member:
    orden: int
    nombre: str
    documento: str
    parentesco: str
    sexo: str
    edad: str


@dataclass
class ConstanciaData:
    uuid: str
    revision: int
    form_title: str
    municipality: str
    place: str
    ule_ubigeo: str
    visit_date: str
    enumerator: str
    head_name: str
    address: str
    members: list[Member]
    answers: list[tuple[str, str]]
    state_label: str
    result: dict[str, str] | None  # {"category", "date", "valid_until"} as Spanish text
    issued_at: dt.datetime
    issued_by: str
    notes: list[str] = field(default_factory=list)
    reference: str = ""  # the «N° de expediente» of the household's request (case_reference)


# -- the part ------------------------------------------------------------------------------------
class Documents:
    """Dashboard, exports and constancia (`ws.documents`)."""

    def __init__(
        self, ctx: Context, records: Records, forms: FormLibrary, settings: Settings,
        cases: Cases,
    ) -> None:
        self.cases = cases
        self.ctx = ctx
        self.records = records
        self.forms = forms
        self.settings = settings

    @locked
    def record_export(self, kind: str, rows: int, target_name: str) -> None:
        """Leave an export's trace in the audit log (exports written elsewhere, e.g. the
        CLI's, call this too)."""
        self.ctx.require(Perm.EXPORT)
        with transaction(self.ctx.db) as conn:
            self.ctx.audit(
                conn,
                AuditAction.EXPORT,
                detail={"kind": kind, "rows": rows, "file": Path(target_name).name},
            )

    def _formdef(self, form_id: str, version: str) -> FormDef:
        return self.forms.get(form_id, version)

    # dashboard -------------------------------------------------------------------------------
    def dashboard(self, today: dt.date | None = None) -> Dashboard:
        """Counts per state, per enumerator and per day, delivery and results, and the
        households waiting longest against the 8 / 25 business-day targets.

        The «fichas» counted are the household's forms (S100, FSU), those a dropped
        case holds apart under app.core.cases.HELD (ws.cases.form_counts, as the
        records list counts them): a visit attempt or a desestimación is a step of its
        case (app.core.cases.CASE_STEPS), counted in its case, never reviewed, and sent
        like any record (`queue`, the send queue of the sync status, and the oldest
        queued record include them). The oldest record waiting for review is one the supervisor has
        to review now (app.core.cases.awaits_review: not a step, not held by a dropped
        case)."""
        with self.ctx.lock:
            self.ctx.require(Perm.RECORD_VIEW_ALL)
            conn = self.ctx.conn
            today = today or dt.date.fromtimestamp(self.ctx.clock())
            counts = self.cases.form_counts()
            # the send queue as the sync status counts it (every record, steps too)
            queue = self.ctx.session.records.sync_counts(conn)[0][State.QUEUED]
            people = self.ctx.people()
            days = self._per_day(today)
            oldest_queued = stats.oldest_queued(conn)
            quarantined = self.ctx.session.records.count_quarantined(conn)
            returned = self.ctx.session.records.list(conn, "state=?", (State.RETURNED.value,))
        by_sup = by_centre = 0
        for m in returned:
            source = self._last_return_source(m)
            if source == "supervisor":
                by_sup += 1
            else:
                by_centre += 1
        all_cases = self.cases.list(today)
        oldest_complete = min(
            (m.completed_at or 0.0 for c in all_cases for m in c.records
             if cases_rules.awaits_review(m.form_id, m.state, c.dropped)), default=None)
        owned: dict[int, list[tuple[str, str, bool]]] = {}
        for c in all_cases:  # per owner, by the rule of `counts` (held forms apart)
            for m in c.records:
                owned.setdefault(m.owner_id, []).append((m.form_id, m.state, c.dropped))
        per_user = {owner: cases_rules.form_counts(recs) for owner, recs in owned.items()}
        per_user = {o: n for o, n in per_user.items() if any(n.values())}  # steps only: none
        results: dict[str, int] = {}
        case_counts: dict[str, int] = {}
        for c in all_cases:  # a result belongs to the case: one household counted once
            case_counts[c.state_label] = case_counts.get(c.state_label, 0) + 1
            if c.result is not None:
                label = cse_label(c.result.get("category")) or "Sin categoría"
                results[label] = results.get(label, 0) + 1
        by_enum = sorted(
            (EnumeratorRow(uid, people.get(uid, "?"), c) for uid, c in per_user.items()),
            key=lambda r: (-r.total, r.name),
        )
        waiting = self._waiting(today, people, all_cases)
        dash = Dashboard(
            today=today,
            counts=counts,
            queue=queue,
            by_enumerator=by_enum,
            by_day=days,
            returned_by_supervisor=by_sup,
            returned_by_centre=by_centre,
            results=results,
            oldest_queued_at=oldest_queued,
            oldest_complete_at=oldest_complete,
            waiting=sorted(waiting, key=lambda w: (-w.elapsed / w.target, w.since))[:WAITING_LIMIT],
            quarantined=int(quarantined),
            households=len(all_cases),
            cases=case_counts,
            dropped=sum(c.dropped for c in all_cases),
        )
        for w in waiting:
            if w.target == deadlines.VISIT_TARGET_DAYS:
                dash.visits_pending += 1
                dash.visits_overdue += w.overdue
            else:
                dash.results_pending += 1
                dash.results_overdue += w.overdue
        return dash

    def _per_day(self, today: dt.date) -> list[DayRow]:
        start = today - dt.timedelta(days=DASHBOARD_DAYS - 1)
        start_ts = dt.datetime.combine(start, dt.time()).timestamp()
        tallies: dict[str, dict[dt.date, int]] = {}
        for col in ("created_at", "completed_at", "approved_at", "delivered_at"):
            got: dict[dt.date, int] = {}
            for ts in stats.timestamps_since(self.ctx.conn, col, start_ts,
                                             exclude_forms=cases_rules.CASE_STEPS):
                d = dt.date.fromtimestamp(ts)
                got[d] = got.get(d, 0) + 1
            tallies[col] = got
        out = []
        for i in range(DASHBOARD_DAYS):
            d = start + dt.timedelta(days=i)
            out.append(
                DayRow(
                    d,
                    tallies["created_at"].get(d, 0),
                    tallies["completed_at"].get(d, 0),
                    tallies["approved_at"].get(d, 0),
                    tallies["delivered_at"].get(d, 0),
                )
            )
        return out

    def _notes_of(self, m: RecordMeta) -> dict:
        with self.ctx.lock:
            try:
                return self.ctx.session.records.notes(self.ctx.conn, m)
            except SieeError:
                log.warning("notes of a record could not be read")
                return {}

    def _last_return_source(self, m: RecordMeta) -> str:
        returns = self._notes_of(m).get("returns") or []
        return str(returns[-1].get("source") or "centre") if returns else "centre"

    def _request_date(self, m: RecordMeta) -> dt.date:
        """The S100's fecha_solicitud (paper requests are typed later), else its creation."""
        with self.ctx.lock:
            try:
                flat = exports.answers_flat(self.ctx.session.records.answers(self.ctx.conn, m))
            except SieeError:
                flat = {}
        for path, value in flat.items():
            if path.endswith("/fecha_solicitud") and value:
                try:
                    return dt.date.fromisoformat(value[:10])
                except ValueError:
                    break
        return dt.date.fromtimestamp(m.created_at)

    def _waiting(self, today: dt.date, people: dict[int, str],
                 all_cases: list[Case]) -> list[WaitingItem]:
        """Cases (households) whose clock runs (app/core/cases.py: a dropped case or one
        with its result has none; a request without visit only the result clock)."""
        out: list[WaitingItem] = []
        for c in all_cases:
            clock = c.clock
            if clock is None:
                continue
            fsus = c.fsus
            shown = max(fsus, key=lambda x: x.updated_at) if fsus else (c.request or c.records[0])
            stage = _stage(shown.state) if fsus else clock.stage
            elapsed = clock.elapsed(today)
            out.append(WaitingItem(
                uuid=shown.uuid,
                head_name=c.head_name or "(sin nombre)",
                enumerator=people.get(shown.owner_id, "?"),
                stage=stage,
                since=clock.since,
                elapsed=elapsed,
                target=clock.target,
                due=clock.due(),
            ))
        return out

    # exports ------------------------------------------------------------------------------------
    def export_data(
        self,
        kind: str,
        fmt: str,
        path: Path | str,
        form_id: str | None = None,
        state: State | str | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExportResult:
        """Write the record list ("records"), the answers ("answers", one row per
        record) or the household members ("members") of `form_id` to `path`
        as csv or xlsx. Raises exports.ExportCancelled when cancelled."""
        path = Path(path)
        if kind not in exports.KINDS:
            raise ValidationError(
                f"unknown export kind {kind!r}", "Tipo de exportación desconocido."
            )
        if fmt not in exports.FORMATS:
            raise ValidationError(f"unknown format {fmt!r}", "Formato de archivo desconocido.")
        if kind == "cases":
            return self._export_cases(fmt, path, cancelled)
        if kind != "records" and not form_id:
            raise ValidationError(
                "answers export needs a form", "Elija el formulario cuyas respuestas exportará."
            )
        if not path.parent.is_dir():
            raise ValidationError(
                "export folder missing", "La carpeta elegida no existe. Elija otra ubicación."
            )
        with self.ctx.lock:
            self.ctx.require(Perm.EXPORT)
            metas = self.records.list(state=state, form_id=form_id)
            people = self.ctx.people()
        metas.sort(key=lambda m: m.created_at)
        if kind == "records":
            table = self._records_table(metas, people, progress)
        else:
            fd = self._formdef(form_id or "", self._latest_version(form_id or "", metas))
            if kind == "answers":
                table = self._answers_table(fd, metas, people, progress)
            else:
                table = self._members_table(fd, metas, progress)
        try:
            n = exports.write_table(path, table, fmt, cancelled)
        except OSError as e:
            raise ValidationError(
                f"export write failed: {e.__class__.__name__}",
                "No se pudo escribir el archivo. Revise que la carpeta permita escribir, que el "
                "archivo no esté abierto en otro programa y que haya espacio en el disco.",
            ) from None
        label = f"{kind}:{form_id or 'todos'}:{State(state).value if state else 'todos'}:{fmt}"
        self.record_export(label, n, str(path))
        return ExportResult(kind, fmt, path, n)

    def _export_cases(self, fmt: str, path: Path,
                      cancelled: Callable[[], bool] | None) -> ExportResult:
        """One row per case (household): its request, route, state, visits, clock and
        result (issue 15: exports count cases)."""
        self.ctx.require(Perm.EXPORT)
        if not path.parent.is_dir():
            raise ValidationError(
                "export folder missing", "La carpeta elegida no existe. Elija otra ubicación.")
        today = dt.date.fromtimestamp(self.ctx.clock())
        all_cases = self.cases.list(today)
        C = exports.Column
        cols = [
            C("case", "Código del expediente", width=38),  # the uuid: joins with other files
            C("reference", "N° de expediente", width=16),  # what people read (case_reference)
            C("head", "Solicitante / jefe de hogar", width=34),
            C("dni", "DNI", width=11),
            C("option", "Tipo de solicitud", width=30),
            C("route", "Ruta", width=26),
            C("state", "Estado del expediente", width=24),
            C("request_date", "Fecha de la solicitud", width=14),
            C("forms", "Formularios", width=24),
            C("visits", "Intentos de visita", "integer", 10),
            C("failed", "Visitas fallidas", "integer", 10),
            C("elapsed", "Días hábiles transcurridos", "integer", 12),
            C("target", "Meta (días hábiles)", "integer", 10),
            C("result", "Resultado CSE", width=16),
            C("enumerator", "Empadronador(a)", width=24),
        ]

        def rows() -> Iterator[list[Any]]:
            for c in all_cases:
                yield [
                    c.case_uuid, c.reference, c.head_name, c.head_dni,
                    f"{c.option_code} {c.option_label}".strip(), c.route_label, c.state_label,
                    c.request_date.strftime("%d/%m/%Y"),
                    ", ".join(sorted({m.form_id.upper() for m in c.records})),
                    len(c.visits), sum(v.failed for v in c.visits),
                    c.clock.elapsed(today) if c.clock else None,
                    c.clock.target if c.clock else None,
                    cse_label((c.result or {}).get("category")) if c.result else "",
                    c.enumerator,
                ]

        try:
            n = exports.write_table(path, exports.Table("Expedientes", cols, rows()), fmt,
                                    cancelled)
        except OSError as e:
            raise ValidationError(
                f"export write failed: {e.__class__.__name__}",
                "No se pudo escribir el archivo. Revise que la carpeta permita escribir, que el "
                "archivo no esté abierto en otro programa y que haya espacio en el disco.",
            ) from None
        self.record_export(f"cases:todos:todos:{fmt}", n, str(path))
        return ExportResult("cases", fmt, path, n)

    def _latest_version(self, form_id: str, metas: list[RecordMeta]) -> str:
        for f, v, _t in list_bundled():
            if f == form_id:
                return str(v)
        return max((m.form_version for m in metas), default="")

    def _progress_iter(
        self, metas: list[RecordMeta], progress: Callable[[int, int], None] | None
    ) -> Iterator[RecordMeta]:
        n = len(metas)
        step = max(1, n // 200)
        for i, m in enumerate(metas, 1):
            yield m
            if progress and (i % step == 0 or i == n):
                progress(i, n)

    def _answers_of(self, m: RecordMeta) -> dict[str, str]:
        with self.ctx.lock:
            self.ctx.me()  # the session may have ended mid-export
            return exports.answers_flat(self.ctx.session.records.answers(self.ctx.conn, m))

    def _records_table(
        self,
        metas: list[RecordMeta],
        people: dict[int, str],
        progress: Callable[[int, int], None] | None,
    ) -> exports.Table:
        C = exports.Column
        cols = [
            C("uuid", "Código de ficha", width=38),
            C("form", "Formulario", width=30),
            C("state", "Estado", width=18),
            C("revision", "Revisión", "integer", 9),
            C("head", "Jefe de hogar / solicitante", width=34),
            C("dni", "DNI", width=11),
            C("members", "N° de integrantes", "integer", 10),
            C("distrito", "Distrito", width=20),
            C("provincia", "Provincia", width=18),
            C("departamento", "Departamento", width=16),
            C("enumerator", "Empadronador(a)", width=24),
            C("created", "Fecha de registro", "datetime", 17),
            C("completed", "Fecha de completado", "datetime", 17),
            C("approved", "Fecha de aprobación", "datetime", 17),
            C("approved_by", "Aprobada por", width=20),
            C("delivered", "Fecha de entrega al SIEE", "datetime", 17),
            C("warnings", "Advertencias", "integer", 12),
            C("updated", "Última modificación", "datetime", 17),
        ]
        titles = {f: t for f, _v, t in list_bundled()}

        def rows() -> Iterator[list[Any]]:
            for m in self._progress_iter(metas, progress):
                head, dni = _summary_head(m)
                s = {} if m.damaged else m.summary
                dist, prov, dep = exports.ubigeo_names(str(s.get("ubigeo") or m.ule_ubigeo or ""))
                yield [
                    m.uuid,
                    titles.get(m.form_id, m.form_id),
                    STATE_LABELS.get(State(m.state), m.state),
                    m.revision,
                    head if not m.damaged else "(ficha dañada)",
                    dni,
                    int(s.get("members") or 0) or None,
                    dist,
                    prov,
                    dep,
                    people.get(m.owner_id, ""),
                    exports.local_dt(m.created_at),
                    exports.local_dt(m.completed_at),
                    exports.local_dt(m.approved_at),
                    people.get(m.approved_by, "") if m.approved_by else "",
                    exports.local_dt(m.delivered_at),
                    m.warnings,
                    exports.local_dt(m.updated_at),
                ]

        return exports.Table("Fichas", cols, rows())

    def _answers_table(
        self,
        fd: FormDef,
        metas: list[RecordMeta],
        people: dict[int, str],
        progress: Callable[[int, int], None] | None,
    ) -> exports.Table:
        labels = exports.FormLabels(fd)
        qcols = labels.question_columns(fd.root)
        C = exports.Column
        head_cols = [
            C("uuid", "Código de ficha", width=38),
            C("state", "Estado", width=18),
            C("revision", "Revisión", "integer", 9),
            C("enumerator", "Empadronador(a)", width=24),
        ]
        cols = head_cols + [c for _nd, c in qcols]

        def rows() -> Iterator[list[Any]]:
            for m in self._progress_iter(metas, progress):
                flat = self._answers_of(m)
                row: list[Any] = [
                    m.uuid,
                    STATE_LABELS.get(State(m.state), m.state),
                    m.revision,
                    people.get(m.owner_id, ""),
                ]
                for nd, col in qcols:
                    row.append(_typed(nd, col, flat.get(col.key, ""), labels))
                yield row

        return exports.Table("Respuestas", cols, rows())

    def _members_table(
        self, fd: FormDef, metas: list[RecordMeta], progress: Callable[[int, int], None] | None
    ) -> exports.Table:
        rep = exports.find_repeat(fd)
        if rep is None:
            raise ValidationError(
                f"form {fd.form_id} has no members repeat",
                "Este formulario no tiene una lista de integrantes del hogar.",
            )
        labels = exports.FormLabels(fd)
        qcols = labels.question_columns(rep)
        C = exports.Column
        cols = [
            C("uuid", "Código de ficha", width=38),
            C("head", "Jefe de hogar / solicitante", width=34),
            C("orden", "N° de orden", "integer", 10),
        ] + [c for _nd, c in qcols]
        base = rep.path_str
        n_parts = len(rep.path)

        def rows() -> Iterator[list[Any]]:
            for m in self._progress_iter(metas, progress):
                flat = self._answers_of(m)
                positions = sorted(
                    {
                        int(p[len(base) + 1 :].split("]", 1)[0])
                        for p in flat
                        if p.startswith(base + "[")
                    }
                )
                head, _dni = _summary_head(m)
                for pos in positions:
                    row: list[Any] = [m.uuid, head, pos]
                    for nd, col in qcols:
                        rel = "/".join(nd.path[n_parts:])
                        row.append(_typed(nd, col, flat.get(f"{base}[{pos}]/{rel}", ""), labels))
                    yield row

        return exports.Table("Integrantes", cols, rows())

    # constancia ---------------------------------------------------------------------------
    def constancia(self, uuid: str) -> ConstanciaData:
        """What the household's constancia de empadronamiento shows; leaves an audit entry."""
        with self.ctx.lock:
            me = self.ctx.me()
            m = self.records.get(uuid)
            if m.form_id != "fsu":
                raise ValidationError(
                    "constancia needs an FSU",
                    "La constancia de empadronamiento se emite desde la FSU del hogar, no desde "
                    "la solicitud S100.",
                )
            if m.state in (State.DRAFT.value, State.RETURNED.value):
                raise NotAllowed(
                    f"constancia refused in state {m.state}",
                    "La constancia se emite cuando la FSU está completa. Complete la ficha "
                    "primero.",
                )
            answers = self.ctx.session.records.answers(self.ctx.conn, m)
            notes = self.ctx.session.records.notes(self.ctx.conn, m)
            people = self.ctx.people()
            ule = m.ule_ubigeo or self.settings.get("ule_ubigeo") or ""
            with transaction(self.ctx.db) as conn:
                self.ctx.audit(conn, AuditAction.CONSTANCIA, m.uuid, detail={"rev": m.revision})
        fd = self._formdef(m.form_id, m.form_version)
        session = FormSession.from_json(fd, answers)
        labels = exports.FormLabels(fd, session.language)
        flat = session.answers()

        def text(path: str) -> str:
            try:
                return labels.value_text(fd.node(path), flat.get(path, ""))
            except KeyError:
                return ""

        members: list[Member] = []
        rep = exports.find_repeat(fd)
        if rep is not None:
            for i in range(1, session.repeat_count(rep.path_str) + 1):
                p = f"{rep.path_str}[{i}]"
                name = _member_name(session, p)
                tipo, num = text(f"{p}/tipo_doc"), flat.get(f"{p}/num_doc", "")
                members.append(
                    Member(
                        orden=i,
                        nombre=name,
                        documento=f"{tipo} {num}".strip() if num else tipo,
                        parentesco=text(f"{p}/parentesco"),
                        sexo=text(f"{p}/sexo"),
                        edad=flat.get(f"{p}/edad", ""),
                    )
                )
        main: list[tuple[str, str]] = []
        for nd, col in labels.question_columns(fd.root):
            if nd.path[1] in ("ubicacion", "control"):
                continue
            value = flat.get(col.key, "")
            if value != "":
                main.append((col.label, labels.value_text(nd, value)))
        district = catalog().get(ule)
        if district is None:
            municipality, place = "Municipalidad", ""
        elif ule.endswith("01"):
            municipality = f"Municipalidad Provincial de {district.provincia}"
            place = f"{district.distrito}, {district.provincia}, {district.departamento}"
        else:
            municipality = f"Municipalidad Distrital de {district.distrito}"
            place = f"{district.distrito}, {district.provincia}, {district.departamento}"
        root = fd.root.name
        address = exports.street_address(fd, flat, f"/{root}/ubicacion")
        dist, prov, dep = exports.ubigeo_names(flat.get(f"/{root}/ubicacion/distrito", ""))
        if dist:
            address = f"{address} — {dist}, {prov}, {dep}" if address else f"{dist}, {prov}, {dep}"
        result = None
        # A result belongs to the case: the FSU shows the one posted on its request.
        case = self.cases.get(self.cases.case_of(m.uuid))
        res = notes.get("result") or case.result
        if res:
            result = {
                "category": cse_label(res.get("category")),
                "date": exports.format_date(str(res.get("date") or res.get("result_date") or "")),
                "valid_until": exports.format_date(str(res.get("valid_until") or "")),
            }
        head, _dni = _summary_head(m)
        visit = flat.get(f"/{root}/control/fecha_visita", "")
        if not visit and m.completed_at:
            visit = dt.date.fromtimestamp(m.completed_at).isoformat()
        enumerator = flat.get(f"/{root}/control/empadronador", "") or people.get(m.author_id, "")
        return ConstanciaData(
            uuid=m.uuid,
            revision=m.revision,
            form_title=fd.title,
            municipality=municipality,
            place=place,
            ule_ubigeo=ule,
            visit_date=exports.format_date(visit),
            enumerator=enumerator,
            head_name=head,
            address=address,
            members=members,
            answers=main,
            state_label=STATE_LABELS.get(State(m.state), m.state),
            result=result,
            issued_at=dt.datetime.fromtimestamp(self.ctx.clock()).replace(microsecond=0),
            issued_by=people.get(me.id, me.username),
            reference=case.reference,
        )


def _typed(nd: NodeDef, col: exports.Column, value: str, labels: exports.FormLabels) -> Any:
    if value == "":
        return None
    if nd.is_select:
        return labels.value_text(nd, value)
    return exports.cell_value(col, value)


def _member_name(session: FormSession, prefix: str) -> str:
    def get(name: str) -> str:
        try:
            return session.get(f"{prefix}/{name}")
        except Exception:  # noqa: BLE001 - forms without the field
            return ""

    apellidos = " ".join(x for x in (get("apellido_paterno"), get("apellido_materno")) if x) or get(
        "apellidos"
    )
    nombres = get("nombres")
    if apellidos and nombres:
        return f"{apellidos}, {nombres}"
    return apellidos or nombres


def _stage(state: str) -> str:
    return {
        State.DRAFT.value: "FSU en borrador",
        State.COMPLETE.value: "FSU en revisión del supervisor",
        State.QUEUED.value: "FSU en cola de envío",
        State.DELIVERED.value: "Entregada, esperando resultado",
        State.RETURNED.value: "FSU observada, por corregir",
    }.get(state, STATE_LABELS.get(State(state), state))
