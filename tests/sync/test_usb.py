"""USB transfer: batch files out, receipt files back; repeats change nothing."""

from __future__ import annotations

import pytest

from app.sync import protocol as p
from app.sync.model import SyncError
from server.cli import import_batch
from tests.sync.conftest import add_queued, assert_exactly_once, server_rows, states


def _import_at_centre(server, path, capsys=None):
    assert import_batch(server.admin.service, path, None) == 0
    return path.parent / p.receipt_filename(path.name[len("siee-batch-"):-len(".sieb")])


def test_export_import_twice_changes_nothing(ws, enrolled, server, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    uuids = add_queued(ws, 40, seed=201)
    files = enrolled.export_batches(usb)
    assert files and all(f.name.startswith("siee-batch-") for f in files)
    assert ws.centre.status().in_flight == len(files) and ws.centre.outbox_count() == 0
    # The file is the same envelope as an upload: encrypted, no answers in clear.
    raw = files[0].read_bytes()
    assert raw[:4] == b"SIEB" and b"/fsu/integrantes" not in raw
    before = len(server_rows(server))
    receipts = [_import_at_centre(server, f) for f in files]
    first = [r.read_bytes() for r in receipts]
    # Taken to the centre twice: the same receipts, nothing stored twice.
    receipts2 = [_import_at_centre(server, f) for f in files]
    assert [r.read_bytes() for r in receipts2] == first
    assert len(server_rows(server)) == before + 40
    assert set(states(ws)[u] for u in uuids) == {"QUEUED"}
    outs = [enrolled.import_receipt(r) for r in receipts]
    assert sum(o.delivered for o in outs) == 40
    assert "Recibo importado. Se enviaron" in ws.centre.log()[0].text
    # Imported again: nothing changes.
    again = [enrolled.import_receipt(r) for r in receipts]
    assert all(o.already_applied and o.delivered == 0 for o in again)
    assert "ya había sido importado" in ws.centre.log()[0].text
    assert_exactly_once(server, ws, uuids)
    # A later online sync has nothing left to send.
    assert enrolled.sync().batches == 0


def test_file_imported_and_also_uploaded(ws, enrolled, server, tmp_path):
    uuids = add_queued(ws, 12, seed=202)
    (f,) = enrolled.export_batches(tmp_path)
    receipt = _import_at_centre(server, f)
    # The connection came back before the receipt file did: the upload of the same
    # batch gets the same receipt.
    rep = enrolled.sync()
    assert rep.batches == 1 and rep.outcome.delivered == 12
    stored = ws.db.execute("SELECT receipt FROM sync_batches").fetchone()[0]
    assert stored == receipt.read_bytes()
    out = enrolled.import_receipt(receipt)
    assert out.already_applied
    assert_exactly_once(server, ws, uuids)


def test_inbox_before_receipt_and_bad_files(ws, enrolled, server, tmp_path):
    uuids = add_queued(ws, 2, seed=203)
    (f,) = enrolled.export_batches(tmp_path)
    receipt = _import_at_centre(server, f)
    server.admin.post_result(uuids[0], None, "no_pobre", "2026-11-27", "2029-11-27")
    enrolled.sync(send=False)  # only the inbox
    st = states(ws)
    assert st[uuids[0]] == "RESULT" and st[uuids[1]] == "QUEUED"
    out = enrolled.import_receipt(receipt)
    assert out.delivered == 1 and out.unchanged == 1
    assert states(ws)[uuids[1]] == "DELIVERED"
    # A damaged receipt, or one for a batch this laptop never made, is refused.
    bad = tmp_path / "bad.json"
    bad.write_bytes(receipt.read_bytes().replace(b"accepted", b"invalid_"))
    with pytest.raises(SyncError) as e:
        enrolled.import_receipt(bad)
    assert "no es un recibo válido" in e.value.user_message
    with pytest.raises(SyncError):
        enrolled.import_receipt(tmp_path / "missing.json")
    with pytest.raises(SyncError):
        enrolled.export_batches(tmp_path / "no-such-folder")


def test_pending_batches_are_exported_as_they_are(ws, enrolled, server, tmp_path):
    add_queued(ws, 5, seed=204)
    dev, key = ws.centre.device(), ws.centre.ports.device_key()
    env, data = enrolled._build(dev, key, 5, "http")  # stored, never answered
    (f,) = enrolled.export_batches(tmp_path)
    assert f.read_bytes() == data and env.batch_id in f.name
