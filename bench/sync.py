"""Sync benchmarks against the reference server on 127.0.0.1: prints `name: value unit`.

sync.records_per_s           whole sync (outbox, adaptive batches, receipts applied, inbox)
                             of 5,000 FSU records, prepared as the window does while idle
                             (the form engine's submission of each record, once per revision)
sync.records_per_s_cold      the same with that preparation inside the sync (CLI, first sync)
sync.prepare_ms_per_record   that preparation alone
sync.bytes_per_record        envelope bytes on the wire per record
sync.bytes_vs_json_ratio     those bytes vs the records' plain (canonical) JSON
sync.vs_raw_http_ratio       the whole sync vs raw requests PUTs of the same envelope bytes,
                             in the same batch sizes, to an identical server (same run);
                             _cold: with the preparation inside the sync
sync.day_at_256kbps_ratio    a day of work (40 FSU records) through a local proxy throttled
                             to 256 kbit/s, vs (all bytes through the proxy) x 8 / 256,000 s
sync.flaky_exactly_once      1 when, through a fault-injecting proxy, the server ends with
                             every record exactly once and the laptop with all DELIVERED
sync.flaky_vs_clean_ratio    time to deliver 300 records through that proxy (retrying as the
                             scheduler does) vs the same through a clean link
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import uuid as uuidlib
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from app.demo import households  # noqa: E402
from app.demo_answers import fsu_answers  # noqa: E402
from app.forms import bundled_form  # noqa: E402
from app.store.crypto import KdfParams  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.records import RecordMeta  # noqa: E402
from app.sync import protocol as p  # noqa: E402
from app.sync.client import SyncClient  # noqa: E402
from app.sync.model import SyncError  # noqa: E402
from app.workspace import Workspace  # noqa: E402
from devtools.netsim import NetProxy  # noqa: E402
from server.service import Service  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.testing import running_server  # noqa: E402

ULE = "150101"
N = 5000
DAY = 40
FLAKY = 300
KDF = KdfParams(n=2**10, r=8, p=1)


class RecordingClient(SyncClient):
    """The real client, noting each envelope it uploads (for the raw baseline)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.sent: list[tuple[str, bytes]] = []

    def _upload(self, t: Any, dev: Any, b: Any, envelope: bytes, *rest: Any) -> Any:
        self.sent.append((b.batch_id, envelope))
        return super()._upload(t, dev, b, envelope, *rest)


def workspace(root: Path, name: str) -> Workspace:
    ws, _ = Workspace.create(root / name, "admin", "clave-bench-123", ule_ubigeo=ULE, kdf=KDF)
    return ws


def add_queued(ws: Workspace, n: int, seed: int, on_visit_day: bool = False) -> list[str]:
    """n demo FSU records queued for sending, completed now or, with `on_visit_day`,
    at noon of their visit's day (records that waited weeks for a connection)."""
    ver = str(bundled_form("fsu").version)
    now = time.time()
    out = []
    assert ws.user is not None
    with transaction(ws.db) as conn:
        for i, hh in enumerate(households(n, seed)):
            answers = fsu_answers(hh)
            done = now
            visit = answers.get("/fsu/control/fecha_visita")
            if on_visit_day and visit:
                done = datetime.fromisoformat(f"{visit}T12:00").timestamp()
            m = RecordMeta(uuid=str(uuidlib.uuid4()), revision=1, form_id="fsu",
                           form_version=ver, state="QUEUED", created_at=done, updated_at=done,
                           author_id=ws.user.id, assignee_id=None, ule_ubigeo=ULE,
                           completed_at=done, approved_at=now + i)
            ws.records.insert(conn, m, answers, {})
            out.append(m.uuid)
    return out


def exactly_once(service: Service, ws: Workspace, uuids: list[str]) -> bool:
    rows = [(r["uuid"], r["revision"]) for r in service.list_records(limit=10**7)]
    if len(rows) != len(set(rows)) or not set(uuids) <= {u for u, _ in rows}:
        return False
    st = dict(ws.db.execute("SELECT uuid, state FROM records").fetchall())
    return all(st[u] == "DELIVERED" for u in uuids)


def raw_puts(url: str, dev_id: str, key: Any, sent: list[tuple[str, bytes]]) -> float:
    s = requests.Session()
    s.trust_env = False
    t0 = time.perf_counter()
    for bid, data in sent:
        path = f"/v1/batches/{bid}"
        h = p.sign_request("PUT", path, data, dev_id, key)
        h["Content-Type"] = p.BATCH_CONTENT_TYPE
        r = s.put(url + path, data=data, headers=h, timeout=300)
        if r.status_code != 200:
            raise RuntimeError(f"raw PUT failed: {r.status_code} {r.text[:200]}")
    s.get(url + "/v1/health", timeout=30)  # the sync's inbox round trip, roughly
    return time.perf_counter() - t0


def deliver_until_done(c: SyncClient, limit_s: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        try:
            if c.sync(inbox=False).pending_left == 0:
                return time.perf_counter() - t0
        except SyncError as e:
            if not e.transient:
                raise
            time.sleep(0.05)
    raise RuntimeError("flaky sync did not finish")


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="siee-bench-sync-"))
    try:
        return run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def timed_sync(ws_dir: Path, srv_dir: Path) -> tuple[float, list[tuple[str, bytes]], Any]:
    """Sync a copy of the workspace to a copy of the server (alone on the machine)."""
    ws = Workspace.open(ws_dir, kdf=KDF)
    ws.login("admin", "clave-bench-123")
    try:
        with running_server(data_dir=srv_dir, log_level="warning", rate_per_minute=0) as srv:
            ws.centre.update_server_url(srv.url)
            requests.get(srv.url + "/v1/health", timeout=30)
            c = RecordingClient(ws.centre.ports, read_timeout=120)
            t0 = time.perf_counter()
            rep = c.sync()
            sync_s = time.perf_counter() - t0
            uuids = [r[0] for r in ws.db.execute("SELECT uuid FROM records")]
            if not exactly_once(srv.admin.service, ws, uuids):
                raise RuntimeError("sync did not deliver every record exactly once")
            dev = ws.centre.device()
            assert dev is not None
            ident = (dev.device_id, ws.centre.ports.device_key(), rep.batches)
        return sync_s, c.sent, ident
    finally:
        ws.close()


def timed_raw(srv_dir: Path, ident: Any, sent: list[tuple[str, bytes]]) -> float:
    with running_server(data_dir=srv_dir, log_level="warning", rate_per_minute=0) as srv:
        requests.get(srv.url + "/v1/health", timeout=30)
        raw_s = raw_puts(srv.url, ident[0], ident[1], sent)
        if srv.admin.counts()["records"] != N:
            raise RuntimeError("raw baseline stored a different number of records")
    return raw_s


def run(root: Path) -> int:
    base_srv = root / "server-base"
    svc = Service(Settings(data_dir=base_srv, rate_per_minute=0))
    codes = [svc.create_enroll_code(ULE)[0] for _ in range(4)]
    ws = workspace(root, "campo")
    with running_server(data_dir=base_srv, log_level="warning", rate_per_minute=0) as a:
        ws.centre.client().enroll(a.url, codes[0])
    svc.close()
    add_queued(ws, N, seed=1)
    ws.close()
    for name in ("s1", "s2", "s3", "r1", "r2"):
        shutil.copytree(base_srv, root / name)
    shutil.copytree(root / "campo", root / "cold")
    # What the window does while idle: the form engine's submission of each queued
    # record (answers set aside by skips are not sent), computed once per revision.
    ws = Workspace.open(root / "campo", kdf=KDF)
    ws.login("admin", "clave-bench-123")
    t0 = time.perf_counter()
    while ws.centre.prepare(500):
        pass
    prep_s = time.perf_counter() - t0
    plain = sum(len(r.canonical()) for r in ws.centre.ports.take_outbox(N))
    ws.close()
    for name in ("w1", "w2"):
        shutil.copytree(root / "campo", root / name)
    # Sync and raw upload alternate (sync, raw, raw, sync) so that the load of a shared
    # machine drifting during the run weighs on both sides alike.
    sync1, sent, ident = timed_sync(root / "w1", root / "s1")
    raw1 = timed_raw(root / "r1", ident, sent)
    raw2 = timed_raw(root / "r2", ident, sent)
    sync2, _sent2, _ = timed_sync(root / "w2", root / "s2")
    cold, _sent3, _ = timed_sync(root / "cold", root / "s3")
    wire = sum(len(e) for _, e in sent)
    print(f"sync.records_per_s: {N / min(sync1, sync2):.0f} records/s")
    print(f"sync.records_per_s_cold: {N / cold:.0f} records/s")
    print(f"sync.prepare_ms_per_record: {1000 * prep_s / N:.2f} ms")
    print(f"sync.batches: {ident[2]} batches")
    print(f"sync.bytes_per_record: {wire / N:.0f} bytes")
    print(f"sync.bytes_vs_json_ratio: {wire / plain:.3f} ratio")
    print(f"sync.vs_raw_http_ratio: {(sync1 + sync2) / (raw1 + raw2):.2f} ratio")
    print(f"sync.vs_raw_http_ratio_cold: {2 * cold / (raw1 + raw2):.2f} ratio")

    with running_server(data_dir=base_srv, log_level="warning", rate_per_minute=0) as a:
        # A day of work on a 256 kbit/s link.
        rate = 256_000 / 8
        ws2 = workspace(root, "campo-256k")
        c2 = ws2.centre.client(read_timeout=120)
        c2.enroll(a.url, codes[1])
        day = add_queued(ws2, DAY, seed=2)
        ws2.centre.prepare(DAY)  # approved during the day; prepared while the window idled
        with NetProxy(("127.0.0.1", a.port), rate_bps=rate) as proxy:
            ws2.centre.update_server_url(proxy.url)
            t0 = time.perf_counter()
            c2.sync()
            day_s = time.perf_counter() - t0
            moved = proxy.bytes_up + proxy.bytes_down
        if not exactly_once(a.admin.service, ws2, day):
            print("256 kbit/s sync incomplete", file=sys.stderr)
            return 1
        print(f"sync.day_at_256kbps_s: {day_s:.2f} s")
        print(f"sync.day_at_256kbps_ratio: {day_s / (moved * 8 / 256_000):.2f} ratio")

        # Flaky vs clean link, same number of records, same client settings.
        ws3 = workspace(root, "campo-clean")
        c3 = ws3.centre.client(connect_timeout=1.0, read_timeout=1.0)
        c3.enroll(a.url, codes[2])
        clean_ids = add_queued(ws3, FLAKY, seed=3)
        clean_s = deliver_until_done(c3, 120)
        ws4 = workspace(root, "campo-flaky")
        c4 = ws4.centre.client(connect_timeout=1.0, read_timeout=1.0)
        c4.enroll(a.url, codes[3])
        flaky_ids = add_queued(ws4, FLAKY, seed=4)
        weights = {"refuse": 1.0, "reset_request": 1.0, "reset_response": 1.5,
                   "truncate": 1.0, "stall": 0.3}
        with NetProxy(("127.0.0.1", a.port), fault_rate=0.5, weights=weights, stall_s=1.5,
                      seed=11, cut_span=(60000, 4000), script=[*weights, None]) as proxy:
            ws4.centre.update_server_url(proxy.url)
            flaky_s = deliver_until_done(c4, 150)
            faults = sum(proxy.faults.values())
        ok = exactly_once(a.admin.service, ws3, clean_ids) and exactly_once(
            a.admin.service, ws4, flaky_ids)
        print(f"sync.flaky_faults: {faults} faults")
        print(f"sync.flaky_exactly_once: {int(ok)} bool")
        print(f"sync.flaky_vs_clean_ratio: {flaky_s / clean_s:.2f} ratio")
        for w in (ws2, ws3, ws4):
            w.close()
        a.process.kill()  # the faults leave half-open connections a graceful stop waits for
    return 0


if __name__ == "__main__":
    sys.exit(main())
