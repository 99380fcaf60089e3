"""USB inbox: a laptop with no link gets its inbox on the stick (request out, inbox back)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.sync import protocol as p
from app.sync.client import InboxImport
from app.sync.model import SyncError
from server.cli import export_inbox
from server.testing import REPO_ROOT
from tests.sync.conftest import add_queued, states


def _centre(server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args, "--data", str(server.data_dir),
         "--db", server.db_url],
        cwd=str(REPO_ROOT), capture_output=True, text=True, timeout=120)


def _record_state(ws, uuid: str) -> tuple[str, int]:
    row = ws.db.execute("SELECT state, revision FROM records WHERE uuid=?", (uuid,)).fetchone()
    return str(row[0]), int(row[1])


def _snapshot(ws) -> tuple[dict[str, str], int, list]:
    notes = ws.db.execute("SELECT uuid, updated_at FROM records ORDER BY uuid").fetchall()
    return states(ws), ws.centre.inbox_cursor(), notes


def test_usb_round_trip(ws, enrolled, server, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    uuids = add_queued(ws, 3, seed=301)
    dev = ws.centre.device()
    files = enrolled.export_batches(usb)
    request = usb / p.inbox_request_filename(dev.device_id)
    assert enrolled.last_inbox_request == request and request.exists()
    key = ws.centre.ports.device_key()
    req = p.verify_inbox_request(request.read_bytes(), p.public_key_text(key))
    assert req.device_id == dev.device_id and req.after == ws.centre.inbox_cursor()

    # Trip 1: the centre imports the batch; the request is answered (nothing yet).
    (batch,) = files
    r = _centre(server, "import-batch", str(batch))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    receipt = usb / p.receipt_filename(batch.name[len("siee-batch-"):-len(".sieb")])
    inbox0 = usb / p.inbox_filename(dev.device_id, req.after)
    assert receipt.exists() and inbox0.exists()
    assert "Archivo de novedades" in r.stdout

    # Back at the laptop: the receipt, and an inbox with nothing in it yet.
    assert enrolled.import_usb_file(receipt).delivered == 3
    empty = enrolled.import_usb_file(inbox0)
    assert isinstance(empty, InboxImport) and empty.total == 0
    assert "no había novedades" in ws.centre.log()[0].text
    old = tmp_path / "old-inbox.json"
    old.write_bytes(inbox0.read_bytes())

    # The centre returns one record and posts the results of the others.
    server.admin.return_record(uuids[0], None, ["Falta la firma del informante"])
    server.admin.post_result(uuids[1], None, "pobre", "2026-11-27", "2029-11-27")
    server.admin.post_result(uuids[2], None, "no_pobre", "2026-11-27", "2029-11-27")
    # Trip 2: one more record; import-batch answers the request beside it.
    more = add_queued(ws, 1, seed=304)
    (batch,) = enrolled.export_batches(usb)
    r = _centre(server, "import-batch", str(batch))
    assert r.returncode == 0, r.stderr
    receipt = usb / p.receipt_filename(batch.name[len("siee-batch-"):-len(".sieb")])
    inbox = usb / p.inbox_filename(dev.device_id, req.after)  # same cursor: same name
    assert "3 mensaje(s)" in r.stdout

    # The laptop: receipt, then inbox.
    out = enrolled.import_usb_file(receipt)
    assert not isinstance(out, InboxImport) and out.delivered == 1
    assert states(ws)[more[0]] == "DELIVERED"
    res = enrolled.import_usb_file(inbox)
    assert isinstance(res, InboxImport) and res.applied == 3
    assert res.text() == ("Se importaron 3 mensajes del SIEE por USB: 1 ficha observada, "
                          "2 resultados")
    assert ws.centre.log()[0].text == res.text()
    assert _record_state(ws, uuids[0]) == ("RETURNED", 1)
    assert "Falta la firma del informante" in ws.notes(uuids[0])["returns"][-1]["reason"]
    assert _record_state(ws, uuids[1])[0] == "RESULT"
    assert ws.notes(uuids[1])["result"]["category"] == "pobre"
    assert _record_state(ws, uuids[2])[0] == "RESULT"

    # Imported twice, or the older (empty) file afterwards: nothing changes.
    before = _snapshot(ws)
    again = enrolled.import_inbox(inbox)
    assert again.already_applied and "no cambió nada" in ws.centre.log()[0].text
    assert enrolled.import_inbox(old).already_applied
    assert _snapshot(ws) == before
    # A later HTTP sync finds nothing new in the inbox.
    assert enrolled.sync(send=False).messages == 0


def test_tampered_inbox_refused(ws, enrolled, server, tmp_path):
    uuids = add_queued(ws, 2, seed=302)
    (batch,) = enrolled.export_batches(tmp_path)
    assert _centre(server, "import-batch", str(batch)).returncode == 0
    enrolled.import_receipt(tmp_path / p.receipt_filename(
        batch.name[len("siee-batch-"):-len(".sieb")]))
    server.admin.return_record(uuids[0], None, ["Dirección incompleta"])
    server.admin.post_result(uuids[1], None, "pobre", "2026-11-27", "2029-11-27")
    request = enrolled.last_inbox_request
    assert export_inbox(server.admin.service, request, tmp_path) == 0
    dev = ws.centre.device()
    inbox = tmp_path / p.inbox_filename(dev.device_id, 0)
    # The signed file inside the one sealed to this laptop (issue 19 item 8): the
    # laptop also takes clear signed files (from a centre of the previous version).
    good = p.open_inbox_file(inbox.read_bytes(), ws.centre.ports.agreement_key(), dev.device_id)
    assert good != inbox.read_bytes()
    before = _snapshot(ws)

    def refused(data: bytes) -> str:
        bad = tmp_path / "bad.json"
        bad.write_bytes(data)
        with pytest.raises(SyncError) as e:
            enrolled.import_usb_file(bad)
        assert _snapshot(ws) == before
        return e.value.user_message

    # A changed reason (message signature broken).
    msg = refused(good.replace("Dirección".encode(), b"Direccion"))
    assert "no es un archivo de novedades válido" in msg
    # A message dropped from the file (each left message is valid; the file is not).
    doc = json.loads(good)
    doc["inbox"]["messages"] = doc["inbox"]["messages"][1:]
    assert "no es un archivo de novedades válido" in refused(p.canonical_json(doc))
    # A category changed, and a result addressed to another device.
    refused(good.replace(b'"pobre"', b'"no_pobre"'))
    refused(good.replace(dev.device_id.encode(), b"dev-otro"))
    refused(b'{"inbox":{"v":1}')
    # The genuine file still works.
    res = enrolled.import_inbox(inbox)
    assert res.kinds == {"record_returned": 1, "cse_result": 1}
    assert states(ws)[uuids[0]] == "RETURNED" and states(ws)[uuids[1]] == "RESULT"


def test_request_checks_at_the_centre(ws, enrolled, server, tmp_path):
    dev = ws.centre.device()
    enrolled.export_batches(tmp_path)
    request = enrolled.last_inbox_request
    assert request is not None and request.exists()
    # Signed by another enrolled laptop claiming to be this one.
    other_key = p.new_signing_key()
    other = server.admin.enroll(p.enrollment_request(server.admin.enroll_code("150101"),
                                                     other_key, "otra"))
    assert other["device_id"] != dev.device_id
    forged = tmp_path / "forged" / request.name
    forged.parent.mkdir()
    forged.write_bytes(p.sign_inbox_request(dev.device_id, 0, other_key))
    r = _centre(server, "export-inbox", str(forged))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "no está firmada por el equipo" in r.stderr
    assert not list(forged.parent.glob("siee-inbox-dev*"))
    # The genuine request is answered by the CLI.
    r = _centre(server, "export-inbox", str(request), "--to", str(forged.parent))
    assert r.returncode == 0 and (forged.parent / p.inbox_filename(dev.device_id, 0)).exists()
    # Unsigned / edited cursor.
    doc = json.loads(request.read_bytes())
    doc["after"] = 0 if doc["after"] else 5
    forged.write_bytes(p.canonical_json(doc))
    r = _centre(server, "export-inbox", str(forged))
    assert r.returncode == 1 and "no está firmada por el equipo" in r.stderr
    del doc["signature"]
    forged.write_bytes(p.canonical_json(doc))
    r = _centre(server, "export-inbox", str(forged))
    assert r.returncode == 1 and "dañado" in r.stderr and "Traceback" not in r.stderr
    # Not JSON at all, and an unknown device.
    forged.write_bytes(b"\x00garbage")
    r = _centre(server, "export-inbox", str(forged))
    assert r.returncode == 1 and "dañado" in r.stderr
    forged.write_bytes(p.sign_inbox_request("dev-nadie", 0, p.new_signing_key()))
    r = _centre(server, "export-inbox", str(forged))
    assert r.returncode == 1 and "no está inscrito" in r.stderr
    r = _centre(server, "export-inbox", str(tmp_path / "missing.json"))
    assert r.returncode == 1 and "No se pudo leer" in r.stderr


def test_revoked_device_gets_only_the_notice(ws, enrolled, server, tmp_path):
    uuids = add_queued(ws, 1, seed=303)
    (batch,) = enrolled.export_batches(tmp_path)
    assert _centre(server, "import-batch", str(batch)).returncode == 0
    server.admin.post_result(uuids[0], None, "pobre", "2026-11-27", "2029-11-27")
    dev = ws.centre.device()
    server.admin.revoke_device(dev.device_id, "Equipo robado")
    assert export_inbox(server.admin.service, enrolled.last_inbox_request) == 0
    inbox = tmp_path / p.inbox_filename(dev.device_id, 0)
    doc = json.loads(p.open_inbox_file(inbox.read_bytes(), ws.centre.ports.agreement_key(),
                                       dev.device_id))  # sealed to this laptop
    assert [m["kind"] for m in doc["inbox"]["messages"]] == ["device_revoked"]
    res = enrolled.import_inbox(inbox)
    assert res.kinds == {"device_revoked": 1}
    assert ws.centre.status().revoked
    assert "aviso de baja" in res.text()


def test_form_and_settings_travel_in_the_file(ws, enrolled, server, tmp_path):
    src = REPO_ROOT / "app/forms/bundled/s100.md"
    text = re.sub(r"(\| s100 \| s100 \| )\d{10}( \|)", r"\g<1>2099112788\g<2>",
                  src.read_text("utf-8"))
    newform = tmp_path / "s100-usb.md"
    newform.write_text(text, "utf-8")
    enrolled.export_batches(tmp_path)  # only the request
    server.admin.publish_form(newform)
    server.admin.set_settings({"review_required": False}, "150101")
    assert export_inbox(server.admin.service, enrolled.last_inbox_request) == 0
    dev = ws.centre.device()
    inbox = tmp_path / p.inbox_filename(dev.device_id, 0)
    res = enrolled.import_inbox(inbox)
    assert res.kinds.get("form_published") == 1 and res.kinds.get("settings_changed") == 1
    installed = ws.data_dir / "forms" / "s100-2099112788.md"
    assert installed.read_bytes() == newform.read_bytes()
    assert ws.settings.values()["review_required"] is False


def test_laptop_cli_accepts_both_files(ws, enrolled, server, tmp_path):
    import os

    from tests.conftest import ADMIN_PW

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": ADMIN_PW}
        return subprocess.run(
            [sys.executable, "-m", "app", "sync", *args, "--data", str(ws.data_dir)],
            cwd=str(REPO_ROOT), env=env, capture_output=True, text=True, timeout=120)

    usb = tmp_path / "usb"
    usb.mkdir()
    uuids = add_queued(ws, 2, seed=305)
    r = cli("export-batch", str(usb))
    assert r.returncode == 0 and "Solicitud de novedades" in r.stderr, r.stderr
    (batch,) = [Path(x) for x in r.stdout.split()]
    assert _centre(server, "import-batch", str(batch)).returncode == 0
    receipt = next(usb.glob("siee-receipt-*.json"))
    server.admin.return_record(uuids[0], None, ["Falta el DNI"])
    r = cli("export-batch", str(usb))  # the batch again (no receipt yet) + the request
    request = next(usb.glob(p.INBOX_REQUEST_PREFIX + "*.json"))
    assert _centre(server, "export-inbox", str(request)).returncode == 0
    inbox = next(x for x in usb.glob("siee-inbox-dev*.json"))
    bad = tmp_path / "bad.json"
    inner = p.open_inbox_file(inbox.read_bytes(), ws.centre.ports.agreement_key(),
                              ws.centre.device().device_id)  # sealed to this laptop
    bad.write_bytes(inner.replace(b"Falta el DNI", b"Todo bien"))
    r = cli("import-inbox", str(bad))
    assert r.returncode == 1 and "no es un archivo de novedades válido" in r.stderr
    assert "Traceback" not in r.stderr
    # Given in any order, the receipt is applied first.
    r = cli("import-receipt", str(inbox), str(receipt))
    assert r.returncode == 0, r.stderr
    assert "Se enviaron 2 registros" in r.stdout
    assert "Se importó 1 mensaje del SIEE por USB: 1 ficha observada" in r.stdout
    assert states(ws)[uuids[0]] == "RETURNED" and states(ws)[uuids[1]] == "DELIVERED"
    r = cli("import-inbox", str(inbox))
    assert r.returncode == 0 and "no cambió nada" in r.stdout
