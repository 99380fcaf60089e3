"""Cost of the record-metadata MACs (app/store/integrity.py): prints `name: value unit`.

integrity.status_first_ms      sync-panel counts over N records, first call (every row MAC'd)
integrity.status_again_ms      the same call again (memoized rows: what each refresh costs)
integrity.status_plain_ratio   status_again over the same counts without the MAC check
integrity.login_check_ms       the check a log-in runs (every row, then the findings stored)

Usage: python bench/integrity.py [N]   (default 50000)
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.store import integrity  # noqa: E402
from app.store.crypto import KdfParams  # noqa: E402
from app.store.db import transaction  # noqa: E402
from app.store.records import RecordMeta  # noqa: E402
from app.workspace import Workspace  # noqa: E402


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws, _ = Workspace.create(Path(tmp) / "d", "admin", "clave-admin-123",
                                 ule_ubigeo="150101", kdf=KdfParams(n=2**10))
        now = time.time()
        with transaction(ws.db) as conn:
            for i in range(n):
                m = RecordMeta(uuid=str(uuidlib.uuid4()), revision=1, form_id="fsu",
                               form_version="1", state="QUEUED" if i % 3 else "DELIVERED",
                               created_at=now, updated_at=now + i, author_id=ws.user.id,
                               assignee_id=None, ule_ubigeo="150101", approved_at=now)
                ws.records.insert(conn, m, {}, {})
        ws.logout()
        ws.login("admin", "clave-admin-123")  # a fresh memo
        t = time.perf_counter()
        ws.centre.status()
        first = time.perf_counter() - t
        t = time.perf_counter()
        ws.centre.status()
        again = time.perf_counter() - t
        t = time.perf_counter()
        ws.db.execute("SELECT state, COUNT(*) FROM records WHERE quarantined=0 GROUP BY state")\
            .fetchall()
        ws.db.execute("SELECT COUNT(*) FROM records WHERE quarantined=1").fetchone()
        plain = time.perf_counter() - t
        t = time.perf_counter()
        integrity.damaged_uuids(ws.db.conn)
        login = time.perf_counter() - t
        ws.close()
    print(f"integrity.status_first_ms: {first * 1000:.1f} ms")
    print(f"integrity.status_again_ms: {again * 1000:.1f} ms")
    print(f"integrity.status_plain_ratio: {again / max(plain, 1e-9):.1f} x")
    print(f"integrity.login_check_ms: {login * 1000:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
