"""Makes ``schema4-main.db``: a laptop database as the program of main at commit
3e45be4 (store schema 4: record MACs in ``records.row_mac``) leaves it, for the
migration test (tests/store/test_migration_v5.py).

Run with THAT program first on the path, e.g.::

    cd /work/main && PYTHONPATH=$PWD .venv/bin/python \\
        /path/to/tests/store/data/make_schema4_db.py OUT_DIR

The password is ``clave-admin-123`` for ``admin`` and ``clave-ana-1`` for ``ana``
(fast scrypt cost, as in the tests). Records, by head name: A draft, B complete,
C and D queued, E returned then edited (revision 2, draft), F queued by ana."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from app.store.crypto import KdfParams
from app.store.db import DB_NAME
from app.workspace import Workspace
from tests.store.hooks import PlainHooks


def main(out_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "datos"
        ws, _code = Workspace.create(data, "admin", "clave-admin-123", ule_ubigeo="150101",
                                     kdf=KdfParams(n=2**10, r=8, p=1), hooks=PlainHooks())
        ws.settings.update(review_required=True)
        ws.admin.add_user("ana", "empadronador", "clave-ana-1")
        ws.logout()
        ws.login("ana", "clave-ana-1")
        a = ws.new_record("fsu", "1", {"head": "A", "dnis": ["10000001"]})
        b = ws.new_record("fsu", "1", {"head": "B"})
        ws.complete(b)
        c = ws.new_record("fsu", "1", {"head": "C"})
        ws.complete(c)
        d_ = ws.new_record("fsu", "1", {"head": "D"})
        ws.complete(d_)
        e = ws.new_record("fsu", "1", {"head": "E"})
        ws.complete(e)
        f = ws.new_record("fsu", "1", {"head": "F"})
        ws.complete(f)
        ws.logout()
        ws.login("admin", "clave-admin-123")
        ws.review.approve(c)
        ws.review.approve(d_)
        ws.review.approve(f)
        ws.review.return_record(e, "Revise el apellido")
        ws.logout()
        ws.login("ana", "clave-ana-1")
        ws.save_answers(e, {"head": "E2"})
        ws.close()
        del a
        con = sqlite3.connect(data / DB_NAME)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / DB_NAME, out_dir / "schema4-main.db")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
