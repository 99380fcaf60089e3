"""Alembic migrations: a database created by the previous release (its schema code,
with data in it) is upgraded by `siee-server db upgrade`, keeps its data and serves."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect

from app.sync import protocol as p
from server.cli import main
from server.db import SchemaOutdated, current_revision, drop_all, head_revision
from server.service import Service
from server.settings import Settings
from tests.server import schema_v1 as v1
from tests.server.backends import BACKENDS, db_url_for

UUID = "6f1c2b1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


def _old_database(url: str) -> None:
    """What the previous release left: its tables (no alembic_version) and some data."""
    engine = create_engine(url)
    try:
        v1.metadata.create_all(engine)
        with engine.begin() as c:
            c.execute(v1.devices.insert().values(
                device_id="dev-old", public_key="k" * 43, ule_ubigeo="150101", label="antigua",
                app_version="0.1.0", status="active", enrolled_at="2026-10-01T10:00:00Z"))
            c.execute(v1.records.insert().values(
                uuid=UUID, revision=1, content_sha256="0" * 64, form_id="s100", form_version="1",
                ule_ubigeo="150101", author="enum01",
                answers=json.dumps({"nota": "registro de la versión anterior"}),
                completed_at="2026-10-02T10:00:00Z", device_id="dev-old", batch_id="b" * 36,
                received_at="2026-10-02T11:00:00Z", status="received"))
            c.execute(v1.messages.insert().values(
                device_id="dev-old", kind="settings_changed", created_at="2026-10-03T00:00:00Z",
                payload=p.canonical_json({"settings": {"x": 1}}).decode()))
            c.execute(v1.nonces.insert().values(device_id="dev-old", nonce="n" * 32, ts=1))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_previous_release(backend, tmp_path, capsys):
    url, reset = db_url_for(backend, tmp_path)
    url = url or f"sqlite:///{tmp_path / 'old.db'}"
    if reset:
        drop_all(url)
    _old_database(url)
    settings = Settings(data_dir=tmp_path / "data", db_url=url)

    with pytest.raises(SchemaOutdated) as e:  # the new program refuses the old schema...
        Service(settings)
    assert "siee-server db upgrade" in e.value.message
    assert main(["db", "status", "--data", str(settings.data_dir), "--db", url]) == 3

    assert main(["db", "upgrade", "--data", str(settings.data_dir), "--db", url]) == 0
    said = capsys.readouterr().out
    assert f"0001 -> {head_revision()}" in said and "quedaron cifrados" in said
    if url.startswith("sqlite"):  # the old plain values are gone from the file itself
        db_file = tmp_path / "old.db"
        blob = b"".join(f.read_bytes() for f in tmp_path.glob("old.db*"))
        assert db_file.exists() and "versión anterior".encode() not in blob

    svc = Service(settings)  # ...and serves once upgraded, with the old data in place
    try:
        rec = svc.get_record(UUID)
        assert rec["answers"] == {"nota": "registro de la versión anterior"}
        assert [d["device_id"] for d in svc.list_devices()] == ["dev-old"]
        assert svc.inbox("dev-old")["messages"][0]["payload"] == {"settings": {"x": 1}}
        assert inspect(svc.engine).has_table("rate_counters")
        # the new tables work: a return reaches the old device's inbox
        svc.return_record(UUID, None, ["Falta la firma del informante."])
        assert svc.get_record(UUID)["status"] == "returned"
        assert svc.devices.throttle.hit("dev:dev-old", 5) is None
    finally:
        svc.close()
    assert main(["db", "upgrade", "--data", str(settings.data_dir), "--db", url]) == 0
    assert "ya está en la versión" in capsys.readouterr().out
    assert main(["db", "status", "--data", str(settings.data_dir), "--db", url]) == 0
    if reset:
        drop_all(url)


def test_serve_refuses_an_outdated_database(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _old_database(url)
    rc = main(["serve", "--data", str(tmp_path / "d"), "--db", url, "--port", "0"])
    assert rc == 1
    assert "siee-server db upgrade" in capsys.readouterr().err


def test_new_database_is_created_at_the_newest_revision(tmp_path):
    svc = Service(Settings(data_dir=tmp_path))
    try:
        with svc.engine.connect() as c:
            assert current_revision(c) == head_revision()
        assert (tmp_path / "siee-server.db").stat().st_mode & 0o077 == 0
        assert tmp_path.stat().st_mode & 0o077 == 0
    finally:
        svc.close()
