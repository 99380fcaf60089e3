"""The reference server over real HTTP (uvicorn subprocess), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from app.sync import protocol as p
from tests.server.siee_client import Device


def _no_server_errors(server) -> None:
    log = server.log_text()
    assert "Traceback" not in log and "internal_error" not in log, log[-3000:]


# --- public endpoints -------------------------------------------------------------


def test_health_and_server_time(server):
    r = requests.get(server.url + "/v1/health", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["protocol_version"] == 1
    assert abs(float(r.headers[p.H_SERVER_TIME]) - time.time()) < 60


def test_openapi_document(server):
    doc = requests.get(server.url + "/openapi.json", timeout=10).json()
    paths = set(doc["paths"])
    assert {"/v1/health", "/v1/enroll", "/v1/batches/{batch_id}", "/v1/inbox", "/v1/forms",
            "/v1/forms/{form_id}/{version}", "/v1/device"} <= paths


def test_unknown_route_is_json_error(server):
    r = requests.get(server.url + "/v1/nope", timeout=10)
    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and r.json()["message"]


# --- enrollment -------------------------------------------------------------------


def test_enroll_and_whoami(server):
    dev = Device.enroll(server.url, server.admin.enroll_code("150101"))
    assert dev.ule == "150101"
    assert dev.server_signing_key == server.signing_public
    assert dev.server_encryption_key == server.encryption_public
    r = dev.request("GET", "/v1/device")
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == dev.device_id and r.json()["status"] == "active"


def test_enroll_code_is_one_time(server):
    code = server.admin.enroll_code("150101")
    Device.enroll(server.url, code)
    key = p.new_signing_key()
    r = requests.post(server.url + "/v1/enroll", json=p.enrollment_request(code, key),
                      timeout=10)
    assert r.status_code == 403 and r.json()["code"] == "enroll_code_invalid"
    assert "código" in r.json()["message"]


def test_enroll_code_expired_or_unknown(server):
    code = server.admin.enroll_code("150101", hours=-1)
    for c in (code, "AAAA-BBBB-CCCC"):
        r = requests.post(server.url + "/v1/enroll",
                          json=p.enrollment_request(c, p.new_signing_key()), timeout=10)
        assert r.status_code == 403 and r.json()["code"] == "enroll_code_invalid"


def test_enroll_code_accepts_lowercase_without_dashes(server):
    code = server.admin.enroll_code("150101")
    dev = Device.enroll(server.url, code.replace("-", "").lower())
    assert dev.device_id.startswith("dev-")


def test_enroll_bad_proof(server):
    code = server.admin.enroll_code("150101")
    body = p.enrollment_request(code, p.new_signing_key())
    body["device_public_key"] = p.public_key_text(p.new_signing_key())
    r = requests.post(server.url + "/v1/enroll", json=body, timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    # the code was not consumed by the failed attempt
    Device.enroll(server.url, code)


def test_enroll_same_key_twice_refused(server):
    key = p.new_signing_key()
    body = p.enrollment_request(server.admin.enroll_code("150101"), key)
    assert requests.post(server.url + "/v1/enroll", json=body, timeout=10).status_code == 200
    body = p.enrollment_request(server.admin.enroll_code("150101"), key)
    r = requests.post(server.url + "/v1/enroll", json=body, timeout=10)
    assert r.status_code == 409 and r.json()["code"] == "key_in_use"


def test_enroll_malformed(server):
    for body in ({}, {"code": 1}, {"code": "x", "device_public_key": "nope", "proof": "x"}):
        r = requests.post(server.url + "/v1/enroll", json=body, timeout=10)
        assert r.status_code in (401, 422), r.text
        assert {"code", "detail", "message"} <= set(r.json())
    r = requests.post(server.url + "/v1/enroll", data=b"not json",
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 422


def test_enroll_code_needs_real_ubigeo(server):
    with pytest.raises(p.ProtocolError):
        server.admin.enroll_code("999999")
    with pytest.raises(p.ProtocolError):
        server.admin.enroll_code("15A101")


# --- authentication refusals -----------------------------------------------------------


def test_unsigned_refused(server):
    for method, path in [("GET", "/v1/inbox"), ("GET", "/v1/device"), ("GET", "/v1/forms"),
                         ("PUT", f"/v1/batches/{uuid.uuid4()}")]:
        r = requests.request(method, server.url + path, data=b"x" if method == "PUT" else None,
                             timeout=10)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["code"] == "unsigned" and "server_time" in r.json()


def test_bad_signature_refused(server, device):
    r = device.request("GET", "/v1/inbox", key=p.new_signing_key())
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"


def test_signature_bound_to_path_and_body(server, device):
    env = device.batch([device.record()])
    data = env.to_bytes()
    h = p.sign_request("PUT", f"/v1/batches/{env.batch_id}", data[:-1], device.device_id,
                       device.key)
    r = requests.put(server.url + f"/v1/batches/{env.batch_id}", data=data, headers=h,
                     timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    h = p.sign_request("GET", "/v1/inbox?after=0", b"", device.device_id, device.key)
    r = requests.get(server.url + "/v1/inbox?after=5", headers=h, timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"


def test_stale_timestamp_refused_with_server_time(server, device):
    for skew in (-3600, 3600):
        r = device.request("GET", "/v1/inbox", now=time.time() + skew)
        assert r.status_code == 401 and r.json()["code"] == "stale_timestamp"
        offset = p.clock_offset(r.json()["server_time"], time.time())
        assert abs(offset) < 60
    # a client that corrects its clock with the server's time gets through
    wrong_clock = time.time() - 7200
    off = p.clock_offset(r.headers[p.H_SERVER_TIME], wrong_clock)
    assert device.request("GET", "/v1/inbox", now=wrong_clock + off).status_code == 200


def test_replayed_nonce_refused(server, device):
    nonce = p.new_nonce()
    assert device.request("GET", "/v1/inbox", nonce=nonce).status_code == 200
    r = device.request("GET", "/v1/inbox", nonce=nonce)
    assert r.status_code == 401 and r.json()["code"] == "replayed_nonce"
    # an exact replay of the captured request too
    h = p.sign_request("GET", "/v1/device", b"", device.device_id, device.key)
    assert requests.get(server.url + "/v1/device", headers=h, timeout=10).status_code == 200
    r = requests.get(server.url + "/v1/device", headers=h, timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "replayed_nonce"


def test_unknown_device_refused(server):
    dev = Device(server.url, "dev-doesnotexist", p.new_signing_key(), "150101",
                 server.signing_public, server.encryption_public)
    r = dev.request("GET", "/v1/inbox")
    assert r.status_code == 401 and r.json()["code"] == "unknown_device"


def test_revoked_device_refused_with_signed_notice(server):
    dev = Device.enroll(server.url, server.admin.enroll_code("150101"))
    assert dev.request("GET", "/v1/inbox").status_code == 200
    server.admin.revoke_device(dev.device_id, "Equipo robado")
    for method, path in [("GET", "/v1/inbox"), ("GET", "/v1/device")]:
        r = dev.request(method, path)
        assert r.status_code == 403 and r.json()["code"] == "device_revoked"
    notice = p.verify_message(r.json()["revocation"], dev.server_signing_key, dev.device_id)
    assert notice.kind == "device_revoked" and notice.payload["reason"] == "Equipo robado"
    r = dev.put_batch(dev.batch([dev.record()]))
    assert r.status_code == 403 and r.json()["code"] == "device_revoked"


def test_cannot_read_another_devices_inbox(server):
    a = Device.enroll(server.url, server.admin.enroll_code("150101"))
    b = Device.enroll(server.url, server.admin.enroll_code("150101"))
    receipt = a.send([a.record()])
    server.admin.return_record(receipt.results[0].uuid, 1, ["Falta firma"])
    assert len(a.inbox()) == 1
    assert b.inbox() == []
    # b pretending to be a: signature does not verify with a's key
    h = p.sign_request("GET", "/v1/inbox", b"", a.device_id, b.key)
    r = requests.get(server.url + "/v1/inbox", headers=h, timeout=10)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature"
    # nor a's receipts
    r = b.request("GET", f"/v1/batches/{receipt.batch_id}")
    assert r.status_code == 404
    assert a.request("GET", f"/v1/batches/{receipt.batch_id}").status_code == 200


# --- batches and receipts -----------------------------------------------------------------


def test_batch_accepted_and_receipt_verifies(server, device):
    recs = [device.record() for _ in range(3)]
    env = device.batch(recs)
    r = device.put_batch(env)
    assert r.status_code == 200, r.text
    rc = p.verify_receipt(r.content, device.server_signing_key)
    assert rc.batch_id == env.batch_id and rc.device_id == device.device_id
    assert [x.status for x in rc.results] == ["accepted"] * 3
    assert rc.envelope_sha256 == p.sha256_hex(env.to_bytes())
    stored = server.admin.get_record(recs[0].uuid, 1)
    assert stored["answers"] == recs[0].answers and stored["status"] == "received"
    # the stored receipt can be fetched again
    r2 = device.request("GET", f"/v1/batches/{env.batch_id}")
    assert r2.status_code == 200 and r2.content == r.content


def _count(server, uuids: set[str]) -> int:
    return sum(1 for row in server.admin.list_records(limit=100000) if row["uuid"] in uuids)


def test_same_batch_in_sequence_and_parallel(server, device):
    recs = [device.record() for _ in range(5)]
    env = device.batch(recs)
    bodies: list[bytes] = []
    errors: list[str] = []

    def send() -> None:
        try:
            r = device.put_batch(env)
            if r.status_code != 200:
                errors.append(r.text)
            bodies.append(r.content)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(3):
        send()
    assert not errors, errors
    assert len(bodies) == 6 and len(set(bodies)) == 1
    rc = p.verify_receipt(bodies[0], device.server_signing_key)
    assert [x.status for x in rc.results] == ["accepted"] * 5
    assert _count(server, {r.uuid for r in recs}) == 5


def test_same_records_in_parallel_different_batches(server, device):
    recs = [device.record() for _ in range(4)]
    envs = [device.batch(recs) for _ in range(3)]
    out: list[p.Receipt] = []

    def send(env: p.Envelope) -> None:
        r = device.put_batch(env)
        assert r.status_code == 200, r.text
        out.append(p.verify_receipt(r.content, device.server_signing_key))

    threads = [threading.Thread(target=send, args=(e,)) for e in envs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 3
    statuses = sorted(tuple(x.status for x in rc.results) for rc in out)
    assert statuses == [("accepted",) * 4, ("duplicate",) * 4, ("duplicate",) * 4]
    assert _count(server, {r.uuid for r in recs}) == 4


def test_same_id_different_body_refused(server, device):
    env = device.batch([device.record()])
    assert device.put_batch(env).status_code == 200
    other = device.batch([device.record()], batch_id=env.batch_id)
    r = device.put_batch(other)
    assert r.status_code == 409 and r.json()["code"] == "batch_conflict"
    # and the original is still answered with its receipt
    assert device.put_batch(env).status_code == 200


def test_duplicate_and_conflict(server, device):
    rec = device.record()
    assert device.send([rec]).results[0].status == "accepted"
    again = device.send([rec])
    assert again.results[0].status == "duplicate" and again.results[0].delivered
    changed = device.record(uuid=rec.uuid, answers={"tipo_solicitud": "actualizacion"})
    rc = device.send([changed])
    assert rc.results[0].status == "conflict" and rc.results[0].reasons
    newrev = device.record(uuid=rec.uuid, revision=2, answers={"tipo_solicitud": "x"})
    # a new revision only once the centre has returned the record (issue 19: ownership)
    early = device.send([newrev]).results[0]
    assert early.status == "conflict" and "devuelto" in early.reasons[0]
    server.admin.return_record(rec.uuid, None, ["Corrija el tipo de solicitud."])
    assert device.send([device.record(uuid=rec.uuid, revision=2,
                                      answers={"tipo_solicitud": "x"})]
                       ).results[0].status == "accepted"
    assert server.admin.get_record(rec.uuid)["revision"] == 2


def test_invalid_records_get_reasons(server, device):
    good = device.record()
    other_ule = device.record(ule_ubigeo="040101")
    unknown_form = device.record(form_id="formulario_x")
    rc = device.send([good, other_ule, unknown_form])
    st = {x.uuid: x for x in rc.results}
    assert st[good.uuid].status == "accepted"
    assert st[other_ule.uuid].status == "invalid"
    assert "ULE" in st[other_ule.uuid].reasons[0]
    assert st[unknown_form.uuid].status == "invalid"
    assert "formulario" in st[unknown_form.uuid].reasons[0]
    with pytest.raises(p.ProtocolError):
        server.admin.get_record(other_ule.uuid)


def test_path_and_device_must_match_envelope(server, device):
    env = device.batch([device.record()])
    r = device.put_batch(env.to_bytes(), batch_id=str(uuid.uuid4()))
    assert r.status_code == 422 and r.json()["code"] == "batch_id_mismatch"
    other = Device.enroll(server.url, server.admin.enroll_code("150101"))
    r = other.put_batch(env)
    assert r.status_code == 403 and r.json()["code"] == "device_mismatch"


def test_malformed_envelopes_refused(server, device):
    bid = str(uuid.uuid4())
    good = device.batch([device.record()], batch_id=bid).to_bytes()
    flipped = bytearray(good)
    flipped[-5] ^= 1
    for body in (b"", b"garbage", b"SIEB\x01\x00\x00\x00\x05hello", good[:40], bytes(flipped),
                 b"SIEB\x09" + good[5:]):
        r = device.put_batch(body, batch_id=bid)
        assert r.status_code in (401, 422), (body[:10], r.status_code, r.text)
        assert r.json()["code"] in ("malformed_envelope", "bad_signature",
                                    "unsupported_version"), r.text
        assert r.json()["message"]
    # encrypted for another server
    env = p.build_batch([device.record()], device.device_id, device.key,
                        p.new_encryption_key().public_key())
    r = device.put_batch(env)
    assert r.status_code == 422 and r.json()["code"] == "decrypt_failed"
    # bad batch id in the path
    r = device.put_batch(good, batch_id="not-a-uuid")
    assert r.status_code == 422
    _no_server_errors(server)


# --- inbox ----------------------------------------------------------------------------------


def test_inbox_messages_and_cursor(server):
    a = Device.enroll(server.url, server.admin.enroll_code("150101"))
    recs = [a.record() for _ in range(3)]
    a.send(recs)
    server.admin.return_record(recs[0].uuid, 1, ["Falta el DNI del jefe de hogar."])
    server.admin.post_result(recs[1].uuid, 1, "pobre", "2026-11-20", "2029-11-20")
    server.admin.set_settings({"approval_required": False}, ule="150101")
    msgs = a.inbox()
    kinds = [m.kind for m in msgs]
    assert kinds == ["record_returned", "cse_result", "settings_changed"]
    assert msgs[0].payload["uuid"] == recs[0].uuid
    assert msgs[0].payload["reasons"] == ["Falta el DNI del jefe de hogar."]
    assert msgs[1].payload["category"] == "pobre"
    assert msgs[1].payload["valid_until"] == "2029-11-20"
    assert msgs[2].payload["settings"] == {"approval_required": False}
    cursors = [m.cursor for m in msgs]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3
    assert [m.kind for m in a.inbox(after=cursors[0])] == ["cse_result", "settings_changed"]
    assert a.inbox(after=cursors[-1]) == []
    r = a.request("GET", f"/v1/inbox?after={cursors[0] - 1}&limit=1")
    page = r.json()
    assert len(page["messages"]) == 1 and page["has_more"]
    assert page["next_cursor"] == cursors[0]
    # record states on the server
    assert server.admin.get_record(recs[0].uuid)["status"] == "returned"
    assert server.admin.get_record(recs[1].uuid)["result_category"] == "pobre"
    # wrong admin input is refused with Spanish messages
    for call in (
        lambda: server.admin.return_record(recs[0].uuid, 1, ["otra vez"]),
        lambda: server.admin.return_record(recs[2].uuid, 1, ["  "]),
        lambda: server.admin.post_result(recs[2].uuid, 1, "rico", "2026-11-20", "2029-11-20"),
        lambda: server.admin.post_result(recs[2].uuid, 1, "pobre", "2026-11-20", "2025-01-01"),
        lambda: server.admin.post_result(recs[2].uuid, 1, "pobre", "20-11-2026", "2029-11-20"),
        lambda: server.admin.post_result(str(uuid.uuid4()), 1, "pobre", "2026-11-20",
                                         "2029-11-20"),
    ):
        with pytest.raises(p.ProtocolError) as ei:
            call()
        assert ei.value.message


def test_messages_of_a_revoked_laptop_go_to_its_ule(server):
    old = Device.enroll(server.url, server.admin.enroll_code("150102"))
    new = Device.enroll(server.url, server.admin.enroll_code("150102"))
    elsewhere = Device.enroll(server.url, server.admin.enroll_code("150101"))
    rec = old.record()
    old.send([rec])
    server.admin.revoke_device(old.device_id, "Reemplazada")
    server.admin.return_record(rec.uuid, 1, ["Falta la dirección."])
    assert [m.kind for m in new.inbox()] == ["record_returned"]
    assert elsewhere.inbox() == []


def test_inbox_bad_query(server, device):
    for q in ("after=-1", "after=x", "limit=0", "limit=100000"):
        r = device.request("GET", f"/v1/inbox?{q}")
        assert r.status_code == 422, q
        assert r.json()["code"] == "invalid_request"


# --- forms --------------------------------------------------------------------------------


def make_xlsform(path, form_id: str = "encuesta_x", version: str = "2026.1",
                 broken: bool = False):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    if broken:
        ws.append(["select_one no_such_list", "q1", "Pregunta"])
    else:
        ws.append(["text", "nombre", "Nombre"])
        ws.append(["integer", "edad", "Edad"])
    ws["D1"], ws["E1"], ws["F1"] = "required", "constraint", "constraint_message"
    if not broken:
        ws["D2"] = "yes"
        ws["E3"], ws["F3"] = ". < 130", "La edad no puede pasar de 130 años."
    st = wb.create_sheet("settings")
    st.append(["form_id", "version", "form_title"])
    st.append([form_id, version, "Encuesta X"])
    wb.save(path)
    return path


def test_publish_and_download_form(server, tmp_path):
    a = Device.enroll(server.url, server.admin.enroll_code("150101"))
    version = f"v{uuid.uuid4().hex[:8]}"
    f = make_xlsform(tmp_path / "x.xlsx", version=version)
    info = server.admin.publish_form(f)
    assert info["form_id"] == "encuesta_x" and info["version"] == version
    msgs = [m for m in a.inbox() if m.kind == "form_published"]
    assert msgs and msgs[-1].payload["version"] == version
    r = a.request("GET", "/v1/forms")
    assert r.status_code == 200
    assert any(x["version"] == version for x in r.json())
    r = a.request("GET", msgs[-1].payload["url"])
    assert r.status_code == 200
    assert r.content == f.read_bytes()
    p.verify_form("encuesta_x", version, r.content, r.headers[p.H_SERVER_SIGNATURE],
                  a.server_signing_key)
    assert r.headers[p.H_CONTENT_SHA256] == msgs[-1].payload["sha256"]
    # publishing the same version again is refused
    with pytest.raises(p.ProtocolError) as ei:
        server.admin.publish_form(f)
    assert ei.value.code == "already_published"
    # records on the published form are checked with it (form engine, same version)
    good = a.record(form_id="encuesta_x", form_version=version,
                    answers=_answers(f, {"nombre": "Ana", "edad": "30"}))
    old = a.record(form_id="encuesta_x", form_version=version,
                   answers=_answers(f, {"nombre": "Ana", "edad": "200"}))
    rc = a.send([good, old])
    assert rc.results[0].status == "accepted", rc.results[0].reasons
    if _engine_available():
        assert rc.results[1].status == "invalid"
        assert any("130" in x for x in rc.results[1].reasons), rc.results[1].reasons
    # unknown version: 404 JSON
    r = a.request("GET", "/v1/forms/encuesta_x/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def _engine_available() -> bool:
    from server import validation

    return validation._engine() is not None


def _answers(xlsform, values: dict[str, str]) -> dict:
    """Canonical answers as the laptop's form engine produces them (flat when absent)."""
    if not _engine_available():
        return dict(values)
    from app.forms import FormSession, load_form

    fd = load_form(xlsform)
    s = FormSession(fd)
    for name, v in values.items():
        s.set(f"/{fd.root_name}/{name}", v)
    return s.to_json()


def test_engine_checks_bundled_forms(server, device):
    if not _engine_available():
        pytest.skip("app.forms engine not available")
    from app.forms import FormSession, bundled_form

    fd = bundled_form("s100")
    empty = FormSession(fd).to_json()
    rec = device.record(form_id="s100", form_version=fd.version, answers=empty)
    wrong = device.record(form_id="s100", form_version=fd.version, answers={"nope": 1})
    mixed = device.record(form_id="s100", form_version=fd.version,
                          answers={**empty, "form_id": "fsu"})
    rc = device.send([rec, wrong, mixed])
    st = {x.uuid: x for x in rc.results}
    assert st[rec.uuid].status == "invalid"
    assert any("obligatoria" in r for r in st[rec.uuid].reasons), st[rec.uuid].reasons
    assert st[rec.uuid].reasons[0].startswith("/s100/")
    assert st[wrong.uuid].status == "invalid" and "nope" in st[wrong.uuid].reasons[0]
    assert st[mixed.uuid].status == "invalid" and "form_id" in st[mixed.uuid].reasons[0]


def test_publish_bad_form_refused(server, tmp_path):
    with pytest.raises(p.ProtocolError) as ei:
        server.admin.publish_form(make_xlsform(tmp_path / "b.xlsx", broken=True))
    assert ei.value.code == "bad_form"
    bad = tmp_path / "nope.xlsx"
    bad.write_bytes(b"not a spreadsheet")
    with pytest.raises(p.ProtocolError):
        server.admin.publish_form(bad)
    with pytest.raises(p.ProtocolError):
        server.admin.publish_form(make_xlsform(tmp_path / "v.xlsx", version="bad version!"))


def test_no_personal_data_in_log(server, device):
    device.send([device.record(answers={"nombre": "Zacarías Quispe Mamani", "dni": "45678912"})])
    log = server.log_text()
    assert "Zacarías" not in log and "45678912" not in log
    _no_server_errors(server)


def test_json_error_bodies_are_bilingual(server, device):
    r = device.request("GET", "/v1/inbox", key=p.new_signing_key())
    body = r.json()
    assert set(body) >= {"code", "detail", "message", "server_time"}
    assert body["detail"].isascii() and not body["message"].isascii()  # English / Spanish
    assert json.loads(r.content) == body
