"""HTTP to the SIEE server with requests: signed requests, the clock offset,
timeouts, TLS verification (with an optional CA bundle), the system or
environment proxy, and server errors turned into the client's exceptions."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import __version__
from app.sync import protocol as p
from app.sync.model import (
    Cancelled,
    DeviceRevoked,
    NetworkError,
    NotEnrolled,
    ServerBusy,
    ServerRefused,
    SyncError,
    check_server_url,
    is_loopback_host,
)

log = logging.getLogger("siee.sync.http")

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0


class ProgressBody:
    """A request body that reports how much of it was handed to the socket and stops
    when the sync is cancelled. requests sends it with a Content-Length (no chunking)."""

    def __init__(self, data: bytes, on_bytes: Callable[[int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None, chunk: int = 16384) -> None:
        self.data = data
        self.pos = 0
        self.on_bytes = on_bytes
        self.cancelled = cancelled
        self.chunk = chunk

    def __len__(self) -> int:
        return len(self.data)

    def read(self, n: int = -1) -> bytes:
        if self.cancelled and self.cancelled():
            raise Cancelled()
        n = self.chunk if n is None or n < 0 else min(n, self.chunk)
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        if out and self.on_bytes:
            self.on_bytes(self.pos)
        return out


class Transport:
    """One server, one device identity (or none, for health and enrollment)."""

    def __init__(
        self,
        base_url: str,
        ca_bundle: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.base_url = check_server_url(base_url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.offset = 0.0
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"siee-campo/{__version__}"
        # TLS is always verified; a CA bundle replaces the system store when set. It is
        # also passed with every request (self.verify): requests lets REQUESTS_CA_BUNDLE or
        # CURL_CA_BUNDLE replace a Session's own `verify` when trust_env is on (kept on for
        # the proxy variables), which would silently drop the configured bundle.
        self.verify: bool | str = ca_bundle or True
        self.session.verify = self.verify
        host = urlsplit(self.base_url).hostname or ""
        if is_loopback_host(host):
            # A server on this computer is never reached through a proxy.
            self.session.trust_env = False
        # else: trust_env (default) honours HTTPS_PROXY/NO_PROXY and the system proxy.
        self.device_id: str | None = None
        self.key: Ed25519PrivateKey | None = None
        self.bytes_up = 0
        self.bytes_down = 0
        self._lock = threading.Lock()
        # (records, bytes) of the largest batch the server accepts, from its last answer
        # (servers before the backpressure addition do not say: None).
        self.server_limits: tuple[int, int] | None = None

    def close(self) -> None:
        self.session.close()

    def identify(self, device_id: str, key: Ed25519PrivateKey) -> None:
        self.device_id, self.key = device_id, key

    def now(self) -> float:
        return time.time() + self.offset

    # -- low level --------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        signed: bool = True,
        json_body: Any = None,
        content_type: str | None = None,
        read_timeout: float | None = None,
        on_bytes: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> requests.Response:
        """One request; heals a stale clock or a replayed nonce by retrying once.
        Raises NetworkError, ServerBusy, NotEnrolled, DeviceRevoked or ServerRefused."""
        if json_body is not None:
            body = p.canonical_json(json_body)
            content_type = "application/json"
        for attempt in range(3):
            if cancelled and cancelled():
                raise Cancelled()
            headers = {"Content-Type": content_type} if content_type else {}
            if signed:
                if self.device_id is None or self.key is None:
                    raise NotEnrolled("no device identity", "Este equipo no está inscrito.")
                headers.update(p.sign_request(method, path, body, self.device_id, self.key,
                                              now=self.now()))
            data: Any = ProgressBody(body, on_bytes, cancelled) if body else None
            try:
                r = self.session.request(
                    method, self.base_url + path, data=data, headers=headers,
                    timeout=(self.connect_timeout, read_timeout or self.read_timeout),
                    allow_redirects=False, verify=self.verify,
                )
                content = r.content  # read it all now: a cut body is a network error
            except Cancelled:
                raise
            except requests.exceptions.SSLError as e:
                raise SyncError(
                    f"TLS verification failed: {type(e).__name__}",
                    "No se pudo verificar la identidad del servidor (certificado TLS). Revise la "
                    "fecha y hora del equipo o configure el certificado de la institución "
                    "(opción ca_bundle).",
                ) from None
            except requests.exceptions.Timeout as e:
                raise NetworkError(f"{method} {path}: timeout ({type(e).__name__})",
                                   timeout=True) from None
            except (requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as e:
                raise NetworkError(f"{method} {path}: {type(e).__name__}") from None
            except requests.exceptions.RequestException as e:
                raise NetworkError(f"{method} {path}: {type(e).__name__}") from None
            with self._lock:
                self.bytes_up += len(body)
                self.bytes_down += len(content)
            st = r.headers.get(p.H_SERVER_TIME)
            if st:
                self.offset = p.clock_offset(st)
            self._note_limits(r)
            if r.status_code < 400 and 200 <= r.status_code < 300:
                return r
            err = self._error(r, content)
            if err.get("code") in ("stale_timestamp", "replayed_nonce") and attempt < 2:
                log.info("%s %s: %s, retrying", method, path, err.get("code"))
                continue
            raise self._exception(method, path, r.status_code, err, r)
        raise NetworkError(f"{method} {path}: gave up")  # pragma: no cover

    @staticmethod
    def _error(r: requests.Response, content: bytes) -> dict[str, Any]:
        try:
            d = json.loads(content.decode("utf-8"))
            return d if isinstance(d, dict) else {}
        except (ValueError, UnicodeDecodeError):
            return {}

    def _exception(self, method: str, path: str, status: int, err: dict[str, Any],
                   r: requests.Response) -> SyncError:
        code = str(err.get("code") or "")
        msg = str(err.get("message") or "")
        what = f"{method} {path}: HTTP {status} {code}"
        log.info("%s", what)
        if status >= 500 or status == 429 or code == "busy" or not err:
            if status < 500 and status != 429 and not err:
                # Not our server (a captive portal, a proxy page): treat as no connection.
                return NetworkError(what)
            try:
                retry = float(r.headers.get("Retry-After") or 0)
            except ValueError:
                retry = 0.0
            busy = ServerBusy(what, msg or "El servidor está ocupado. Se reintentará en un "
                              "momento.", retry)
            busy.server_code = code  # type: ignore[attr-defined]  # "busy": load, not quota
            return busy
        if code == "unknown_device":
            return NotEnrolled(
                what,
                "El servidor no reconoce este equipo. Inscríbalo de nuevo con un código de la "
                "sede central; las fichas pendientes se conservan y se enviarán.",
            )
        if code == "device_revoked":
            e = DeviceRevoked(what, msg or "Este equipo fue dado de baja por la sede central.")
            e.revocation = err.get("revocation")  # type: ignore[attr-defined]
            return e
        return ServerRefused(what, msg or "El servidor rechazó la solicitud.", status, code)

    # -- routes -------------------------------------------------------------------------------
    def _note_limits(self, r: requests.Response) -> None:
        """The largest batch the server accepts, from the headers of any of its answers."""
        mr, mb = r.headers.get(p.H_MAX_RECORDS, ""), r.headers.get(p.H_MAX_BATCH_BYTES, "")
        if mr.isdigit() and mb.isdigit():
            self.server_limits = (int(mr), int(mb))

    def health(self, timeout: float = 5.0) -> dict[str, Any]:
        try:
            r = self.session.get(self.base_url + "/v1/health",
                                 timeout=(min(timeout, self.connect_timeout), timeout),
                                 verify=self.verify)
            d = r.json()
        except (requests.exceptions.RequestException, ValueError) as e:
            raise NetworkError(f"health: {type(e).__name__}") from None
        self._note_limits(r)
        if r.status_code != 200 or not isinstance(d, dict) or d.get("status") != "ok":
            raise NetworkError(f"health: HTTP {r.status_code}")
        if "server_time" in d:
            self.offset = p.clock_offset(d["server_time"])
        return d

    def enroll(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.request("POST", "/v1/enroll", json_body=body, signed=False)
        try:
            d = r.json()
        except ValueError:
            raise NetworkError("enroll: answer is not JSON") from None
        return d

    def put_batch(self, batch_id: str, envelope: bytes, read_timeout: float,
                  on_bytes: Callable[[int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> bytes:
        r = self.request("PUT", f"/v1/batches/{batch_id}", envelope,
                         content_type=p.BATCH_CONTENT_TYPE, read_timeout=read_timeout,
                         on_bytes=on_bytes, cancelled=cancelled)
        return r.content

    def inbox(self, after: int, limit: int = 200) -> dict[str, Any]:
        r = self.request("GET", f"/v1/inbox?after={int(after)}&limit={int(limit)}")
        try:
            d = r.json()
        except ValueError:
            raise NetworkError("inbox: answer is not JSON") from None
        if not isinstance(d, dict) or not isinstance(d.get("messages"), list):
            raise NetworkError("inbox: malformed page")
        return d

    def get_form(self, form_id: str, version: str) -> requests.Response:
        return self.request("GET", f"/v1/forms/{form_id}/{version}", read_timeout=120)
