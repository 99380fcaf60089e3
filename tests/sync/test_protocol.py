"""app.sync.protocol on its own: encoding, signing, envelope, receipts, inbox, tampering."""

from __future__ import annotations

import json
import struct
import uuid
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sync import protocol as p


def _uuid() -> str:
    return str(uuid.uuid4())


def make_record(i: int = 0, **over) -> p.BatchRecord:
    base = dict(
        uuid=_uuid(),
        revision=1,
        form_id="fsu",
        form_version="2024.1",
        ule_ubigeo="150101",
        author="enum01",
        answers={"hogar": {"habitaciones": 2 + i}, "nombre": "Ñuñez Quispe", "i": i},
        completed_at="2026-11-27T10:00:00Z",
        approved_at="2026-11-27T11:00:00Z",
    )
    base.update(over)
    return p.BatchRecord(**base)


@pytest.fixture(scope="module")
def keys():
    return {
        "device": p.new_signing_key(),
        "server_enc": p.new_encryption_key(),
        "server_sig": p.new_signing_key(),
    }


# --- canonical encoding -------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8():
    assert p.canonical_json({"b": 1, "a": "ñ", "c": [1, {"z": 0, "y": None}]}) == (
        '{"a":"ñ","b":1,"c":[1,{"y":null,"z":0}]}'.encode()
    )


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        p.canonical_json({"x": float("nan")})


@given(st.dictionaries(st.text(), st.one_of(st.integers(), st.text(), st.booleans(),
                                             st.none(), st.lists(st.integers()))))
def test_canonical_json_roundtrip_stable(d):
    enc = p.canonical_json(d)
    assert p.canonical_json(json.loads(enc)) == enc


def test_b64_roundtrip_and_refusal():
    for n in range(0, 40):
        raw = bytes(range(n))
        assert p.b64d(p.b64e(raw)) == raw
    with pytest.raises(ValueError):
        p.b64d("abc$")


# --- request signing ------------------------------------------------------------


def test_sign_verify_request(keys):
    body = b'{"x":1}'
    h = p.sign_request("put", "/v1/batches/x?y=1", body, "dev-1", keys["device"], now=1000)
    req = p.verify_request("PUT", "/v1/batches/x?y=1", body, h, keys["device"].public_key(),
                           now=1010)
    assert req.device_id == "dev-1" and req.timestamp == 1000
    # public key as text works too
    p.verify_request("PUT", "/v1/batches/x?y=1", body, h, p.public_key_text(keys["device"]),
                     now=1000)


@pytest.mark.parametrize("what", ["method", "path", "body", "timestamp", "nonce", "device",
                                  "signature", "key"])
def test_request_tampering_refused(keys, what):
    body = b"hello"
    h = p.sign_request("GET", "/v1/inbox?after=0", body, "dev-1", keys["device"], now=5000)
    method, path, key = "GET", "/v1/inbox?after=0", keys["device"].public_key()
    if what == "method":
        method = "POST"
    elif what == "path":
        path = "/v1/inbox?after=1"
    elif what == "body":
        body = b"hellO"
    elif what == "timestamp":
        h[p.H_TIMESTAMP] = "5001"
    elif what == "nonce":
        h[p.H_NONCE] = h[p.H_NONCE][:-1] + ("A" if h[p.H_NONCE][-1] != "A" else "B")
    elif what == "device":
        h[p.H_DEVICE] = "dev-2"
    elif what == "signature":
        sig = bytearray(p.b64d(h[p.H_SIGNATURE]))
        sig[0] ^= 1
        h[p.H_SIGNATURE] = p.b64e(bytes(sig))
    elif what == "key":
        key = p.new_signing_key().public_key()
    with pytest.raises(p.ProtocolError) as ei:
        p.verify_request(method, path, body, h, key, now=5000)
    assert ei.value.code == "bad_signature" and ei.value.status == 401


def test_request_stale_timestamp(keys):
    h = p.sign_request("GET", "/v1/inbox", b"", "dev-1", keys["device"], now=1000)
    for now in (1000 + p.TIMESTAMP_WINDOW_S + 1, 1000 - p.TIMESTAMP_WINDOW_S - 1):
        with pytest.raises(p.ProtocolError) as ei:
            p.verify_request("GET", "/v1/inbox", b"", h, keys["device"].public_key(), now=now)
        assert ei.value.code == "stale_timestamp"
        assert "hora" in ei.value.message


@pytest.mark.parametrize("drop", [p.H_DEVICE, p.H_TIMESTAMP, p.H_NONCE, p.H_SIGNATURE])
def test_request_missing_header(keys, drop):
    h = p.sign_request("GET", "/v1/inbox", b"", "dev-1", keys["device"], now=1000)
    del h[drop]
    with pytest.raises(p.ProtocolError) as ei:
        p.verify_request("GET", "/v1/inbox", b"", h, keys["device"].public_key(), now=1000)
    assert ei.value.code == "unsigned"


@pytest.mark.parametrize("header,value", [
    (p.H_TIMESTAMP, "12a"), (p.H_TIMESTAMP, "-5"), (p.H_NONCE, "short"),
    (p.H_NONCE, "x" * 100), (p.H_NONCE, "bad nonce with spaces!"), (p.H_DEVICE, "dev 1"),
    (p.H_SIGNATURE, "!!!"), (p.H_SIGNATURE, p.b64e(b"x" * 10)),
])
def test_request_malformed_headers(keys, header, value):
    h = p.sign_request("GET", "/v1/inbox", b"", "dev-1", keys["device"], now=1000)
    h[header] = value
    with pytest.raises(p.ProtocolError) as ei:
        p.verify_request("GET", "/v1/inbox", b"", h, keys["device"].public_key(), now=1000)
    assert ei.value.status == 401


def test_headers_case_insensitive(keys):
    h = p.sign_request("GET", "/v1/inbox", b"", "dev-1", keys["device"], now=1000)
    lower = {k.lower(): v for k, v in h.items()}
    p.verify_request("GET", "/v1/inbox", b"", lower, keys["device"].public_key(), now=1000)


def test_clock_offset():
    assert p.clock_offset("1100", local_time=1000) == 100
    assert p.clock_offset("garbage", local_time=1000) == 0
    assert p.clock_offset("inf", local_time=1000) == 0


# --- enrollment -------------------------------------------------------------------


def test_enrollment_proof(keys):
    body = p.enrollment_request("ABCD-1234", keys["device"], label="Laptop 1")
    p.verify_enrollment_proof(body["code"], body["device_public_key"], body["proof"])
    with pytest.raises(p.ProtocolError):
        p.verify_enrollment_proof("ABCD-1235", body["device_public_key"], body["proof"])
    other = p.public_key_text(p.new_signing_key())
    with pytest.raises(p.ProtocolError):
        p.verify_enrollment_proof(body["code"], other, body["proof"])
    with pytest.raises(p.ProtocolError):
        p.verify_enrollment_proof(body["code"], "notakey", body["proof"])


# --- batch envelope ------------------------------------------------------------------


def _open(data: bytes, keys) -> tuple[p.Envelope, list[p.BatchRecord]]:
    return p.open_batch(data, keys["server_enc"], lambda _d: keys["device"].public_key())


def test_batch_roundtrip(keys):
    recs = [make_record(i) for i in range(5)]
    env = p.build_batch(recs, "dev-1", keys["device"], p.public_key_text(keys["server_enc"]))
    data = env.to_bytes()
    env2, out = _open(data, keys)
    assert out == recs
    assert env2.header == env.header
    assert env2.header.count == 5
    assert [e.sha256 for e in env2.header.records] == [r.content_hash() for r in recs]
    assert data[:4] == p.MAGIC
    assert p.Envelope.from_bytes(data) == env2


def test_batch_is_compact(keys):
    recs = [make_record(i, answers={f"campo_{j}": f"valor repetido {j % 7}"
                                    for j in range(200)}) for i in range(50)]
    plain = sum(len(r.canonical()) for r in recs)
    data = p.build_batch(recs, "dev-1", keys["device"], keys["server_enc"].public_key()).to_bytes()
    assert len(data) < 0.35 * plain


def test_batch_empty_records(keys):
    env = p.build_batch([], "dev-1", keys["device"], keys["server_enc"].public_key())
    _env, out = _open(env.to_bytes(), keys)
    assert out == []


def test_batch_other_server_key_cannot_decrypt(keys):
    env = p.build_batch([make_record()], "dev-1", keys["device"],
                        p.new_encryption_key().public_key())
    with pytest.raises(p.ProtocolError) as ei:
        _open(env.to_bytes(), keys)
    assert ei.value.code == "decrypt_failed"


def test_batch_wrong_device_key(keys):
    env = p.build_batch([make_record()], "dev-1", p.new_signing_key(),
                        keys["server_enc"].public_key())
    with pytest.raises(p.ProtocolError) as ei:
        _open(env.to_bytes(), keys)
    assert ei.value.code == "bad_signature"


def test_record_structure_checked():
    for over in [dict(uuid="nope"), dict(revision=0), dict(revision=True),
                 dict(form_id="a b"), dict(ule_ubigeo="15010"), dict(answers=[1]),
                 dict(completed_at=""), dict(approved_at=5), dict(uuid=_uuid().upper())]:
        with pytest.raises(p.ProtocolError):
            make_record(**over).check()


def _resign_header(env: p.Envelope, hdict: dict, keys, sign: bool = True) -> bytes:
    hb = zlib.compress(p.canonical_json(hdict))
    sig = keys["device"].sign(p._batch_signed_bytes(hb, env.ciphertext)) if sign else env.signature
    return p.Envelope(env.header, hb, sig, env.ciphertext).to_bytes()


HEADER_MUTATIONS = {
    "v": 2,
    "batch_id": None,  # replaced by a fresh uuid
    "device_id": "dev-2",
    "created_at": "2020-01-01T00:00:00Z",
    "count": 99,
    "epk": None,
    "nonce": None,
    "compression": "gzip",
    "cipher": "none",
}


@pytest.mark.parametrize("field", list(HEADER_MUTATIONS) + ["records.uuid", "records.revision",
                                                          "records.sha256", "records.drop",
                                                          "extra"])
@pytest.mark.parametrize("resign", [False, True])
def test_header_tampering_refused(keys, field, resign):
    """Changing any header field breaks the device signature; re-signing (an attacker with
    the device key) still fails AES-GCM (header is AAD) or the header/payload match."""
    recs = [make_record(i) for i in range(3)]
    env = p.build_batch(recs, "dev-1", keys["device"], keys["server_enc"].public_key())
    h = env.header.to_dict()
    if field in HEADER_MUTATIONS:
        val = HEADER_MUTATIONS[field]
        if field == "batch_id":
            val = _uuid()
        elif field == "epk":
            val = p.public_key_text(p.new_encryption_key())
        elif field == "nonce":
            val = p.b64e(b"\x01" * 12)
        h[field] = val
    elif field == "records.uuid":
        h["records"][1]["uuid"] = _uuid()
    elif field == "records.revision":
        h["records"][1]["revision"] = 2
    elif field == "records.sha256":
        h["records"][1]["sha256"] = "0" * 64
    elif field == "records.drop":
        h["records"].pop()
        h["count"] -= 1
    elif field == "extra":
        h["extra"] = 1
    with pytest.raises(p.ProtocolError) as ei:
        _open(_resign_header(env, h, keys, sign=resign), keys)
    assert ei.value.status in (401, 413, 422)


def test_every_byte_flip_refused(keys):
    env = p.build_batch([make_record(0), make_record(1)], "dev-1", keys["device"],
                        keys["server_enc"].public_key())
    data = env.to_bytes()
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x40
        with pytest.raises(p.ProtocolError):
            _open(bytes(bad), keys)


def test_truncation_and_extension_refused(keys):
    data = p.build_batch([make_record()], "dev-1", keys["device"],
                         keys["server_enc"].public_key()).to_bytes()
    for n in (0, 3, 8, 9, 20, len(data) // 2, len(data) - 1):
        with pytest.raises(p.ProtocolError):
            _open(data[:n], keys)
    with pytest.raises(p.ProtocolError):
        _open(data + b"\x00", keys)


def test_signature_swap_between_batches_refused(keys):
    a = p.build_batch([make_record()], "dev-1", keys["device"], keys["server_enc"].public_key())
    b = p.build_batch([make_record()], "dev-1", keys["device"], keys["server_enc"].public_key())
    mixed = p.Envelope(a.header, a.header_bytes, a.signature, b.ciphertext).to_bytes()
    with pytest.raises(p.ProtocolError) as ei:
        _open(mixed, keys)
    assert ei.value.code == "bad_signature"


def _forge_payload(keys, payload: bytes, header_records: list[p.BatchRecord],
                   raw: bool = False) -> bytes:
    """A correctly signed, correctly encrypted envelope around an arbitrary payload."""
    import os

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    batch_id = _uuid()
    eph = X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes_raw()
    spk = keys["server_enc"].public_key().public_bytes_raw()
    nonce = os.urandom(12)
    header = p.BatchHeader(batch_id, "dev-1", p.utc_now_iso(),
                           tuple(p.HeaderEntry(r.uuid, r.revision, r.content_hash())
                                 for r in header_records),
                           p.b64e(epk), p.b64e(nonce))
    hb = zlib.compress(p.canonical_json(header.to_dict()))
    key = p._derive_key(eph.exchange(keys["server_enc"].public_key()), epk, spk, batch_id)
    ct = AESGCM(key).encrypt(nonce, payload if raw else zlib.compress(payload), hb)
    sig = keys["device"].sign(p._batch_signed_bytes(hb, ct))
    return p.Envelope(header, hb, sig, ct).to_bytes()


def test_payload_must_match_header(keys):
    r1, r2 = make_record(1), make_record(2)
    # payload holds a different record than the header lists
    data = _forge_payload(keys, p.canonical_json({"records": [r2.to_dict()]}), [r1])
    with pytest.raises(p.ProtocolError) as ei:
        _open(data, keys)
    assert ei.value.code == "malformed_envelope"
    # payload has fewer records
    data = _forge_payload(keys, p.canonical_json({"records": [r1.to_dict()]}), [r1, r2])
    with pytest.raises(p.ProtocolError):
        _open(data, keys)
    # sanity: the forger works when honest
    data = _forge_payload(keys, p.canonical_json({"records": [r1.to_dict()]}), [r1])
    assert _open(data, keys)[1] == [r1]


@pytest.mark.parametrize("payload", [
    b"not json", b"[]", b'{"records": 1}', b'{"records": [], "x": 1}',
    b'{"records": [{"uuid": "x"}]}', b'{"records": [NaN]}',
])
def test_malformed_payloads(keys, payload):
    with pytest.raises(p.ProtocolError) as ei:
        _open(_forge_payload(keys, payload, []), keys)
    assert ei.value.status == 422


def test_out_of_range_float_refused(keys):
    r = make_record(answers={"x": 1.5})
    text = p.canonical_json({"records": [r.to_dict()]}).replace(b"1.5", b"1e999")
    with pytest.raises(p.ProtocolError) as ei:
        _open(_forge_payload(keys, text, [r]), keys)
    assert ei.value.code == "malformed_envelope"
    deep = b'{"records": [' + b"[" * 100000 + b"]" * 100000 + b"]}"
    with pytest.raises(p.ProtocolError):
        _open(_forge_payload(keys, deep, []), keys)


def test_not_deflate_payload(keys):
    with pytest.raises(p.ProtocolError) as ei:
        _open(_forge_payload(keys, b"plain bytes", [], raw=True), keys)
    assert ei.value.code == "malformed_envelope"


def test_decompression_bomb_refused(keys):
    bomb = b'{"records":[' + b" " * (5 << 20) + b"]}"
    data = _forge_payload(keys, bomb, [])
    with pytest.raises(p.ProtocolError) as ei:
        p.open_batch(data, keys["server_enc"], lambda _d: keys["device"].public_key(),
                     max_plain_bytes=1 << 20)
    assert ei.value.status == 413


def test_envelope_size_limit(keys):
    data = p.build_batch([make_record()], "dev-1", keys["device"],
                         keys["server_enc"].public_key()).to_bytes()
    with pytest.raises(p.ProtocolError) as ei:
        p.parse_envelope(data, max_bytes=len(data) - 1)
    assert ei.value.status == 413 and ei.value.code == "too_large"


def test_frame_errors():
    with pytest.raises(p.ProtocolError):
        p.parse_envelope(b"XXXX" + bytes(200))
    with pytest.raises(p.ProtocolError) as ei:
        p.parse_envelope(struct.pack(">4sBI", b"SIEB", 9, 10) + bytes(200))
    assert ei.value.code == "unsupported_version"
    with pytest.raises(p.ProtocolError):
        p.parse_envelope(struct.pack(">4sBI", b"SIEB", 1, 2**31) + bytes(200))
    with pytest.raises(p.ProtocolError):
        p.parse_envelope(struct.pack(">4sBI", b"SIEB", 1, 50) + bytes(200))


def test_duplicate_record_in_header_refused(keys):
    r = make_record()
    with pytest.raises(p.ProtocolError):
        _open(_forge_payload(keys, p.canonical_json({"records": [r.to_dict()] * 2}), [r, r]),
              keys)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data):
    try:
        p.parse_envelope(data)
    except p.ProtocolError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_header_never_crash(raw):
    data = struct.pack(">4sBI", b"SIEB", 1, len(zlib.compress(raw))) + zlib.compress(raw)
    data += bytes(100)
    try:
        p.parse_envelope(data)
    except p.ProtocolError:
        pass


# --- receipts ---------------------------------------------------------------------------


def _receipt() -> p.Receipt:
    return p.Receipt(
        batch_id=_uuid(),
        device_id="dev-1",
        received_at="2026-11-27T12:00:00Z",
        envelope_sha256="a" * 64,
        results=(
            p.RecordResult(_uuid(), 1, "accepted"),
            p.RecordResult(_uuid(), 2, "duplicate"),
            p.RecordResult(_uuid(), 1, "invalid", ("Falta la fecha de nacimiento.",)),
            p.RecordResult(_uuid(), 1, "conflict", ("Contenido distinto.",)),
        ),
    )


def test_receipt_roundtrip(keys):
    r = _receipt()
    data = p.sign_receipt(r, keys["server_sig"])
    out = p.verify_receipt(data, p.public_key_text(keys["server_sig"]))
    assert out == r
    assert [x.delivered for x in out.results] == [True, True, False, False]
    assert json.loads(data)["receipt"]["counts"] == {
        "accepted": 1, "duplicate": 1, "invalid": 1, "conflict": 1}
    assert out.result_for(r.results[2].uuid, 1).reasons == ("Falta la fecha de nacimiento.",)


@pytest.mark.parametrize("path", [
    ("batch_id",), ("device_id",), ("received_at",), ("envelope_sha256",), ("v",),
    ("counts", "accepted"), ("results", 0, "status"), ("results", 1, "uuid"),
    ("results", 1, "revision"), ("results", 2, "reasons"),
])
def test_receipt_tampering_refused(keys, path):
    obj = json.loads(p.sign_receipt(_receipt(), keys["server_sig"]))
    target = obj["receipt"]
    for k in path[:-1]:
        target = target[k]
    last = path[-1]
    v = target[last]
    target[last] = (v + 1 if isinstance(v, int) else ["x"] if isinstance(v, list)
                    else "accepted" if v == "duplicate" else v + "x")
    with pytest.raises(p.ProtocolError) as ei:
        p.verify_receipt(json.dumps(obj).encode(), keys["server_sig"].public_key())
    assert ei.value.code == "bad_signature"


def test_receipt_bound_to_envelope(keys):
    env = p.build_batch([make_record()], "dev-1", keys["device"], keys["server_enc"].public_key())
    r = p.Receipt(env.batch_id, "dev-1", "2026-11-27T12:00:00Z", (),
                  p.sha256_hex(env.to_bytes()))
    data = p.sign_receipt(r, keys["server_sig"])
    assert p.verify_receipt(data, keys["server_sig"].public_key(), env) == r
    assert p.verify_receipt(data, keys["server_sig"].public_key(), env.to_bytes()) == r
    other = p.build_batch([make_record()], "dev-1", keys["device"],
                          keys["server_enc"].public_key())
    with pytest.raises(p.ProtocolError) as ei:
        p.verify_receipt(data, keys["server_sig"].public_key(), other)
    assert ei.value.code == "receipt_mismatch"


def test_usb_file_names():
    bid = _uuid()
    assert p.batch_filename(bid) == f"siee-batch-{bid}.sieb"
    assert p.receipt_filename(bid) == f"siee-receipt-{bid}.json"


def test_receipt_wrong_key_and_garbage(keys):
    data = p.sign_receipt(_receipt(), keys["server_sig"])
    with pytest.raises(p.ProtocolError):
        p.verify_receipt(data, p.new_signing_key().public_key())
    for junk in (b"", b"[]", b"{}", b'{"receipt": 1, "signature": "x"}', b"\xff"):
        with pytest.raises(p.ProtocolError):
            p.verify_receipt(junk, keys["server_sig"].public_key())


# --- inbox messages ------------------------------------------------------------------------


def test_message_roundtrip_and_tampering(keys):
    m = p.InboxMessage(7, "record_returned", "dev-1", "2026-11-27T12:00:00Z",
                       {"uuid": _uuid(), "revision": 1, "reasons": ["Falta el jefe de hogar."]})
    entry = p.sign_message(m, keys["server_sig"])
    assert p.verify_message(entry, keys["server_sig"].public_key(), "dev-1") == m
    with pytest.raises(p.ProtocolError):
        p.verify_message(entry, keys["server_sig"].public_key(), "dev-2")
    for k, v in [("cursor", 8), ("kind", "cse_result"), ("device_id", "dev-2"),
                 ("created_at", "x"), ("payload", {"uuid": "y"})]:
        bad = dict(entry, **{k: v})
        with pytest.raises(p.ProtocolError):
            p.verify_message(bad, keys["server_sig"].public_key(), "dev-1")
    with pytest.raises(p.ProtocolError):
        p.verify_message({k: v for k, v in entry.items() if k != "signature"},
                         keys["server_sig"].public_key(), "dev-1")


def test_form_signature(keys):
    sig = p.sign_form("fsu", "2025.1", b"xlsx bytes", keys["server_sig"])
    p.verify_form("fsu", "2025.1", b"xlsx bytes", sig, keys["server_sig"].public_key())
    for args in [("fsu", "2025.2", b"xlsx bytes"), ("s100", "2025.1", b"xlsx bytes"),
                 ("fsu", "2025.1", b"xlsx byteZ")]:
        with pytest.raises(p.ProtocolError):
            p.verify_form(*args, sig, keys["server_sig"].public_key())


def test_error_body():
    e = p.ProtocolError("x", "English", "Español", 400)
    assert e.body(extra=1) == {"code": "x", "detail": "English", "message": "Español", "extra": 1}


def test_protocol_is_qt_free():
    import ast
    import pathlib

    src = pathlib.Path(p.__file__).read_text()
    mods = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module.split(".")[0])
    import sys

    assert mods <= set(sys.stdlib_module_names) | {"cryptography", "__future__"}


_TEXT = st.text(max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.dictionaries(_TEXT, _JSON, max_size=6),
       approved=st.none() | _TEXT, completed=_TEXT.filter(bool),
       case=st.booleans())
def test_record_canonical_built_from_parts_is_canonical_json(answers, approved, completed,
                                                            case):
    # BatchRecord.canonical() reuses the answers' canonical bytes: it must stay byte for
    # byte canonical_json(to_dict()), the content hash laptops and centre agree on.
    r = make_record(answers=answers, approved_at=approved, completed_at=completed,
                    case_uuid=_uuid() if case else None)
    assert r.canonical() == p.canonical_json(r.to_dict())
    assert r.content_hash() == p.sha256_hex(p.canonical_json(r.to_dict()))
    assert r.answers_json == p.canonical_json(answers)
