"""Issue 19 item 8: USB inbox files are sealed to the laptop's X25519 key-agreement
key, so the centre's return reasons never travel in clear on the stick. The real
server on loopback answers the laptop's signed request (which carries the key)."""

from __future__ import annotations

import base64

import pytest

from app.sync import protocol as p
from app.sync.model import SyncError
from tests.sync.conftest import add_queued, states

REASON = "Falta el DNI de la señora Huamanchumo Quispe"


def test_inbox_file_on_the_stick_holds_no_reason_in_clear(ws, enrolled, server, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    (u,) = add_queued(ws, 1, seed=801)
    assert enrolled.sync().outcome.delivered == 1
    server.admin.return_record(u, None, [REASON])
    enrolled.export_batches(usb)  # nothing to send: writes the signed inbox request
    dev = ws.centre.device()
    request = (usb / p.inbox_request_filename(dev.device_id)).read_bytes()
    req = p.verify_inbox_request(request, p.public_key_text(ws.centre.ports.device_key()))
    assert req.reply_key == p.public_key_text(ws.centre.ports.agreement_key())

    _req, data, n = server.admin.usb_inbox(request)
    assert n >= 1
    inbox = usb / p.inbox_filename(dev.device_id, req.after)
    inbox.write_bytes(data)
    for needle in ("Huamanchumo", "DNI de la"):
        for form in (needle.encode(), base64.b64encode(needle.encode()),
                     needle.encode("unicode_escape")):
            assert form not in data, f"{form!r} readable in the inbox file"
    assert p.looks_like_inbox_file(data)

    result = enrolled.import_usb_file(inbox)
    assert result.applied >= 1
    assert states(ws)[u] == "RETURNED"
    assert REASON in str(ws.notes(u))


def test_sealed_inbox_file_of_another_laptop_is_refused(ws, enrolled, server, tmp_path):
    add_queued(ws, 1, seed=802)
    enrolled.sync()
    dev = ws.centre.device()
    request = p.sign_inbox_request(dev.device_id, 0, ws.centre.ports.device_key(),
                                   reply_key=p.public_key_text(p.new_encryption_key()))
    _req, data, _n = server.admin.usb_inbox(request)
    f = tmp_path / p.inbox_filename(dev.device_id, 0)
    f.write_bytes(data)  # sealed to a key this laptop does not hold
    with pytest.raises(SyncError) as e:
        enrolled.import_usb_file(f)
    assert "no se pudo abrir con la clave de este equipo" in e.value.user_message
    # A sealed file for this laptop with one byte of its ciphertext changed.
    request = p.sign_inbox_request(dev.device_id, 0, ws.centre.ports.device_key(),
                                   reply_key=p.public_key_text(ws.centre.ports.agreement_key()))
    _req, data, _n = server.admin.usb_inbox(request)
    i = data.index(b'"sealed":"') + 20
    f.write_bytes(data[:i] + (b"A" if data[i:i + 1] != b"A" else b"B") + data[i + 1:])
    with pytest.raises(SyncError) as e:
        enrolled.import_usb_file(f)
    assert "no se pudo abrir" in e.value.user_message
    f.write_bytes(data)
    assert enrolled.import_usb_file(f).total >= 0  # the genuine one opens


def test_request_without_reply_key_still_answered(ws, enrolled, server):
    """Laptops of the previous version: their requests carry no key; the centre answers
    with the signed clear file as before (additive protocol change)."""
    dev = ws.centre.device()
    request = p.sign_inbox_request(dev.device_id, 0, ws.centre.ports.device_key())
    _req, data, _n = server.admin.usb_inbox(request)
    assert data.startswith(b'{"inbox":{')
    assert p.verify_inbox_file(data, server.signing_public, dev.device_id).device_id == \
        dev.device_id
