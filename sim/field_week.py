"""A week in a ULE: the whole loop on a simulated clock, with real parts.

One reference server (a `python -m server serve` subprocess on 127.0.0.1), three
laptops (real encrypted SQLite workspaces in their own data folders, driven only
through app.workspace.Workspace), the real sync client over a local TCP proxy that
is the municipality's link, and the centre acting through the server's admin API
and CLI. See docs/field-week.md for the model and its choices.

Time. Each laptop workspace gets `SimClock` as its clock, so every record, audit
entry and receipt on the laptops carries simulated time; the scheduler's decisions
(app.sync.scheduler.SchedulePolicy: probe, interval, backoff with jitter) are taken
on simulated time too. Requests are still signed with the real clock (the server's
±300 s window is about real time), which the sync client does by itself. Work
happens in zero simulated time; the simulated clock only moves between events, so
the figures do not depend on how fast this computer is.

Determinism. Every random choice comes from the seed (households, who enters what
when, the centre's decisions and delays, the scheduler's jitter, record uuids), the
faults strike at fixed points of the protocol (after the server stored a batch,
before the laptop got its receipt), and the figures are taken from simulated times.
Only the batch ids and the real seconds differ from run to run."""

from __future__ import annotations

import calendar
import hashlib
import heapq
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from app.core.roles import Role  # noqa: E402
from app.core.states import State  # noqa: E402
from app.demo import make_household  # noqa: E402
from app.demo_answers import fsu_answers, s100_answers  # noqa: E402
from app.forms import FormSession, bundled_form  # noqa: E402
from app.store.crypto import KdfParams  # noqa: E402
from app.sync import protocol as p  # noqa: E402
from app.sync.client import SyncClient  # noqa: E402
from app.sync.model import SyncError  # noqa: E402
from app.sync.scheduler import Backoff, ProbeAndSync, SchedulePolicy, attempt  # noqa: E402
from app.workspace import Workspace  # noqa: E402
from devtools.netsim import NetProxy  # noqa: E402
from server.testing import RunningServer, running_server  # noqa: E402

MIN = 60.0
H = 3600.0
DAY = 86400.0
WEEK = 5 * DAY  # working time: weekends are left out of the simulated clock

ULE = "081210"  # Ocongate (Quispicanchi, Cusco): a rural district, INEI code
WEEK_START = date(2026, 11, 9)  # a Monday (dates must not be in the future: forms check it)
LIMA_OFFSET = -5 * H
BASE_EPOCH = calendar.timegm(WEEK_START.timetuple()) - LIMA_OFFSET  # Monday 00:00 in Lima

# The scrypt cost of the tests (the production cost only slows log-ins down).
KDF = KdfParams(n=2**10, r=8, p=1)
PASSWORDS = {
    "soporte": "soporte-ule-2026",
    "ana": "ana-campo-2026",
    "luis": "luis-campo-2026",
    "rosa": "rosa-ule-2026",
}
ROLES = {"ana": Role.EMPADRONADOR, "luis": Role.EMPADRONADOR, "rosa": Role.SUPERVISOR}
NAMES = {
    "ana": "Ana Quispe Mamani",
    "luis": "Luis Huamán Condori",
    "rosa": "Rosa Apaza Ticona",
}
RETURN_REASONS = (
    "El DNI del integrante 2 no coincide con RENIEC; verifique el número con el documento.",
    "Falta el número de suministro eléctrico del recibo; regístrelo.",
    "La edad del cónyuge no es consistente con la fecha de nacimiento registrada.",
    "Dirección incompleta: indique una referencia para ubicar la vivienda.",
    "El teléfono de contacto no responde; confirme el número con el hogar.",
)
CATEGORIES = (("pobre_extremo", 0.2), ("pobre", 0.35), ("no_pobre", 0.45))


@dataclass(frozen=True)
class Config:
    seed: int = 2026
    days: int = 5  # working days with new households
    households_per_day: int = 40
    # Link windows (start, length) and the other fixed times of a working day.
    windows: tuple[tuple[float, float], ...] = ((9 * H, 15 * MIN), (15 * H, 15 * MIN))
    rounds: tuple[float, ...] = (12 * H, 17 * H)  # supervisor approval rounds
    usb_trips: tuple[float, ...] = (12.5 * H, 17.5 * H)  # the stick goes to the centre
    fix_at: float = 8.25 * H  # enumerators fix the returned records
    power: tuple[float, float] = (8 * H, 18 * H)  # laptops on (the program running)
    entry_span: tuple[float, float] = (8.5 * H, 16.5 * H)
    return_rate: float = 0.05
    centre_delay: tuple[float, float] = (2 * H, 30 * H)  # delivery -> return or result
    faults: bool = True
    usb_inbox: bool = True  # carry the inbox on the stick (False: the centre ignores the
    # laptop's inbox request, to measure what the USB inbox brings)
    kill_at: tuple[int, int] = (1, 0)  # (day, window): campo-1 killed mid-sync
    restart_at: tuple[int, int] = (2, 1)  # (day, window): server restarted mid-upload
    corrupt_at: tuple[int, int] = (1, 0)  # (day, trip): a batch file damaged on the stick
    reboot_s: float = 120.0  # a killed laptop is working again after this
    max_extra_days: int = 10  # days after the last one with households, to settle
    sync_interval: float = 300.0  # the scheduler's default
    # Cases (issue 15): every Nth household is found absent once before its interview
    # (a failed visit, its own record), and requests that never get an interview are
    # dropped (desestimación) by the supervisor at her first round.
    failed_visit_every: int = 6
    dropped_requests: int = 1

    @staticmethod
    def small(seed: int = 2026) -> Config:
        return Config(seed=seed, days=2, households_per_day=12, kill_at=(0, 1),
                      restart_at=(1, 0), corrupt_at=(0, 0))

    def split(self) -> tuple[int, int, int]:
        """Households a day per laptop: campo-1, campo-2, oficina (3:3:2)."""
        n = self.households_per_day
        a = round(n * 3 / 8)
        b = round(n * 3 / 8)
        return a, b, max(0, n - a - b)


class SimClock:
    """Simulated working time `w` (seconds since Monday 00:00, weekends left out) and
    the epoch seconds the laptops see; strictly increasing for the workspaces."""

    def __init__(self) -> None:
        self.w = 0.0
        self._last = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def epoch(w: float) -> float:
        return BASE_EPOCH + w + int(w // WEEK) * 2 * DAY

    @staticmethod
    def day_date(day: int) -> date:
        return WEEK_START + timedelta(days=day + (day // 5) * 2)

    def __call__(self) -> float:
        with self._lock:
            self._last = max(self.epoch(self.w), self._last + 1e-6)
            return self._last


def day_of(w: float) -> int:
    return int(w // DAY)


def hhmm(w: float) -> str:
    s = int(round(w % DAY))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


@dataclass
class Household:
    index: int
    uuid: str
    laptop: str
    author: str
    day: int
    at: float
    answers: dict[str, Any]
    category: str
    to_return: bool
    reason: str


@dataclass
class Rev:
    """One approved revision of a household's record, as the simulation saw it."""

    uuid: str
    revision: int
    laptop: str
    author: str
    channel: str  # "red" or "usb"
    approved: float
    ideal: float  # the first chance to reach the centre (window start or USB trip)
    held: float | None = None  # the centre first held it
    on_laptop: float | None = None  # the laptop marked it delivered
    centre: str | None = None  # "returned" or "result"
    decided: float | None = None
    reasons: list[str] = field(default_factory=list)
    category: str | None = None
    return_seen: float | None = None  # the laptop shows it returned
    return_read: bool = False  # its author read the centre's reason on the laptop
    result_seen: float | None = None  # the laptop shows the CSE result


@dataclass
class CaseRec:
    """A record of a case that is not a household's FSU: a failed visit, the S100 and the
    visits of a dropped request, its desestimación (issue 15)."""

    uuid: str
    laptop: str
    kind: str  # visita | s100 | desestimacion
    approved: float | None = None  # approved, or queued without review (a visit attempt,
    # the supervisor's own decision)
    held: float | None = None  # the centre first held it
    on_laptop: float | None = None  # the laptop marked it delivered


@dataclass
class Laptop:
    name: str
    label: str
    data_dir: Path
    usb: bool
    authors: tuple[str, ...]
    home_user: str
    backoff_rng: random.Random
    ws: Workspace | None = None
    client: SyncClient | None = None
    policy: SchedulePolicy | None = None
    user: str | None = None
    device_id: str = ""
    window_seen: int = -1  # last link window in which it synced

    def has_work(self) -> bool:
        assert self.ws is not None
        return self.ws.centre.outbox_count() + len(self.ws.centre.pending_batches()) > 0


@dataclass
class Event:
    w: float
    kind: str
    text: str


@dataclass
class Result:
    config: Config
    figures: dict[str, float]
    extra: dict[str, float]
    days: list[dict[str, Any]]
    events: list[Event]
    queue: list[tuple[float, int, int]]  # (w, waiting on link laptops, waiting on USB)
    windows: list[tuple[float, float]]
    trips: list[float]
    sim_days: int
    seconds: float
    trace: str


class FieldWeek:
    def __init__(self, cfg: Config, workdir: Path, log: Callable[[str], None] | None = None
                 ) -> None:
        self.cfg = cfg
        self.workdir = workdir
        self.log = log or (lambda s: None)
        self.clock = SimClock()
        self.rng = random.Random(cfg.seed)
        self.heap: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self.households: dict[str, Household] = {}
        self.revs: dict[tuple[str, int], Rev] = {}
        self.revs_by_uuid: dict[str, list[Rev]] = {}
        self.case_recs: dict[str, CaseRec] = {}
        self.to_drop: list[tuple[str, str]] = []  # (laptop, request uuid) for the next round
        self.events: list[Event] = []
        self.queue: list[tuple[float, int, int]] = []
        self.window_log: list[tuple[float, float]] = []
        self.trip_log: list[float] = []
        self.faults_done: dict[str, int] = {"kill": 0, "restart": 0, "corrupt": 0}
        self.unplanned_failures = 0
        self.restart_seconds = 0.0
        self.anomalies: list[str] = []
        self.window_lags: list[float] = []
        self.probes = 0
        self.syncs = 0
        self.server_dir = workdir / "servidor"
        self.stick = workdir / "usb"
        self.srv: RunningServer | None = None
        self._srv_ctx: Any = None
        self.proxy: NetProxy | None = None
        self.fsu_version = str(bundled_form("fsu").version)
        self.laptops: dict[str, Laptop] = {}
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT)] + ([self.env["PYTHONPATH"]] if self.env.get("PYTHONPATH") else []))

    # -- plumbing -----------------------------------------------------------------------
    @property
    def w(self) -> float:
        return self.clock.w

    def push(self, w: float, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (w, self._seq, kind, args))

    def note(self, kind: str, text: str) -> None:
        self.events.append(Event(self.w, kind, text))
        self.log(f"día {day_of(self.w) + 1} {hhmm(self.w)} {text}")

    @property
    def admin(self) -> Any:
        assert self.srv is not None
        return self.srv.admin

    def start_server(self) -> None:
        self._srv_ctx = running_server(data_dir=self.server_dir, log_level="warning",
                                       rate_per_minute=0)
        self.srv = self._srv_ctx.__enter__()

    def stop_server(self, kill: bool = False) -> None:
        if self.srv is None:
            return
        if kill:
            self.srv.process.kill()
            self.srv.process.wait()
        self._srv_ctx.__exit__(None, None, None)
        self.srv = None

    def switch(self, lap: Laptop, user: str) -> Workspace:
        assert lap.ws is not None
        if lap.user != user:
            lap.ws.logout()
            lap.ws.login(user, PASSWORDS[user])
            lap.user = user
        return lap.ws

    def open_laptop(self, lap: Laptop, user: str) -> None:
        lap.ws = Workspace.open(lap.data_dir, clock=self.clock, kdf=KDF)
        lap.ws.login(user, PASSWORDS[user])
        lap.user = user
        lap.client = lap.ws.centre.client()

    def close_laptop(self, lap: Laptop) -> None:
        if lap.ws is not None:
            lap.ws.close()
        lap.ws = lap.client = None
        lap.user = None

    # -- set-up -------------------------------------------------------------------------
    def setup(self) -> None:
        self.server_dir.mkdir(parents=True, exist_ok=True)
        self.stick.mkdir(parents=True, exist_ok=True)
        self.start_server()
        assert self.srv is not None
        self.proxy = NetProxy(("127.0.0.1", self.srv.port), cut_span=(0, 0), stall_s=60.0,
                              seed=self.cfg.seed)
        specs = (
            ("campo-1", "laptop de Ana (empadronadora), enlace municipal", False, ("ana",),
             "ana"),
            ("campo-2", "laptop de Luis (empadronador), enlace municipal", False, ("luis",),
             "luis"),
            ("oficina", "laptop de Rosa (responsable de la ULE), solo USB", True,
             ("ana", "luis"), "rosa"),
        )
        self.clock.w = 7 * H  # IT prepares the laptops before the first working day
        for i, (name, label, usb, authors, home) in enumerate(specs):
            lap = Laptop(name, label, self.workdir / name, usb, authors, home,
                         random.Random(self.cfg.seed * 1000 + i))
            ws, _recovery = Workspace.create(lap.data_dir, "soporte", PASSWORDS["soporte"],
                                             ule_ubigeo=ULE, kdf=KDF, clock=self.clock)
            for user in ("ana", "luis", "rosa") if usb else (*authors, "rosa"):
                ws.admin.add_user(user, ROLES[user], PASSWORDS[user], NAMES[user],
                                  must_change=False)
            # IT enrolls every laptop at the office, the USB one included (its only link).
            info = ws.centre.client().enroll(self.proxy.url, self.admin.enroll_code(ULE),
                                         f"ULE {ULE} {name}")
            lap.device_id = info.device_id
            ws.close()
            self.laptops[name] = lap
            self.open_laptop(lap, home)
        self.proxy.set_online(False)
        self.note("setup", "Soporte configuró e inscribió las tres laptops.")

    def plan_households(self) -> None:
        """Who registers which household when; which ones the centre will return."""
        cfg = self.cfg
        fd = bundled_form("fsu")
        rng = random.Random(cfg.seed * 7 + 1)
        plan: list[tuple[int, float, str, str]] = []
        for day in range(cfg.days):
            for name, n in zip(("campo-1", "campo-2", "oficina"), cfg.split(), strict=True):
                times = sorted(rng.uniform(*cfg.entry_span) for _ in range(n))
                for j, t in enumerate(times):
                    author = {"campo-1": "ana", "campo-2": "luis"}.get(
                        name, ("ana", "luis")[j % 2])
                    plan.append((day, day * DAY + t, name, author))
        total = len(plan)
        n_return = max(1, round(cfg.return_rate * total)) if total else 0
        to_return = set(rng.sample(range(total), n_return))
        for i, (day, at, name, author) in enumerate(plan):
            while True:  # demo households whose ages meet today's checks
                hh = make_household(rng, today=WEEK_START)
                hh.ubigeo = ULE
                hh.survey_date = SimClock.day_date(day)
                # What the form window saves: the session's canonical answers object.
                session = FormSession.from_json(fd, fsu_answers(hh, NAMES[author]))
                if not session.validate().errors:
                    answers = session.to_json()
                    break
            r = rng.random()
            cat = next(c for c, acc in _cumulative(CATEGORIES) if r < acc)
            uid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
            self.households[uid] = Household(
                i, uid, name, author, day, at, answers, cat, i in to_return,
                rng.choice(RETURN_REASONS))

    def schedule_day(self, day: int) -> None:
        cfg, base = self.cfg, day * DAY
        for lap in self.laptops.values():
            if not lap.usb:
                self.push(base + cfg.power[0], "power_on", lap.name)
                self.push(base + cfg.power[1], "power_off", lap.name)
        self.push(base + cfg.fix_at, "fix")
        for k, (start, length) in enumerate(cfg.windows):
            self.push(base + start, "link", True, k)
            self.push(base + start + length, "link", False, k)
        for k, t in enumerate(cfg.rounds):
            self.push(base + t, "round", k)
        for k, t in enumerate(cfg.usb_trips):
            self.push(base + t, "trip", k)
        for hh in self.households.values():
            if hh.day == day:
                self.push(hh.at, "entry", hh.uuid)
        if day == 0:
            for k in range(cfg.dropped_requests):
                self.push(base + cfg.entry_span[0] + (k + 1) * 20 * MIN, "request_refused", k)

    # -- the loop -----------------------------------------------------------------------
    def run_until(self, w_end: float) -> None:
        while True:
            t_ev = self.heap[0][0] if self.heap else float("inf")
            lap_due, t_tick = None, float("inf")
            for lap in self.laptops.values():
                if lap.policy is not None and lap.policy.next_at < t_tick:
                    lap_due, t_tick = lap, lap.policy.next_at
            t = min(t_ev, t_tick)
            if t > w_end:
                break
            self.clock.w = max(self.clock.w, t)
            if t_ev <= t_tick:
                _, _, kind, args = heapq.heappop(self.heap)
                getattr(self, "on_" + kind)(*args)
            else:
                assert lap_due is not None
                self.tick(lap_due)
        self.clock.w = max(self.clock.w, w_end)

    def run(self) -> None:
        self.setup()
        self.plan_households()
        last = self.cfg.days + self.cfg.max_extra_days
        day = 0
        while day < last:
            self.schedule_day(day)
            self.run_until(day * DAY + DAY - 1)
            day += 1
            if day >= self.cfg.days and self.settled():
                break
        self.sim_days = day

    def settled(self) -> bool:
        for uid in self.households:
            revs = self.revs_by_uuid.get(uid)
            if not revs:
                return False
            last = max(revs, key=lambda r: r.revision)
            if last.result_seen is None:
                return False
        return all(c.on_laptop is not None for c in self.case_recs.values())

    # -- events -------------------------------------------------------------------------
    def on_power_on(self, name: str) -> None:
        lap = self.laptops[name]
        lap.policy = SchedulePolicy(self.cfg.sync_interval, Backoff(rng=lap.backoff_rng),
                                    now=self.w)

    def on_power_off(self, name: str) -> None:
        self.laptops[name].policy = None

    def on_link(self, up: bool, k: int) -> None:
        assert self.proxy is not None
        self.proxy.set_online(up)
        if up:
            self.window_log.append((self.w, self.w + self.cfg.windows[k][1]))

    def on_entry(self, uid: str) -> None:
        hh = self.households[uid]
        lap = self.laptops[hh.laptop]
        ws = self.switch(lap, hh.author)
        ws.new_record("fsu", self.fsu_version, record_uuid=uid)
        every = self.cfg.failed_visit_every
        if every and hh.index % every == every - 1:
            # Nobody home on the first attempt: the visit is recorded, no data invented,
            # and the household is interviewed on the next one.
            day = SimClock.day_date(hh.day)
            v = ws.cases.record_visit(uid, day.isoformat(), "08:05", "4",  # ausente
                                      (day + timedelta(days=1)).isoformat())
            self.case_recs[v] = CaseRec(v, lap.name, "visita", self.w)  # queued: no review
        ws.save_answers(uid, hh.answers)
        ws.complete(uid)
        self.events.append(Event(self.w, "entered", lap.name))

    def on_request_refused(self, k: int) -> None:
        """A request on campo-1 whose household refuses twice: the S100 and two failed
        visits; the supervisor drops it at her next round."""
        lap = self.laptops["campo-1"]
        ws = self.switch(lap, "ana")
        rng = random.Random(f"{self.cfg.seed}:refused:{k}")
        fd = bundled_form("s100")
        while True:
            hh = make_household(rng, today=WEEK_START)
            hh.ubigeo = ULE
            hh.survey_date = SimClock.day_date(0)
            session = FormSession.from_json(fd, s100_answers(hh, NAMES["ana"]))
            if not session.validate().errors:
                break
        req = ws.new_record("s100", str(fd.version), session.to_json())
        ws.complete(req)
        self.case_recs[req] = CaseRec(req, lap.name, "s100")
        day = SimClock.day_date(0)
        # 4 ausente, then 3 rechazo (the FSU's result codes)
        for result, nxt in (("4", day + timedelta(days=1)), ("3", None)):
            v = ws.cases.record_visit(req, day.isoformat(), "09:00", result,
                                      nxt.isoformat() if nxt else "")
            self.case_recs[v] = CaseRec(v, lap.name, "visita", self.w)  # queued: no review
        self.to_drop.append((lap.name, req))
        self.note("case", "Ana registró una solicitud cuyo hogar se negó dos veces a la visita.")

    def next_chance(self, lap: Laptop, w: float) -> float:
        starts = self.cfg.usb_trips if lap.usb else tuple(s for s, _ in self.cfg.windows)
        day = day_of(w)
        while True:
            for s in starts:
                if day * DAY + s >= w:
                    return day * DAY + s
            day += 1

    def on_round(self, k: int) -> None:
        n = 0
        for lap in self.laptops.values():
            back = lap.user or lap.home_user
            ws = self.switch(lap, "rosa")
            todo = ws.list_records(state=State.COMPLETE)
            res = ws.review.approve_many([m.uuid for m in todo])
            if res.refused:
                self.anomalies.append(f"approval refused on {lap.name}: {res.refused}")
            revs = {m.uuid: m.revision for m in todo}
            for uid in res.approved:
                if uid in self.case_recs:
                    self.case_recs[uid].approved = self.w
                    continue
                hh = self.households[uid]
                rv = Rev(uid, revs[uid], lap.name, hh.author, "usb" if lap.usb else "red",
                         self.w, self.next_chance(lap, self.w))
                self.revs[(uid, rv.revision)] = rv
                self.revs_by_uuid.setdefault(uid, []).append(rv)
            n += len(res.approved)
            for name, req in [d for d in self.to_drop if d[0] == lap.name]:
                drop = ws.cases.drop(req, ws.cases.drop_reasons()[1],
                                     "El hogar se negó en dos visitas.")
                self.case_recs[drop] = CaseRec(drop, name, "desestimacion", self.w)
                self.to_drop.remove((name, req))
                self.note("case", "Rosa desestimó una solicitud (negativa del hogar).")
            self.switch(lap, back)
        self.sample_queue()
        if n:
            self.note("round", f"Ronda de aprobación {k + 1}: Rosa aprobó {n} fichas.")

    def on_fix(self) -> None:
        fd = bundled_form("fsu")
        n = 0
        for lap in self.laptops.values():
            back = lap.user or lap.home_user
            for author in lap.authors:
                ws = self.switch(lap, author)
                for m in ws.list_records(state=State.RETURNED):
                    rv = self.revs.get((m.uuid, m.revision))
                    notes = ws.notes(m.uuid)
                    got = [e for e in notes.get("returns", [])
                           if e.get("source") == "server" and e.get("revision") == m.revision]
                    if rv is not None and any(e.get("reasons") == rv.reasons for e in got):
                        rv.return_read = True
                    session = FormSession.from_json(fd, ws.load_answers(m.uuid))
                    rng = random.Random(f"{self.cfg.seed}:fix:{m.uuid}:{m.revision}")
                    session.set("/fsu/ubicacion/telefono",
                                f"9{rng.randint(10_000_000, 99_999_999)}")
                    ws.save_answers(m.uuid, session.to_json())  # a new revision
                    ws.complete(m.uuid)
                    n += 1
            self.switch(lap, back)
        if n:
            self.note("fix", f"Los empadronadores corrigieron {n} fichas observadas por la "
                             "sede central.")

    def on_centre(self, uid: str, revision: int) -> None:
        rv = self.revs[(uid, revision)]
        hh = self.households[uid]
        if hh.to_return and revision == 1:
            self.admin.return_record(uid, revision, [hh.reason])
            rv.centre, rv.reasons = "returned", [hh.reason]
        else:
            d = SimClock.day_date(day_of(self.w))
            until = d.replace(year=d.year + 3)
            self.admin.post_result(uid, revision, hh.category, d.isoformat(), until.isoformat())
            rv.centre, rv.category = "result", hh.category
        rv.decided = self.w

    def on_trip(self, k: int) -> None:
        """The USB stick: back with the centre's files of the last trip, out with the
        laptop's batches and its signed inbox request; the centre imports them
        (`siee-server import-batch`, which also answers the inbox request; with no batch,
        `siee-server export-inbox`) and puts the receipts and the laptop's inbox file on
        the stick."""
        lap = next(x for x in self.laptops.values() if x.usb)
        back = lap.user or lap.home_user
        ws = self.switch(lap, "rosa")
        assert lap.client is not None
        for r in sorted(self.stick.glob("siee-receipt-*.json")):
            lap.client.import_receipt(r)
            r.unlink()
        for r in sorted(self.stick.glob(p.INBOX_FILE_PREFIX + "*.json")):
            if not r.name.startswith(p.INBOX_REQUEST_PREFIX):
                lap.client.import_inbox(r)
                r.unlink()
        self.observe_laptop(lap)
        files = lap.client.export_batches(self.stick)  # also writes the inbox request
        request = lap.client.last_inbox_request
        assert request is not None and request.exists()
        if not self.cfg.usb_inbox:
            request.unlink()
        self.switch(lap, back)
        self.trip_log.append(self.w)
        if files and self.fault_due("corrupt", self.cfg.corrupt_at, self.cfg.usb_trips):
            victim = files[0]
            data = bytearray(victim.read_bytes())
            mid = len(data) - 200  # inside the ciphertext
            data[mid:mid + 32] = bytes(32)
            victim.write_bytes(bytes(data))
            self.faults_done["corrupt"] += 1
            b = ws.centre.batch(victim.name[len("siee-batch-"):-len(p.BATCH_FILE_SUFFIX)])
            self.note("fault", "Falla: un archivo de lote se dañó en la memoria USB "
                               f"({b.count if b else '?'} fichas).")
        n_ok = 0
        for f in files:
            ok, text = self.centre_import(f)
            if ok:
                n_ok += 1
            else:
                last = text.splitlines()[-1] if text else "sin mensaje"
                self.note("fault", f"La sede central no pudo importar un lote: {last}")
            f.unlink()
        if self.cfg.usb_inbox and not files:
            ok, text = self.centre_cli("export-inbox", str(request))
            if not ok:
                self.note("fault", f"La sede central no pudo exportar las novedades: {text}")
        request.unlink(missing_ok=True)
        self.observe_server()
        self.sample_queue()
        if files:
            self.note("trip", f"Viaje USB {k + 1}: {len(files)} lote(s), {n_ok} importado(s) "
                              "en la sede central.")

    def centre_import(self, f: Path) -> tuple[bool, str]:
        return self.centre_cli("import-batch", str(f))

    def centre_cli(self, *args: str) -> tuple[bool, str]:
        """One `siee-server` command at the centre (a subprocess on the server's data)."""
        assert self.srv is not None
        r = subprocess.run(
            [sys.executable, "-m", "server", *args, "--data", str(self.server_dir),
             "--db", self.srv.db_url],
            cwd=str(REPO_ROOT), env=self.env, capture_output=True, text=True, timeout=120)
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    # -- the scheduler on simulated time ------------------------------------------------
    def fault_due(self, kind: str, at: tuple[int, int], starts: Any) -> bool:
        if not self.cfg.faults or self.faults_done[kind]:
            return False
        day, k = at
        start = starts[k][0] if isinstance(starts[k], tuple) else starts[k]
        return self.w >= day * DAY + start

    def window_index(self, w: float) -> int:
        for k, (s, length) in enumerate(self.cfg.windows):
            if s <= w % DAY < s + length:
                return day_of(w) * len(self.cfg.windows) + k
        return -1

    def tick(self, lap: Laptop) -> None:
        """One step of the window's scheduling loop (app/sync/scheduler.py: the policy's
        `step`, `attempt`, `record`), at simulated time: probe, sync, and the policy's
        next time (interval, or backoff with jitter). Preparing ahead is left out: the
        simulated laptops sync the moment a step is due."""
        assert lap.policy is not None and lap.client is not None
        w = self.w
        action = lap.policy.step(w)
        if not isinstance(action, ProbeAndSync):
            return
        lap.policy.started()
        self.probes += 1
        if action.probe and not lap.client.reachable(5.0):
            lap.policy.record(w, None)
            return
        if lap.name == "campo-1" and lap.has_work() and self.fault_due(
                "kill", self.cfg.kill_at, self.cfg.windows):
            self.kill_mid_sync(lap)
            return
        if lap.name == "campo-2" and lap.has_work() and self.fault_due(
                "restart", self.cfg.restart_at, self.cfg.windows):
            self.restart_mid_sync(lap)
            return
        had_work = lap.has_work()
        self.syncs += 1
        try:
            report = attempt(lap.client, ProbeAndSync(probe=False))
        except SyncError as e:
            self.unplanned_failures += 1
            self.anomalies.append(f"{lap.name} sync failed at {hhmm(w)}: {e.code} {e}")
            lap.policy.record(w, e)
            return
        lap.policy.record(w, report)
        win = self.window_index(w)
        if had_work and win >= 0 and win != lap.window_seen:
            start = day_of(w) * DAY + self.cfg.windows[win % len(self.cfg.windows)][0]
            self.window_lags.append(w - start)
        if win >= 0:
            lap.window_seen = win
        self.observe_server()
        self.observe_laptop(lap)
        self.sample_queue()

    def _server_count(self) -> int:
        return len(self.admin.list_records(limit=10**7))

    def kill_mid_sync(self, lap: Laptop) -> None:
        """The laptop's program is killed (SIGKILL) after the server stored its batch and
        before the receipt reached it; then it is started again."""
        assert self.proxy is not None
        user = lap.user or lap.home_user
        self.close_laptop(lap)
        before = self._server_count()
        self.proxy.script = ["stall_upload"]  # the answer to the upload is held back
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.field_week", "--child-sync", str(lap.data_dir), user,
             repr(SimClock.epoch(self.w))],
            cwd=str(REPO_ROOT), env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        try:
            _wait_for(lambda: self._server_count() > before, proc, 60.0, "batch at server")
        finally:
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
        self.proxy.drop_all()
        self.proxy.script = []
        self.faults_done["kill"] += 1
        self.syncs += 1
        self.observe_server()
        held = sum(1 for r in self.revs.values() if r.held == self.w)
        self.note("fault", f"Falla: la laptop {lap.name} se apagó de golpe en plena "
                           f"sincronización; el servidor ya tenía {held} fichas sin que la "
                           "laptop recibiera el recibo.")
        self.open_laptop(lap, user)
        lap.policy = SchedulePolicy(self.cfg.sync_interval, Backoff(rng=lap.backoff_rng),
                                    now=self.w + self.cfg.reboot_s)

    def restart_mid_sync(self, lap: Laptop) -> None:
        """The server process is killed while it answers an upload, and started again."""
        assert self.proxy is not None and lap.client is not None and lap.policy is not None
        before = self._server_count()
        self.proxy.script = ["stall_upload"]
        out: dict[str, Any] = {}

        def run() -> None:
            try:
                assert lap.client is not None
                out["report"] = lap.client.sync()
            except BaseException as e:  # noqa: BLE001 - reported below
                out["error"] = e

        th = threading.Thread(target=run, name="sim-sync")
        th.start()
        _wait_for(lambda: self._server_count() > before, None, 60.0, "batch at server")
        t0 = time.monotonic()
        self.stop_server(kill=True)
        self.start_server()
        assert self.srv is not None
        self.proxy.upstream = ("127.0.0.1", self.srv.port)
        self.proxy.drop_all()
        th.join(120)
        self.proxy.script = []
        self.faults_done["restart"] += 1
        self.syncs += 1
        err = out.get("error")
        if isinstance(err, SyncError):
            lap.policy.record(self.w, err)
        elif err is not None:
            raise err
        else:
            self.anomalies.append("the upload cut by the server restart succeeded")
            lap.policy.record(self.w, out.get("report"))
        self.observe_server()
        self.restart_seconds = time.monotonic() - t0
        self.note("fault", f"Falla: el servidor se cayó mientras recibía un lote de {lap.name} "
                           "y se reinició.")

    # -- observation --------------------------------------------------------------------
    def observe_server(self) -> None:
        for row in self.admin.list_records(limit=10**7):
            key = (row["uuid"], int(row["revision"]))
            rv = self.revs.get(key)
            cr = self.case_recs.get(row["uuid"])
            if rv is None and cr is not None and key[1] == 1:
                cr.held = cr.held or self.w
                continue
            if rv is None:
                self.anomalies.append(f"server holds {key}, never approved")
                continue
            if rv.held is None:
                rv.held = self.w
                r = random.Random(f"{self.cfg.seed}:centre:{rv.uuid}:{rv.revision}")
                self.push(self.w + r.uniform(*self.cfg.centre_delay), "centre", rv.uuid,
                          rv.revision)

    def observe_laptop(self, lap: Laptop) -> None:
        assert lap.ws is not None
        for uid, rev, state in lap.ws.db.execute("SELECT uuid, revision, state FROM records"):
            cr = self.case_recs.get(uid)
            if cr is not None and cr.on_laptop is None and state == State.DELIVERED:
                cr.on_laptop = self.w
            for rv in self.revs_by_uuid.get(uid, ()):
                later = rev > rv.revision
                same = rev == rv.revision
                if rv.on_laptop is None and (later or same and state in (
                        State.DELIVERED, State.RESULT, State.RETURNED)):
                    rv.on_laptop = self.w
                if rv.centre == "returned" and rv.return_seen is None and (
                        later or same and state == State.RETURNED):
                    rv.return_seen = self.w
                if rv.centre == "result" and rv.result_seen is None and same and (
                        state == State.RESULT):
                    rv.result_seen = self.w

    def sample_queue(self) -> None:
        link = sum(1 for r in self.revs.values() if r.held is None and r.channel == "red")
        usb = sum(1 for r in self.revs.values() if r.held is None and r.channel == "usb")
        self.queue.append((self.w, link, usb))

    # -- figures ------------------------------------------------------------------------
    def figures(self) -> tuple[dict[str, float], dict[str, float]]:
        rows = self.admin.list_records(limit=10**7)
        keys = [(r["uuid"], int(r["revision"])) for r in rows]
        case_keys = {(u, 1) for u in self.case_recs}
        once = (len(keys) == len(set(keys)) and set(keys) == set(self.revs) | case_keys
                and all(r.on_laptop is not None for r in self.revs.values())
                and all(c.on_laptop is not None for c in self.case_recs.values()))
        dropped_at_centre = len(self.admin.cases.list(state="desestimado"))
        returns = [r for r in self.revs.values() if r.centre == "returned"]
        results = [r for r in self.revs.values() if r.centre == "result"]
        shown = 0
        lost = 0
        for lap in self.laptops.values():
            ws = self.switch(lap, "rosa")
            for hh in (h for h in self.households.values() if h.laptop == lap.name):
                try:
                    m = ws.get(hh.uuid)
                    # What left the laptop (the submission) against what the centre holds.
                    answers = ws.hooks.submission(m.form_id, m.form_version,
                                                  ws.load_answers(hh.uuid))
                    at_centre = self.admin.get_record(hh.uuid, m.revision)
                    ok = (m.revision, at_centre["answers"]) == (
                        int(at_centre["revision"]), answers)
                    if not ok:
                        a, b = at_centre["answers"], answers
                        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                        self.anomalies.append(
                            f"household {hh.index} rev {m.revision}/{at_centre['revision']} "
                            f"differs at the centre: {diff[:5]} "
                            f"{[(a.get(k), b.get(k)) for k in diff[:3]]}")
                except Exception as e:  # noqa: BLE001 - any failure here is a loss
                    self.anomalies.append(f"household {hh.index}: {type(e).__name__} {e}")
                    ok = False
                lost += not ok
            for rv in (r for r in results if r.laptop == lap.name):
                m = ws.get(rv.uuid)
                res = ws.notes(rv.uuid).get("result") or {}
                shown += (m.state == State.RESULT and m.revision == rv.revision
                          and res.get("category") == rv.category)
        chains_ok = True
        for lap in self.laptops.values():
            ws = self.switch(lap, "rosa")
            ok_db = ws.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            chains_ok = chains_ok and ok_db and ws.admin.audit_verify().ok
        held = [r for r in self.revs.values() if r.held is not None]
        ideal = sum(r.ideal - r.approved for r in held)
        actual = sum(r.held - r.approved for r in held)  # type: ignore[operator]

        def ratio(rs: list[Rev]) -> float:
            i = sum(r.ideal - r.approved for r in rs)
            a = sum(r.held - r.approved for r in rs)  # type: ignore[operator]
            return a / i if i else float("nan")

        figures = {
            "households": float(len(self.households)),
            "delivered_exactly_once": 1.0 if once else 0.0,
            "returns_reached_author": (sum(r.return_read for r in returns) / len(returns)
                                       if returns else 1.0),
            "results_shown": shown / len(results) if results else 0.0,
            "latency_vs_ideal": actual / ideal if ideal else float("nan"),
            "lost": float(lost),
        }
        link = [r for r in held if r.channel == "red"]
        usb = [r for r in held if r.channel == "usb"]
        extra = {
            "records_approved": float(len(self.revs)),
            "returned_by_centre": float(len(returns)),
            "results_posted": float(len(results)),
            "latency_vs_ideal_link": ratio(link),
            "latency_vs_ideal_usb": ratio(usb),
            "mean_wait_h": (actual / len(held) / H) if held else float("nan"),
            "mean_ideal_wait_h": (ideal / len(held) / H) if held else float("nan"),
            "window_lag_min": (sum(self.window_lags) / len(self.window_lags) / MIN
                               if self.window_lags else float("nan")),
            "return_to_laptop_h": _mean([(r.return_seen - r.decided) / H for r in returns
                                         if r.return_seen is not None and r.decided]),
            "result_to_laptop_h": _mean([(r.result_seen - r.decided) / H for r in results
                                         if r.result_seen is not None and r.decided]),
            "faults_kill": float(self.faults_done["kill"]),
            "faults_restart": float(self.faults_done["restart"]),
            "faults_corrupt": float(self.faults_done["corrupt"]),
            "audit_and_db_ok": 1.0 if chains_ok else 0.0,
            "batches_resent": float(sum(
                lap.ws.db.execute("SELECT COUNT(*) FROM sync_batches WHERE state='done' "
                                  "AND attempts > 1").fetchone()[0]
                for lap in self.laptops.values() if lap.ws is not None)),
            "unplanned_sync_failures": float(self.unplanned_failures),
            "anomalies": float(len(self.anomalies)),
            "case_records": float(len(self.case_recs)),
            "visits_failed": float(sum(c.kind == "visita" for c in self.case_recs.values())),
            "cases_dropped_at_centre": float(dropped_at_centre),
        }
        return figures, extra

    def day_table(self) -> list[dict[str, Any]]:
        out = []
        for d in range(self.sim_days):
            def on(t: float | None, d: int = d) -> bool:
                return t is not None and day_of(t) == d

            revs = self.revs.values()
            out.append({
                "day": d + 1,
                "date": SimClock.day_date(d).isoformat(),
                "entered": sum(1 for h in self.households.values() if h.day == d),
                "approved": sum(1 for r in revs if on(r.approved)),
                "held_link": sum(1 for r in revs if on(r.held) and r.channel == "red"),
                "held_usb": sum(1 for r in revs if on(r.held) and r.channel == "usb"),
                "returned": sum(1 for r in revs if r.centre == "returned" and on(r.decided)),
                "returns_seen": sum(1 for r in revs if on(r.return_seen)),
                "results": sum(1 for r in revs if r.centre == "result" and on(r.decided)),
                "results_seen": sum(1 for r in revs if on(r.result_seen)),
                "waiting_end": next((a + b for t, a, b in reversed(self.queue)
                                     if t < (d + 1) * DAY), 0),
                "faults": "; ".join(e.text for e in self.events
                                    if e.kind == "fault" and day_of(e.w) == d),
            })
        return out

    def trace(self) -> str:
        h = hashlib.sha256()
        for key in sorted(self.revs):
            r = self.revs[key]
            h.update(repr((key, r.laptop, r.channel, round(r.approved), _r(r.held),
                           _r(r.on_laptop), r.centre, _r(r.decided), r.category,
                           _r(r.return_seen), r.return_read, _r(r.result_seen))).encode())
        return h.hexdigest()[:16]

    def close(self) -> None:
        for lap in self.laptops.values():
            try:
                self.close_laptop(lap)
            except Exception:  # noqa: BLE001 - closing must go on
                pass
        if self.proxy is not None:
            self.proxy.close()
        if self.srv is not None:
            log = self.srv.log_text()
            if "Traceback" in log:
                self.anomalies.append("server log has a traceback")
            self.srv.process.kill()  # half-open connections would slow a graceful stop
        self.stop_server()


def _r(t: float | None) -> int | None:
    return None if t is None else round(t)


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def _cumulative(pairs: tuple[tuple[str, float], ...]) -> list[tuple[str, float]]:
    acc, out = 0.0, []
    for name, pr in pairs:
        acc += pr
        out.append((name, acc))
    out[-1] = (out[-1][0], 1.0 + 1e-9)
    return out


def _wait_for(cond: Callable[[], bool], proc: subprocess.Popen[bytes] | None, timeout: float,
              what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"the laptop process ended before the fault ({what}): {err}")
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.01)


def run_field_week(cfg: Config, workdir: Path | None = None,
                   log: Callable[[str], None] | None = None) -> Result:
    t0 = time.monotonic()
    own = workdir is None
    wd = Path(tempfile.mkdtemp(prefix="siee-fieldweek-")) if own else Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    sim = FieldWeek(cfg, wd, log)
    try:
        sim.run()
        figures, extra = sim.figures()
        days = sim.day_table()
        trace = sim.trace()
    finally:
        sim.close()
        if own:
            import shutil

            shutil.rmtree(wd, ignore_errors=True)
    for a in sim.anomalies:
        (log or print)(f"anomaly: {a}")
    return Result(cfg, figures, extra, days, sim.events, sim.queue, sim.window_log,
                  sim.trip_log, sim.sim_days, time.monotonic() - t0, trace)


def _child_sync(data_dir: str, user: str, at: str) -> None:
    """The laptop's program in a process of its own (to be killed in the middle)."""
    t = [float(at)]

    def clock() -> float:
        t[0] += 1e-6
        return t[0]

    ws = Workspace.open(Path(data_dir), clock=clock, kdf=KDF)
    ws.login(user, PASSWORDS[user])
    ws.centre.client().sync()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child-sync":
        _child_sync(*sys.argv[2:])
    else:
        print("usage: python -m sim.field_week --child-sync DATA USER EPOCH "
              "(see bench/field_week.py)", file=sys.stderr)
        raise SystemExit(2)

__all__ = ["Config", "FieldWeek", "Result", "SimClock", "run_field_week"]
