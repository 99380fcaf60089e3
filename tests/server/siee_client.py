"""A minimal test-side device client: requests + app.sync.protocol.

The real sync client (app/sync) is built elsewhere; this one exists so the
server tests can talk to a real server the way a laptop does."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.sync import protocol as p

# The test form's version (tests/data/forms: s100 version "1").
TEST_FORM_VERSION = "1"
TEST_FORM_IDS = ("s100",)


class SieeAuth(requests.auth.AuthBase):
    """Signs every prepared request (method, path with query, body) with the device key."""

    def __init__(self, device_id: str, key: Ed25519PrivateKey, offset: float = 0.0) -> None:
        self.device_id = device_id
        self.key = key
        self.offset = offset

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        r.headers.update(p.sign_request(r.method or "GET", r.path_url, body, self.device_id,
                                        self.key, now=time.time() + self.offset))
        return r


@dataclass
class Device:
    base_url: str
    device_id: str
    key: Ed25519PrivateKey
    ule: str
    server_signing_key: str
    server_encryption_key: str
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def enroll(cls, base_url: str, code: str, label: str = "test laptop") -> Device:
        key = p.new_signing_key()
        r = requests.post(base_url + "/v1/enroll", json=p.enrollment_request(code, key, label),
                          timeout=30)
        assert r.status_code == 200, r.text
        d = r.json()
        return cls(base_url, d["device_id"], key, d["ule_ubigeo"], d["server_signing_key"],
                   d["server_encryption_key"])

    def request(self, method: str, path: str, body: bytes = b"", *, sign: bool = True,
                now: float | None = None, nonce: str | None = None,
                headers: dict[str, str] | None = None, key: Ed25519PrivateKey | None = None,
                content_type: str | None = None) -> requests.Response:
        h = dict(headers or {})
        if content_type:
            h["Content-Type"] = content_type
        if sign:
            h.update(p.sign_request(method, path, body, self.device_id, key or self.key,
                                    now=now, nonce=nonce))
        return self.session.request(method, self.base_url + path, data=body or None,
                                    headers=h, timeout=60)

    def record(self, **over: Any) -> p.BatchRecord:
        base: dict[str, Any] = dict(
            uuid=str(uuid.uuid4()), revision=1, form_id="s100", form_version="1",
            ule_ubigeo=self.ule, author="enum01",
            answers={"tipo_solicitud": "determinacion", "nota": "Ñandú"},
            completed_at="2026-11-27T10:00:00Z", approved_at="2026-11-27T11:00:00Z",
        )
        base.update(over)
        answers = base["answers"]
        if (isinstance(answers, dict) and base["form_version"] == TEST_FORM_VERSION
                and base["form_id"] in TEST_FORM_IDS):
            # Tests write the answers of the test forms (tests/data/forms, published by
            # running_server) by field name; the form engine reads them by path.
            base["answers"] = {k if k.startswith("/") else f"/{base['form_id']}/{k}": v
                               for k, v in answers.items()}
        return p.BatchRecord(**base)

    def batch(self, records: list[p.BatchRecord], batch_id: str | None = None) -> p.Envelope:
        return p.build_batch(records, self.device_id, self.key, self.server_encryption_key,
                             batch_id=batch_id)

    def put_batch(self, env: p.Envelope | bytes, batch_id: str | None = None,
                  **kw: Any) -> requests.Response:
        data = env.to_bytes() if isinstance(env, p.Envelope) else env
        bid = batch_id or (env.batch_id if isinstance(env, p.Envelope) else "")
        return self.request("PUT", f"/v1/batches/{bid}", data,
                            content_type=p.BATCH_CONTENT_TYPE, **kw)

    def send(self, records: list[p.BatchRecord]) -> p.Receipt:
        r = self.put_batch(self.batch(records))
        assert r.status_code == 200, r.text
        return p.verify_receipt(r.content, self.server_signing_key)

    def inbox(self, after: int = 0, limit: int = 100) -> list[p.InboxMessage]:
        r = self.request("GET", f"/v1/inbox?after={after}&limit={limit}")
        assert r.status_code == 200, r.text
        return [p.verify_message(m, self.server_signing_key, self.device_id)
                for m in r.json()["messages"]]
