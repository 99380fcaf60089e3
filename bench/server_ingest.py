"""The server's ingest path per record, form validation excluded, in one process:
prints `name: value unit` lines; exits non-zero if it cannot measure.

A Service (SQLite file, and PostgreSQL when SIEE_BENCH_PG_URL or SIEE_TEST_PG_URL is
set) receives prepared 100-record FSU batches from an enrolled device through the same
calls the HTTP route makes (`authenticate` with signed headers, then `ingest`), without
HTTP. The calling thread's CPU time (time.thread_time) is measured around each batch;
the form engine's check is measured by the server itself (server.validation.BatchCheck,
logged per batch by server.batches) and subtracted:

server.ingest_nonvalidation_ms_per_record[DB]         this tree's ingest, validation
                                                      excluded (decrypt, signature,
                                                      JSON, hashes, sealing, DB writes,
                                                      receipt, audit, cases), per record
server.ingest_nonvalidation_ms_per_record_before[DB]  the same with server/ and
                                                      app/sync/ as they were at BASELINE
                                                      (git archive, in a subprocess, same
                                                      run)
server.ingest_nonvalidation_before_vs_now[DB]         before / now

Now and before are measured alternately, twice each; the lowest of each is printed
(a shared machine's load only ever adds).

PostgreSQL's own CPU is not counted (another process); only the server's Python.
SIEE_BENCH_PROFILE=1 also prints the top functions of a cProfile run (this tree).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = os.environ.get("SIEE_BENCH_TREE")  # the "before" tree (subprocess), else this one
sys.path.insert(0, TREE or str(ROOT))

BASELINE = "6180a1e"  # main before this work on the ingest path (issue 20, session 4)
ULE = "150101"
BATCH = 100
BATCHES = 8
ROUNDS = 2
_VALIDATION_LOG = re.compile(r"form validation ([0-9.]+) ms CPU for ([0-9]+) records")


class _Grab(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.cpu_ms = 0.0
        self.checked = 0

    def emit(self, record: logging.LogRecord) -> None:
        m = _VALIDATION_LOG.search(record.getMessage())
        if m:
            self.cpu_ms += float(m[1])
            self.checked += int(m[2])


def measure(db_url: str | None, profile: bool = False) -> dict[str, float]:
    """Ingest BATCHES batches of BATCH records after one warm-up batch; returns CPU ms
    per record {total, validation, nonvalidation}."""
    from app.demo import households
    from app.demo_answers import fsu_answers
    from app.forms import bundled_form
    from app.sync import protocol as p
    from server.db import drop_all
    from server.service import Service
    from server.settings import Settings

    grab = _Grab()
    lg = logging.getLogger("siee.server.batches")
    lg.setLevel(logging.INFO)
    lg.addHandler(grab)
    lg.propagate = False
    root = Path(tempfile.mkdtemp(prefix="siee-bench-ingest-"))
    if db_url:
        drop_all(db_url)
    svc = Service(Settings(data_dir=root, db_url=db_url or "", rate_per_minute=0))
    try:
        key = p.new_signing_key()
        code = svc.create_enroll_code(ULE)[0]
        dev = svc.enroll(p.enrollment_request(code, key, "bench"))
        version = str(bundled_form("fsu").version)
        pool = [fsu_answers(hh) for hh in households(BATCH * (BATCHES + 1), 777)]
        svc.validator.warm_up()
        envs = []
        for i in range(BATCHES + 1):
            now = time.time()
            recs = [p.BatchRecord(
                uuid=str(uuidlib.uuid4()), revision=1, form_id="fsu", form_version=version,
                ule_ubigeo=ULE, author="enum01", answers=a, completed_at=p.utc_now_iso(now),
                approved_at=p.utc_now_iso(now),
            ) for a in pool[i * BATCH:(i + 1) * BATCH]]
            env = p.build_batch(recs, dev["device_id"], key, dev["server_encryption_key"],
                                level=6)
            data = env.to_bytes()
            path = f"/v1/batches/{env.batch_id}"
            envs.append((path, env.batch_id, data))

        def one(path: str, batch_id: str, data: bytes) -> None:
            headers = p.sign_request("PUT", path, data, dev["device_id"], key)
            t0 = time.thread_time()
            row = svc.authenticate("PUT", path, data, headers)
            svc.ingest(data, "http", row, batch_id)
            spent[0] += time.thread_time() - t0

        spent = [0.0]
        one(*envs[0])  # warm-up: first connection, statements compiled, forms loaded
        grab.cpu_ms = grab.checked = 0
        spent = [0.0]
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        for e in envs[1:]:
            one(*e)
        if prof is not None:
            prof.disable()
            import pstats

            s = io.StringIO()
            st = pstats.Stats(prof, stream=s).sort_stats("cumulative")
            st.print_callees(r"batches.py:\d+\((ingest|_store)\)")
            st.print_callees(r"devices.py:\d+\(authenticate\)")
            print(s.getvalue(), file=sys.stderr)
        n = BATCH * BATCHES
        if svc.counts()["records"] != n + BATCH or grab.checked != n:
            raise RuntimeError(f"stored {svc.counts()['records']}, validated {grab.checked}")
        total = spent[0] * 1000 / n
        val = grab.cpu_ms / n
        return {"total": total, "validation": val, "nonvalidation": total - val}
    finally:
        svc.close()
        if db_url:
            drop_all(db_url)


def before_tree(tmp: Path) -> Path | None:
    """This tree with server/ and app/sync/ as they were at BASELINE (None without git)."""
    try:
        blob = subprocess.run(["git", "archive", BASELINE, "server", "app/sync"], cwd=ROOT,
                              check=True, capture_output=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # The rest of app/ (form engine, demo data) as it is now, so only the ingest differs.
    blob_app = subprocess.run(["git", "archive", "HEAD", "app"], cwd=ROOT, check=True,
                              capture_output=True, timeout=120).stdout
    with tarfile.open(fileobj=io.BytesIO(blob_app)) as tar:
        tar.extractall(tmp, filter="data")
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(tmp, filter="data")
    return tmp


def _before(tree: Path, url: str) -> dict[str, float] | None:
    """measure() run on the BASELINE tree, in a subprocess."""
    env = {**os.environ, "SIEE_BENCH_TREE": str(tree), "PYTHONPATH": str(tree)}
    res = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", url],
                         cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        print(f"before run failed: {res.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        url = sys.argv[2] or None
        print(json.dumps(measure(url)))
        return 0
    pg = os.environ.get("SIEE_BENCH_PG_URL") or os.environ.get("SIEE_TEST_PG_URL")
    backends = [("sqlite", "")] + ([("postgres", pg)] if pg else [])
    with tempfile.TemporaryDirectory(prefix="siee-bench-before-") as tmp:
        tree = before_tree(Path(tmp))
        for name, url in backends:
            nows: list[dict[str, float]] = []
            befores: list[dict[str, float]] = []
            for _round in range(ROUNDS):  # alternated, the lowest of each kept (load)
                nows.append(measure(url or None,
                                    profile=os.environ.get("SIEE_BENCH_PROFILE") == "1"))
                if tree is not None:
                    before = _before(tree, url)
                    if before is None:
                        return 1
                    befores.append(before)
            now = min(nows, key=lambda d: d["nonvalidation"])
            print(f"server.ingest_cpu_ms_per_record[{name}]: {now['total']:.2f} ms")
            print(f"server.ingest_validation_ms_per_record[{name}]: {now['validation']:.2f} ms")
            print(f"server.ingest_nonvalidation_ms_per_record[{name}]: "
                  f"{now['nonvalidation']:.2f} ms", flush=True)
            if befores:
                b = min(d["nonvalidation"] for d in befores)
                print(f"server.ingest_nonvalidation_ms_per_record_before[{name}]: {b:.2f} ms")
                print(f"server.ingest_nonvalidation_before_vs_now[{name}]: "
                      f"{b / now['nonvalidation']:.2f} x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
