"""Store benchmarks: prints `name: value unit` lines (see DESIGN.md "Measuring").

store.save_p95_ms            encrypt + write + audit of one FSU-sized record (durable commit)
store.encrypted_vs_plain_ratio  the same saves through the store vs plain sqlite3 + JSON
store.save_cpu_ms            process CPU per store save (the store's own work; far less
                             sensitive to other load on the machine than the wall times)
store.list_50k_ms            list-view data for 50,000 records: every row's metadata and the
                             decrypted summaries of the first screenful (summaries decrypt lazily)
store.list_50k_all_names_ms  the same with every summary decrypted (e.g. sorting by name)
store.find_dni_ms            find by DNI (keyed hash) among 50,000 records
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.states import State  # noqa: E402
from app.demo import households  # noqa: E402
from app.store.crypto import KdfParams  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.records import RecordMeta  # noqa: E402
from app.workspace import Workspace  # noqa: E402

SAVES = 300
LIST_N = 50_000
SCREEN_ROWS = 40


class BenchHooks:
    """Summary and DNIs straight from the demo household (no form engine in the loop)."""

    def facts(self, form_id, version, answers):
        head = answers["members"][0]
        summary = {
            "head": f"{head['apellido_paterno']} {head['nombres']}",
            "dni": head["dni"],
            "ubigeo": answers["ubigeo"],
            "members": len(answers["members"]),
        }
        return summary, [m["dni"] for m in answers["members"] if m["dni"]]

    def validate(self, form_id, version, answers):
        return [], []


def fsu_like(hh) -> dict:
    d = dataclasses.asdict(hh)
    d["survey_date"] = str(hh.survey_date)
    for m in d["members"]:
        m["birth"] = str(m["birth"])
        # the FSU asks ~30 questions per member
        m.update({f"p{k}": str(k) for k in range(20)})
    d.update({f"v{k}": "opcion larga de ejemplo" for k in range(60)})
    return d


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_saves(tmp: Path, answers: list[dict]) -> tuple[list[float], float, float]:
    """Store saves and plain sqlite3 saves, interleaved so both see the same noise."""
    ws, _ = Workspace.create(
        tmp / "enc", "admin", "bench-12345", kdf=KdfParams(n=2**12), hooks=BenchHooks()
    )
    uuids = [ws.new_record("fsu", "1", answers[0]) for _ in range(20)]
    con = sqlite3.connect(tmp / "plain.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE records(uuid TEXT PRIMARY KEY, answers TEXT, updated_at REAL)")
    for u in uuids:
        con.execute("INSERT INTO records VALUES (?,?,?)", (u, json.dumps(answers[0]), time.time()))
    times: list[float] = []
    enc_total = plain_total = enc_cpu = 0.0
    for i, a in enumerate(answers):
        u = uuids[i % len(uuids)]
        c0 = time.process_time()
        t0 = time.perf_counter()
        ws.save_answers(u, a)
        t1 = time.perf_counter()
        enc_cpu += time.process_time() - c0
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "UPDATE records SET answers=?, updated_at=? WHERE uuid=?",
            (json.dumps(a, sort_keys=True), time.time(), u),
        )
        con.execute("COMMIT")
        t2 = time.perf_counter()
        times.append((t1 - t0) * 1000)
        enc_total += t1 - t0
        plain_total += t2 - t1
    ws.close()
    con.close()
    print(f"store.save_cpu_ms: {enc_cpu / len(answers) * 1000:.2f} ms")
    return times, enc_total, plain_total


def bench_list(tmp: Path, answers: list[dict]) -> tuple[float, float, float]:
    ws, _ = Workspace.create(
        tmp / "big", "admin", "bench-12345", kdf=KdfParams(n=2**12), hooks=BenchHooks()
    )
    hooks = BenchHooks()
    rng = random.Random(7)
    probe_dni = None
    now = time.time()
    # Bulk load through the store layer in large transactions (a bench shortcut;
    # the per-save path is measured above).
    with transaction(ws.db) as conn:
        for i in range(LIST_N):
            a = answers[i % len(answers)]
            summary, dnis = hooks.facts("fsu", "1", a)
            m = RecordMeta(
                str(uuidlib.UUID(int=rng.getrandbits(128))),
                1,
                "fsu",
                "1",
                rng.choice(list(State)).value,
                now - i,
                now - i,
                1,
                None,
                "150101",
            )
            ws.records.insert(conn, m, {"i": i}, summary)
            ws.records.set_dnis(conn, m.uuid, [f"{10_000_000 + i:08d}"] + dnis[:1])
            if i == LIST_N // 2:
                probe_dni = f"{10_000_000 + i:08d}"
    runs, full = [], []
    for _ in range(5):
        # What the list window needs: every row, and the names of the first screenful.
        t0 = time.perf_counter()
        rows = ws.list_records()
        shown = [r.summary["head"] for r in rows[:SCREEN_ROWS]]
        runs.append((time.perf_counter() - t0) * 1000)
        # Sorting by name needs every summary decrypted.
        t0 = time.perf_counter()
        rows = ws.list_records()
        names = sorted(r.summary.get("head", "") for r in rows)
        full.append((time.perf_counter() - t0) * 1000)
    assert len(rows) == LIST_N and len(shown) == SCREEN_ROWS and len(names) == LIST_N
    finds = []
    for _ in range(50):
        t0 = time.perf_counter()
        found = ws.find_by_dni(probe_dni)
        finds.append((time.perf_counter() - t0) * 1000)
    assert len(found) == 1
    ws.close()
    return statistics.median(runs), statistics.median(full), statistics.median(finds)


def main() -> int:
    hhs = households(60, seed=1)
    answers = [fsu_like(hhs[i % len(hhs)]) for i in range(SAVES)]
    size = statistics.mean(len(json.dumps(a)) for a in answers)
    with tempfile.TemporaryDirectory(prefix="siee-bench-") as d:
        tmp = Path(d)
        times, enc_total, plain_total = bench_saves(tmp, answers)
        list_ms, full_ms, find_ms = bench_list(tmp, answers)
    print(f"store.record_json_bytes: {size:.0f} bytes")
    print(f"store.save_p50_ms: {statistics.median(times):.2f} ms")
    print(f"store.save_p95_ms: {pct(times, 95):.2f} ms")
    print(f"store.encrypted_vs_plain_ratio: {enc_total / plain_total:.2f} ratio")
    print(f"store.list_50k_ms: {list_ms:.0f} ms")
    print(f"store.list_50k_all_names_ms: {full_ms:.0f} ms")
    print(f"store.find_dni_ms: {find_ms:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
