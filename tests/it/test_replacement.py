"""Replacing a laptop: backup on laptop A (some records delivered, some in a USB
batch the centre imported but whose receipt never came back, some never sent),
A revoked, restore on laptop B, B enrolled anew and synced: every record reaches
the centre exactly once and ends DELIVERED on B. Real server on loopback."""

from __future__ import annotations

from pathlib import Path

from app.store.backup import restore_backup
from app.workspace import Workspace
from server.cli import import_batch
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE, add_queued, assert_exactly_once, server, server_rows, states

__all__ = ["server"]  # the module-scoped real server fixture


def test_replaced_laptop_sends_everything_exactly_once(server, tmp_path: Path) -> None:

    a, code = Workspace.create(tmp_path / "a", "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)
    client_a = a.centre.client(read_timeout=20)
    client_a.enroll(server.url, server.admin.enroll_code(ULE))
    device_a = a.centre.device().device_id
    delivered = add_queued(a, 3, seed=301)
    client_a.sync()
    usb = tmp_path / "usb"
    usb.mkdir()
    in_usb = add_queued(a, 3, seed=302)
    files = client_a.export_batches(usb)
    assert files
    for f in files:  # the centre imports the file; its receipt never reaches laptop A
        assert import_batch(server.admin.service, f, None) == 0
    unsent = add_queued(a, 2, seed=303)
    st = states(a)
    assert {st[u] for u in delivered} == {"DELIVERED"}
    assert {st[u] for u in in_usb + unsent} == {"QUEUED"}
    bak = a.admin.backup_to(tmp_path / "a.sieebak")
    a.close()
    server.admin.revoke_device(device_a, "laptop robada")

    res = restore_backup(bak.path, tmp_path / "b", recovery_code=code)
    assert res.records == 8 and res.enrollment_cleared
    b = Workspace.open(tmp_path / "b", kdf=FAST_KDF)
    try:
        b.login("admin", ADMIN_PW)
        assert b.centre.device() is None  # the old identity is not reused
        assert states(b) == st
        client_b = b.centre.client(read_timeout=20)
        client_b.enroll(server.url, server.admin.enroll_code(ULE))
        assert b.centre.device().device_id != device_a
        client_b.sync()
        everything = delivered + in_usb + unsent
        assert_exactly_once(server, b, everything)
        assert len([r for r in server_rows(server) if r[0] in set(everything)]) == 8
        # the support report sees the new enrollment and the batches, without answers
        from app.cli.doctor import doctor_report, format_report

        rep = doctor_report(tmp_path / "b")
        sy = rep["database"]["sync"]
        assert sy["device_id"] == b.centre.device().device_id and sy["batches"].get("done", 0) >= 1
        assert rep["database"]["records"]["DELIVERED"] == 8
        text = format_report(rep)
        assert f"equipo inscrito: {sy['device_id']}" in text and "Entregada: 8" in text
        for u in everything:
            for v in b.load_answers(u).values():
                if isinstance(v, str) and len(v) >= 6:
                    assert v not in text
    finally:
        b.close()
