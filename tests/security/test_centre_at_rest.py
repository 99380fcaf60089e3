"""Encryption at rest at the centre (issue 19 item 4): answers, return reasons, inbox
messages, receipts and device labels are sealed with a key kept apart from the
database; a plaintext scan of the data folder (SQLite) and of the PostgreSQL tables
finds no seeded name or DNI, while the admin commands and exports still read them."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine, text

from server.sealing import KEY_FILE
from server.testing import running_server
from tests.server.backends import BACKENDS, db_url_for
from tests.server.siee_client import Device

NAME, DNI, WITNESS = "Teodora Quispe Mamani", "40917263", "Huarachi"


def _seed(srv) -> str:
    dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"), label=f"laptop de {WITNESS}")
    rec = dev.record(answers={"tipo_solicitud": "determinacion", "jefe": NAME, "dni": DNI})
    assert dev.send([rec]).results[0].status == "accepted"
    srv.admin.return_record(rec.uuid, None, [f"El DNI {DNI} de {NAME} no coincide."])
    msgs = dev.inbox()
    assert any(NAME in " ".join(m.payload.get("reasons", [])) for m in msgs)
    srv.admin.revoke_device(dev.device_id, f"robada a {WITNESS}")
    return rec.uuid


def _scan(blob: bytes) -> list[str]:
    return [s for s in (NAME, DNI, WITNESS, "Quispe") if s.encode() in blob]


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_personal_data_in_clear_at_the_centre(backend, tmp_path):
    url, reset = db_url_for(backend, tmp_path)
    with running_server(db_url=url, reset_db=reset, log_level="info") as srv:
        uuid = _seed(srv)
        # the centre still reads everything
        rec = srv.admin.get_record(uuid)
        assert rec["answers"]["/s100/jefe"] == NAME and DNI in rec["return_reasons"][0]
        out = io.StringIO()
        srv.admin.export_csv(out)
        assert NAME in out.getvalue()
        dev = srv.admin.list_devices()[-1]
        assert WITNESS in dev["label"] and WITNESS in dev["revoke_reason"]
        key = srv.data_dir / KEY_FILE
        assert key.stat().st_mode & 0o077 == 0
        if url is None:  # SQLite: every file of the data folder, WAL included
            found = {}
            for f in srv.data_dir.rglob("*"):
                if f.is_file() and f != key:
                    hits = _scan(f.read_bytes())
                    if hits and f.name != "server.log":
                        found[f.name] = hits
            assert not found, found
            for f in srv.data_dir.glob("siee-server.db*"):
                assert f.stat().st_mode & 0o077 == 0, f
        else:  # PostgreSQL: every column of every table, as text
            engine = create_engine(url)
            try:
                with engine.connect() as c:
                    tables = [r[0] for r in c.execute(text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
                    dump = b"".join(
                        str(row).encode() for t in tables
                        for row in c.execute(text(f'SELECT * FROM "{t}"')))
            finally:
                engine.dispose()
            assert not _scan(dump)
        assert NAME not in srv.log_text() and DNI not in srv.log_text()
