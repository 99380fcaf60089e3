"""Load benchmark of the reference server on 127.0.0.1: prints `name: value unit` lines.

Simulated enrolled devices upload realistic FSU batches (demo households, answers as the
laptop's form engine writes them; envelopes signed and encrypted beforehand, so the
bench's own CPU is not measured) to a real `siee-server serve` on loopback, behaving
like the sync client: a `503 busy` is waited out (Retry-After) and the same batch is
sent again; a request that takes longer than the client's read timeout is a timeout
resend.

For each backend (SQLite; PostgreSQL when SIEE_BENCH_PG_URL or SIEE_TEST_PG_URL is set),
1 and 2 server processes, 1, 8 and 32 concurrent devices and batches of 10 and 100:

server.records_per_s[DB,Pp,Cc,Bb]   accepted records per second (wall clock), each device
                                    sending MIN_ROUNDS batches or more in a row
server.receipt_p95_s[DB,Pp,Cc,Bb]   95th percentile of a batch's time to receipt (first
                                    send to receipt, waits for a busy server included)
server.busy_waits[...]              503 answers waited out (not failures)
server.worker_balance[DB,P2,...]    the least busy worker's CPU over the busiest's during the
                                    configuration (1 = even; a worker left idle while the
                                    other works through its connections shows here; with
                                    one device, one connection, it is near 0 by nature)
server.errors[...]                  failed batches plus resends (timeouts, connection resets)
                                    of one configuration
server.errors                       refused/failed batches plus resends, all configs
server.timeout_resends_c32          resends after a read timeout at 32 concurrent devices
server.connection_resets_c32        resends after a refused or reset connection, same
server.receipt_p95_s                worst p95 of the 32-device configurations
server.scaling_2_vs_1               records/s of 2 processes vs 1 (PostgreSQL if available,
                                    32 devices, 100-record batches), same run: the median
                                    of SCALING_ROUNDS rounds, each running one process and
                                    two back to back, in alternate order (this machine's
                                    speed drifts by a third over minutes: one pair measured
                                    minutes apart gave 1.1 to 2.2)
server.scaling_2_vs_1[round k]      each round's ratio
server.cpu_ms_per_record            server CPU per accepted record (1 process, 100-record
                                    batches, 32 devices)
server.cpu_ms_per_record[DB,Pp]     the same per backend and number of processes (all the
                                    server's processes, from /proc; PostgreSQL's own CPU
                                    is not in it)
server.records_per_cpu_s[DB,Pp]     1000 / the line above: accepted records per CPU-second
                                    of the server, i.e. records/s one process reaches on a
                                    free core (does not depend on the machine's load)
server.scaling_2_vs_1_cpu           2 x cpu_ms_per_record[P1] / cpu_ms_per_record[P2]: what
                                    two processes give against one on two free cores, from
                                    CPU time (load-independent; assumes nothing serialises
                                    the two, which the wall-clock scaling line checks)
server.cores[DB,Pp,part]            at 32 devices and 100-record batches, the cores each
                                    part used during the run (CPU seconds / wall seconds,
                                    from /proc): part server (its processes), postgres
                                    (PostgreSQL's processes on this machine), devices (this
                                    bench process: the simulated laptops' HTTP work). On a
                                    2-core machine they share two cores, which bounds what
                                    two server processes can gain over one (scaling_2_vs_1)
server.validation_ms_per_record     the form-engine check alone (same records, in the bench
                                    process, at another moment: not a share of the line
                                    above; bench/server.py measures the share inside the
                                    server, `server.validation_share`)

National day (scaled down in count, not in concurrency): 36,180 FSU records from 3,600
devices in two 30-minute windows. The bench keeps ~10 records per device and the number
of devices syncing at the same moment (64 at the peak, each window's devices arriving
within a compressed window), but scales the number of devices by SIEE_BENCH_DAY_SCALE
(default 0.05: 180 devices, 1,809 records), on the production layout (PostgreSQL with 2
processes when available, else SQLite with 1):

server.day_p95_receipt_s   p95 time to receipt of the day's batches
server.day_errors          batches not receipted (after waiting out busy answers)
server.day_receipted       1 when the server holds every record of the day exactly once

Environment: SIEE_BENCH_QUICK=1 runs only 1 process and the 32-device configurations;
SIEE_BENCH_BACKENDS=postgres (or sqlite) runs only those backends.

The PostgreSQL database is EMPTIED at every server start (every server table dropped):
it must be a scratch database, never a centre's. The bench refuses a database that
already holds server tables unless told it is a scratch one: `--scratch-db` or
SIEE_BENCH_SCRATCH_DB=1; a database declared scratch must have "bench", "scratch" or
"test" in its name (a typo must not hit the centre's), and the database of SIEE_DB (the
server's own) is always refused (check_scratch_db). The server it starts gets the URL
through its environment, never its command line (server.testing.running_server).
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import threading
import time
import uuid as uuidlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from app.demo import households  # noqa: E402
from app.demo_answers import fsu_answers  # noqa: E402
from app.forms import bundled_form  # noqa: E402
from app.sync import protocol as p  # noqa: E402
from server.testing import RunningServer, running_server  # noqa: E402
from server.validation import Validator  # noqa: E402

ULE = "150101"
CONCURRENCY = (1, 8, 32)
BATCHES = (10, 100)
MIN_RECORDS = 200  # per configuration (more when concurrency x batch is larger)
# Every device sends at least this many batches, one after another: a rate measured on
# one burst of single batches is mostly how that burst fell between the processes
# (connections stay with the process that accepted them), not what they sustain.
MIN_ROUNDS = 4
SCALING_ROUNDS = 5  # one process and two, back to back, in alternate order (scaling_2_vs_1)
DAY_RECORDS, DAY_DEVICES = 36_180, 3_600
DAY_PEAK = 64
DAY_WINDOW_S = 20.0  # a 30-minute window, compressed
CLIENT_TIMEOUT = 30.0  # the sync client's read timeout (plus its per-size allowance)
BUSY_WAIT_TOTAL = 600.0


def out(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.3f} {unit}" if isinstance(value, float) else
          f"{name}: {value} {unit}", flush=True)


# ------------------------------------------------------------------ devices


@dataclass
class SimDevice:
    """An enrolled laptop as the server sees it (key, id), sending prepared envelopes."""

    base_url: str
    device_id: str
    key: Any
    enc_key: str
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def enroll(cls, srv: RunningServer) -> SimDevice:
        key = p.new_signing_key()
        code = srv.admin.enroll_code(ULE)
        r = requests.post(srv.url + "/v1/enroll", json=p.enrollment_request(code, key, "bench"),
                          timeout=60)
        r.raise_for_status()
        d = r.json()
        return cls(srv.url, d["device_id"], key, d["server_encryption_key"])

    def envelope(self, answers: list[dict[str, Any]], version: str) -> tuple[str, bytes]:
        now = time.time()
        recs = [p.BatchRecord(
            uuid=str(uuidlib.uuid4()), revision=1, form_id="fsu", form_version=version,
            ule_ubigeo=ULE, author="enum01", answers=a,
            completed_at=p.utc_now_iso(now), approved_at=p.utc_now_iso(now),
        ) for a in answers]
        env = p.build_batch(recs, self.device_id, self.key, self.enc_key, level=6)
        return env.batch_id, env.to_bytes()


@dataclass
class Outcome:
    seconds: float = 0.0
    accepted: int = 0
    ok: bool = False
    busy_waits: int = 0
    timeouts: int = 0
    resets: int = 0  # connection refused or reset (not a read timeout)


def upload(dev: SimDevice, batch_id: str, data: bytes, count: int) -> Outcome:
    """Send one batch as the sync client does, until receipted or failed."""
    o = Outcome()
    t0 = time.monotonic()
    read_timeout = CLIENT_TIMEOUT + len(data) / 16384 + count * 0.02
    path = f"/v1/batches/{batch_id}"
    for _attempt in range(200):
        headers = p.sign_request("PUT", path, data, dev.device_id, dev.key)
        headers["Content-Type"] = p.BATCH_CONTENT_TYPE
        try:
            r = dev.session.put(dev.base_url + path, data=data, headers=headers,
                                timeout=(10, read_timeout))
        except requests.exceptions.Timeout:
            o.timeouts += 1
            continue
        except requests.exceptions.ConnectionError:
            o.resets += 1
            time.sleep(1)
            continue
        if r.status_code == 200:
            counts = _counts(r.content)
            o.accepted = counts.get("accepted", 0) + counts.get("duplicate", 0)
            o.ok = True
            break
        if r.status_code in (503, 429) and time.monotonic() - t0 < BUSY_WAIT_TOTAL:
            o.busy_waits += 1
            time.sleep(min(60.0, float(r.headers.get("Retry-After") or 1)))
            continue
        break
    o.seconds = time.monotonic() - t0
    return o


def _counts(body: bytes) -> dict[str, int]:
    return dict(json.loads(body)["receipt"]["counts"])


# ------------------------------------------------------------------ answers


def answer_pool(n: int = 600) -> tuple[list[dict[str, Any]], str]:
    """Distinct realistic FSU answers (reused across records with fresh uuids)."""
    version = str(bundled_form("fsu").version)
    return [fsu_answers(hh) for hh in households(n, 4242)], version


def take(pool: list[dict[str, Any]], n: int, rng: random.Random) -> list[dict[str, Any]]:
    return [pool[rng.randrange(len(pool))] for _ in range(n)]


# ------------------------------------------------------------------ runs


def proc_cpu(stat: Path, with_children: bool = False) -> tuple[str, float]:
    """(command name, CPU seconds used so far) of a /proc/PID/stat file; its waited-for
    children's too with `with_children`. ("", 0.0) for a process that is gone."""
    try:
        head, rest = stat.read_text().rsplit(")", 1)
        f = rest.split()
        ticks = int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if with_children else 0)
    except (OSError, IndexError, ValueError):
        return "", 0.0
    return head.split("(", 1)[1], ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(srv: RunningServer) -> dict[int, float]:
    """CPU seconds used so far by the server process and by each of its workers, by pid
    (a worker's waited-for children counted with it; multiprocessing's resource tracker,
    also a child, is left out)."""
    pids = [srv.process.pid]
    try:
        kids = Path(f"/proc/{srv.process.pid}/task/{srv.process.pid}/children").read_text()
        pids += [int(x) for x in kids.split() if _is_worker(int(x))]
    except OSError:
        pass
    return {pid: proc_cpu(Path(f"/proc/{pid}/stat"), with_children=True)[1] for pid in pids}


def _is_worker(pid: int) -> bool:
    try:
        return b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (0 without one)."""
    used = (proc_cpu(stat) for stat in Path("/proc").glob("[0-9]*/stat"))
    return sum(cpu for name, cpu in used if name.startswith("postgres"))


@dataclass
class ConfigResult:
    """What one configuration measured (see the module's docstring for each figure)."""

    records_per_s: float
    receipt_p95_s: float
    errors: int  # failed batches plus resends
    busy_waits: int
    timeouts: int
    resets: int
    cpu_s_per_record: float  # the server's, all its processes
    cores: dict[str, float]  # by part: server, postgres, devices
    worker_balance: float | None  # least busy worker's CPU / busiest's (None: 1 process)


def run_config(srv: RunningServer, devices: list[SimDevice], conc: int, batch: int,
               pool: list[dict[str, Any]], version: str, rng: random.Random) -> ConfigResult:
    """Run one configuration: `conc` devices each sending its batches one after another."""
    rounds = max(MIN_ROUNDS, math.ceil(MIN_RECORDS / (conc * batch)))
    work = [(devices[i], *devices[i].envelope(take(pool, batch, rng), version))
            for _ in range(rounds) for i in range(conc)]
    per_dev: dict[str, list[tuple[SimDevice, str, bytes]]] = {}
    for d, bid, data in work:
        per_dev.setdefault(d.device_id, []).append((d, bid, data))
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def device_loop(items: list[tuple[SimDevice, str, bytes]]) -> None:
        for d, bid, data in items:
            o = upload(d, bid, data, batch)
            with lock:
                outcomes.append(o)

    cpu0, pg0, own0 = server_cpu(srv), postgres_cpu(), time.process_time()
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=conc) as ex:
        list(ex.map(device_loop, per_dev.values()))
    wall = time.monotonic() - t0
    used = {pid: cpu - cpu0.get(pid, 0.0) for pid, cpu in server_cpu(srv).items()}
    cpu = sum(used.values())
    workers = [c for pid, c in used.items() if pid != srv.process.pid]
    cores = {"server": cpu / wall, "postgres": (postgres_cpu() - pg0) / wall,
             "devices": (time.process_time() - own0) / wall}
    accepted = sum(o.accepted for o in outcomes)
    secs = sorted(o.seconds for o in outcomes)
    p95 = secs[min(len(secs) - 1, int(math.ceil(0.95 * len(secs))) - 1)]
    return ConfigResult(
        records_per_s=accepted / wall, receipt_p95_s=p95,
        errors=sum(1 for o in outcomes if not o.ok) + sum(o.timeouts + o.resets
                                                          for o in outcomes),
        busy_waits=sum(o.busy_waits for o in outcomes),
        timeouts=sum(o.timeouts for o in outcomes), resets=sum(o.resets for o in outcomes),
        cpu_s_per_record=cpu / max(1, accepted), cores=cores,
        worker_balance=(min(workers) / max(workers) if len(workers) > 1 and max(workers)
                        else None))


def start(db_url: str | None, workers: int):  # noqa: ANN201
    return running_server(db_url=db_url, reset_db=db_url is not None, workers=workers,
                          log_level="warning", rate_per_minute=0, enroll_per_address=0,
                          enroll_per_minute=0, startup_timeout=180)


def national_day(db_url: str | None, workers: int, pool: list[dict[str, Any]], version: str,
                 rng: random.Random) -> None:
    scale = float(os.environ.get("SIEE_BENCH_DAY_SCALE", "0.05"))
    n_dev = max(DAY_PEAK, int(DAY_DEVICES * scale))
    per_dev = round(DAY_RECORDS / DAY_DEVICES)
    with start(db_url, workers) as srv:
        devices = [SimDevice.enroll(srv) for _ in range(n_dev)]
        plans = [(d, *d.envelope(take(pool, per_dev, rng), version)) for d in devices]
        halves = [plans[: n_dev // 2], plans[n_dev // 2:]]
        outcomes: list[Outcome] = []
        lock = threading.Lock()

        def one(item: tuple[SimDevice, str, bytes], at: float) -> None:
            time.sleep(max(0.0, at - time.monotonic()))
            o = upload(item[0], item[1], item[2], per_dev)
            with lock:
                outcomes.append(o)

        for window in halves:
            t0 = time.monotonic()
            with ThreadPoolExecutor(max_workers=DAY_PEAK) as ex:
                for item in window:
                    ex.submit(one, item, t0 + rng.uniform(0, DAY_WINDOW_S))
        secs = sorted(o.seconds for o in outcomes)
        p95 = secs[min(len(secs) - 1, int(math.ceil(0.95 * len(secs))) - 1)]
        errors = sum(1 for o in outcomes if not o.ok) + sum(o.timeouts + o.resets
                                                            for o in outcomes)
        held = srv.admin.counts()["records"]
        out("server.day_devices", n_dev, "devices")
        out("server.day_records", n_dev * per_dev, "records")
        out("server.day_p95_receipt_s", p95, "s")
        out("server.day_errors", errors, "batches")
        out("server.day_receipted", int(held == n_dev * per_dev and errors == 0), "bool")


def scaling_rounds(db_url: str | None, pool: list[dict[str, Any]], version: str,
                   rng: random.Random) -> list[float]:
    """records/s of two processes over one, 32 devices and 100-record batches, for each
    of SCALING_ROUNDS rounds measured back to back: one process then two, then the other
    way round (so that a machine speeding up or slowing down over the rounds favours
    neither)."""
    ratios = []
    for k in range(SCALING_ROUNDS):
        rates = {}
        for workers in ((1, 2) if k % 2 == 0 else (2, 1)):
            with start(db_url, workers) as srv:
                devices = [SimDevice.enroll(srv) for _ in range(32)]
                rates[workers] = run_config(srv, devices, 32, 100, pool, version,
                                            rng).records_per_s
        ratios.append(rates[2] / rates[1])
    return ratios


def validation_ms_per_record(pool: list[dict[str, Any]], version: str) -> float:
    v = Validator()
    check = v.batch()
    check("fsu", version, pool[0])  # load the form once
    t0 = time.process_time()
    n = 0
    for a in pool * 2:
        check("fsu", version, a)
        n += 1
    return (time.process_time() - t0) * 1000 / n


SCRATCH_ENV = "SIEE_BENCH_SCRATCH_DB"
# A database declared scratch must say so in its name: a typo in the name (siee for
# siee_bench) must not turn --scratch-db into dropping a centre's tables.
SCRATCH_NAME_WORDS = ("bench", "scratch", "test")


def _same_database(a: str, b: str) -> bool:
    """Whether two SQLAlchemy URLs name the same database (driver and password aside)."""
    from sqlalchemy.engine import make_url

    try:
        ua, ub = make_url(a), make_url(b)
    except Exception:  # an unparsable URL: compare the text
        return a.strip() == b.strip()
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    return ((ua.host or "localhost", ua.port or 5432, ua.database)
            == (ub.host or "localhost", ub.port or 5432, ub.database))


def check_scratch_db(url: str, scratch: bool) -> str | None:
    """None when the bench may drop every server table of `url`; otherwise the Spanish
    refusal to print (the bench then touches nothing). Refused: the database of SIEE_DB
    in the environment (the server's own, as in /etc/siee/server.env); a database
    declared scratch (`scratch`) whose name holds none of SCRATCH_NAME_WORDS (unless it
    is the developer's SIEE_TEST_PG_URL); a database that already holds server tables
    and is not declared scratch."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    from server.db import metadata

    shown = make_url(url).render_as_string(hide_password=True)
    server_db = os.environ.get("SIEE_DB", "").strip()
    if server_db and _same_database(url, server_db):
        return (f"La base de datos {shown} es la del servidor (variable SIEE_DB). Esta "
                "prueba de carga BORRA todas las tablas del servidor de la base que se le "
                "da: use una base de prueba aparte (por ejemplo siee_bench, con su propio "
                "usuario siee_bench). No se tocó nada.")
    name = Path(make_url(url).database or "").name.lower()
    own_test_db = url == os.environ.get("SIEE_TEST_PG_URL")
    if scratch and not own_test_db and not any(w in name for w in SCRATCH_NAME_WORDS):
        return (f"La base de datos {shown} no parece de prueba: con --scratch-db (o "
                f"{SCRATCH_ENV}=1) su nombre debe contener «bench», «scratch» o «test» "
                "(por ejemplo siee_bench), para que un error al escribir el nombre no borre "
                "las tablas de la base de producción. Esta prueba de carga BORRA todas las "
                "tablas del servidor de la base que se le da. No se tocó nada.")
    if scratch:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            names = set(inspect(c).get_table_names())
    finally:
        engine.dispose()
    found = sorted(names & (set(metadata.tables) | {"alembic_version"}))
    if not found:
        return None
    return (f"La base de datos {shown} ya tiene tablas del servidor SIEE "
            f"({', '.join(found[:5])}{'...' if len(found) > 5 else ''}). Esta prueba de carga "
            "BORRA todas las tablas del servidor de la base que se le da: nunca la ejecute "
            "sobre la base de producción. Cree una base de prueba aparte, con su propio "
            "usuario (docs/deploy.md, sección 10: siee_bench) y, si de verdad es una base de "
            f"prueba, agregue --scratch-db (o {SCRATCH_ENV}=1). No se tocó nada.")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args if a != "--scratch-db"]
    if unknown:
        print(f"Opción desconocida: {' '.join(unknown)} (solo --scratch-db).", file=sys.stderr)
        return 2
    scratch = "--scratch-db" in args or os.environ.get(SCRATCH_ENV) == "1"
    pg = os.environ.get("SIEE_BENCH_PG_URL") or os.environ.get("SIEE_TEST_PG_URL")
    if pg:
        refusal = check_scratch_db(pg, scratch)
        if refusal:
            print(refusal, file=sys.stderr)
            return 2
    rng = random.Random(2026)
    pool, version = answer_pool()
    quick = os.environ.get("SIEE_BENCH_QUICK") == "1"
    backends = [("sqlite", None)] + ([("postgres", pg)] if pg else [])
    only = os.environ.get("SIEE_BENCH_BACKENDS")  # e.g. "postgres": the others skipped
    if only:
        backends = [b for b in backends if b[0] in only.split(",")]
    rates: dict[tuple[str, int, int, int], float] = {}
    errors = 0
    timeouts_c32 = 0
    resets_c32 = 0
    p95_c32: list[float] = []
    cpu_per_record = None
    cpu_by: dict[tuple[str, int], float] = {}
    for name, url in backends:
        for workers in ((1,) if quick else (1, 2)):
            with start(url, workers) as srv:
                devices = [SimDevice.enroll(srv) for _ in range(max(CONCURRENCY))]
                for conc in ((32,) if quick else CONCURRENCY):
                    for batch in BATCHES:
                        res = run_config(srv, devices, conc, batch, pool, version, rng)
                        tag = f"[{name},P{workers},C{conc},B{batch}]"
                        out(f"server.records_per_s{tag}", res.records_per_s, "records/s")
                        out(f"server.receipt_p95_s{tag}", res.receipt_p95_s, "s")
                        out(f"server.busy_waits{tag}", res.busy_waits, "answers")
                        out(f"server.errors{tag}", res.errors, "batches")
                        if res.worker_balance is not None:
                            out(f"server.worker_balance{tag}", res.worker_balance, "x")
                        rates[(name, workers, conc, batch)] = res.records_per_s
                        errors += res.errors
                        cpu = res.cpu_s_per_record
                        if conc == 32:
                            timeouts_c32 += res.timeouts
                            resets_c32 += res.resets
                            p95_c32.append(res.receipt_p95_s)
                        if workers == 1 and conc == 32 and batch == 100 and (
                                cpu_per_record is None or name == "postgres"):
                            cpu_per_record = cpu
                        if conc == 32 and batch == 100:
                            cpu_by[(name, workers)] = cpu
                            out(f"server.cpu_ms_per_record[{name},P{workers}]", cpu * 1000,
                                "ms")
                            out(f"server.records_per_cpu_s[{name},P{workers}]",
                                1 / cpu if cpu else 0.0, "records/s")
                            for part, used in res.cores.items():
                                out(f"server.cores[{name},P{workers},{part}]", used, "cores")
    out("server.errors", errors, "batches")
    out("server.timeout_resends_c32", timeouts_c32, "resends")
    out("server.connection_resets_c32", resets_c32, "resends")
    out("server.receipt_p95_s", max(p95_c32), "s")
    ref = "postgres" if pg else "sqlite"
    if (ref, 2, 32, 100) in rates:
        ratios = scaling_rounds(pg if ref == "postgres" else None, pool, version, rng)
        for k, ratio in enumerate(ratios, 1):
            out(f"server.scaling_2_vs_1[round {k}]", ratio, "x")
        out("server.scaling_2_vs_1", statistics.median(ratios), "x")
    if (ref, 2) in cpu_by and cpu_by[(ref, 2)]:
        out("server.scaling_2_vs_1_cpu", 2 * cpu_by[(ref, 1)] / cpu_by[(ref, 2)], "x")
    vms = validation_ms_per_record(pool, version)
    if cpu_per_record:
        out("server.cpu_ms_per_record", cpu_per_record * 1000, "ms")
        out("server.validation_ms_per_record", vms, "ms")
    national_day(pg, 2 if pg else 1, pool, version, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
