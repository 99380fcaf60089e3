"""The HTTP face of the server (FastAPI). Every route except health and
enrollment is authenticated by the device's request signature."""

from __future__ import annotations

import gc
import logging
import time
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server import observe
from server.backpressure import IngestGate
from server.db import current_revision, head_revision
from server.errors import RetryLater
from server.service import Service
from server.settings import Settings

log = logging.getLogger("siee.server.http")

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------------ schemas


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine code, e.g. bad_signature")
    detail: str = Field(description="English, for logs")
    message: str = Field(description="Spanish, for people")
    server_time: float = Field(description="server clock (unix seconds) for offset correction")


class Health(BaseModel):
    status: str
    protocol_version: int
    server_time: float


class EnrollRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    device_public_key: str = Field(pattern=r"^[A-Za-z0-9_\-]{43}$",
                                   description="Ed25519 public key, base64url of 32 bytes")
    proof: str = Field(pattern=r"^[A-Za-z0-9_\-]{86}$",
                       description="device signature of the enrollment string (64 bytes)")
    label: str = Field(default="", max_length=200)
    app_version: str = Field(default="", max_length=64)
    protocol_version: Literal[1] = 1
    ule_ubigeo: str | None = Field(default=None, pattern=r"^[0-9]{6}$",
                                   description="the laptop's ULE; a code of another ULE "
                                   "is refused (409 enroll_code_other_ule)")
    replaces: str | None = Field(default=None, pattern=r"^dev-[0-9a-f]{16}$",
                                 description="the laptop's current device id when it enrolls "
                                 "again; revoked together with this enrollment")
    replaces_proof: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_\-]{86}$",
                                       description="signature of the replacement string by "
                                       "the replaced device's key (64 bytes)")


class Ready(BaseModel):
    status: str
    schema_revision: str
    server_time: float


class Limits(BaseModel):
    max_batch_bytes: int
    max_records: int
    rate_per_minute: int
    timestamp_window: int


class EnrollResponse(BaseModel):
    device_id: str
    ule_ubigeo: str
    server_signing_key: str
    server_encryption_key: str
    protocol_version: int
    server_time: float
    limits: Limits


class DeviceInfo(BaseModel):
    device_id: str
    ule_ubigeo: str
    status: str
    enrolled_at: str
    server_time: float
    limits: Limits


class InboxEntry(BaseModel):
    cursor: int
    kind: str
    device_id: str
    created_at: str
    payload: dict[str, Any]
    signature: str


class InboxPage(BaseModel):
    messages: list[InboxEntry]
    next_cursor: int
    has_more: bool


class FormInfo(BaseModel):
    form_id: str
    version: str
    sha256: str
    filename: str
    published_at: str


class RecordResultModel(BaseModel):
    uuid: str
    revision: int
    status: str
    reasons: list[str]


class ReceiptBody(BaseModel):
    v: int
    batch_id: str
    device_id: str
    received_at: str
    envelope_sha256: str
    counts: dict[str, int]
    results: list[RecordResultModel]


class SignedReceipt(BaseModel):
    receipt: ReceiptBody
    signature: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: {"model": ErrorBody} for c in codes}


AUTH_ERRORS = (401, 403, 422, 429)

# Signing headers, declared so that the OpenAPI document describes them.
DeviceH = Annotated[str | None, Header(alias=p.H_DEVICE)]
TimestampH = Annotated[str | None, Header(alias=p.H_TIMESTAMP)]
NonceH = Annotated[str | None, Header(alias=p.H_NONCE)]
SignatureH = Annotated[str | None, Header(alias=p.H_SIGNATURE)]


# --------------------------------------------------------------- middleware


class ServerTimeAndSize:
    """Around every request: a request id (X-Request-Id, in the logs), the server time
    and the largest accepted batch in the answer's headers, a bound on the requests
    served at once (beyond it: 503 and Retry-After at once), request metrics; oversized
    JSON bodies are refused before they are read (batch uploads are limited by their
    own route)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.max_json_bytes = settings.max_json_bytes
        self.inflight = 0
        self.extra_headers = [
            (p.H_MAX_RECORDS.lower().encode(), str(settings.max_records).encode()),
            (p.H_MAX_BATCH_BYTES.lower().encode(), str(settings.max_batch_bytes).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = observe.new_request_id(
            headers.get(observe.REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1"))
        token = observe.request_id.set(rid)
        status = {"code": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message.get("status", 500))
                hdrs = list(message.get("headers") or [])
                hdrs.append((p.H_SERVER_TIME.lower().encode(), f"{time.time():.3f}".encode()))
                hdrs.append((observe.REQUEST_ID_HEADER.lower().encode(), rid.encode()))
                hdrs.extend(self.extra_headers)
                message = {**message, "headers": hdrs}
            await send(message)

        self.inflight += 1
        observe.INFLIGHT.inc()
        try:
            refusal = self._refusal(scope, headers)
            if refusal is not None:
                if scope.get("path", "").startswith("/v1/batches/"):
                    await _drain(receive, self.settings.max_batch_bytes)
                await _error_response(refusal)(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            self.inflight -= 1
            observe.INFLIGHT.dec()
            route = scope.get("route")
            observe.REQUESTS.labels(scope.get("method", "?"),
                                    getattr(route, "path", "unmatched"),
                                    str(status["code"])).inc()
            observe.request_id.reset(token)

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> ProtocolError | None:
        path = scope.get("path", "")
        if self.inflight > self.settings.max_inflight_requests and path not in (
                "/v1/health", "/v1/ready", "/metrics"):
            return RetryLater("busy", "too many requests in flight",
                              "El servidor está ocupado. Vuelva a intentar en un momento.",
                              503, 5)
        if not path.startswith("/v1/batches/"):
            cl = headers.get(b"content-length")
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
            too_big = chunked or (cl is not None and (not cl.isdigit()
                                                      or int(cl) > self.max_json_bytes))
            if too_big:
                return ProtocolError(
                    "too_large", f"request body over {self.max_json_bytes} bytes",
                    "La solicitud es demasiado grande.", 413)
        return None


async def _drain(receive: Receive, limit: int) -> None:
    """Read and drop a request body (bounded), so the client reads our early answer
    instead of a reset connection."""
    n = 0
    while n <= 4 * limit + (1 << 20):
        message = await receive()
        if message["type"] != "http.request":
            return
        n += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _error_response(exc: ProtocolError, **extra: Any) -> JSONResponse:
    headers = {}
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(exc.retry_after)
    elif exc.status == 429:
        headers["Retry-After"] = "60"
    observe.REJECTIONS.labels(exc.code).inc()
    return JSONResponse(exc.body(server_time=time.time(), **extra), status_code=exc.status,
                        headers=headers)


# ------------------------------------------------------------------- helpers


def _signed_path(request: Request) -> str:
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    qs = request.scope.get("query_string") or b""
    return path + ("?" + qs.decode("latin-1") if qs else "")


async def _read_limited(request: Request, limit: int) -> bytes:
    cl = request.headers.get("content-length")
    too_large = ProtocolError(
        "too_large", f"body over {limit} bytes",
        f"El lote es demasiado grande (máximo {limit // 1024} KiB). Envíe lotes más pequeños.",
        413,
    )
    if cl is not None and cl.isdigit() and int(cl) > limit:
        # Drain a bounded amount so the client reads our answer instead of a reset.
        drained = 0
        async for chunk in request.stream():
            drained += len(chunk)
            if drained > 4 * limit + (1 << 20):
                break
        raise too_large
    chunks: list[bytes] = []
    n = 0
    over = False
    try:
        async for chunk in request.stream():
            n += len(chunk)
            if n > limit:
                over = True
                if n > 4 * limit + (1 << 20):
                    break
                continue
            chunks.append(chunk)
    except ClientDisconnect:
        # A cut connection in the middle of an upload is the network, not a server error.
        raise ProtocolError("client_disconnected", "client went away during the upload",
                            "La conexión se cortó durante el envío. Vuelva a intentar.",
                            400) from None
    if over:
        raise too_large
    return b"".join(chunks)


async def _auth(svc: Service, request: Request, body: bytes = b"") -> Any:
    return await run_in_threadpool(
        svc.authenticate, request.method, _signed_path(request), body, request.headers
    )


# ----------------------------------------------------------------------- app


def create_app(settings: Settings, service: Service | None = None,
               workers: int = 1) -> ASGIApp:
    """The ASGI application (FastAPI wrapped in the server-time/size middleware).
    workers: how many processes serve the same listening socket (see put_batch)."""
    return ServerTimeAndSize(create_fastapi(settings, service, workers), settings)


def app_from_env() -> ASGIApp:
    """The application of one worker of `siee-server serve --workers N`: settings from
    the SIEE_SERVER_SETTINGS environment variable (JSON, Settings.to_env), database
    already prepared by the parent process."""
    import os

    level, _, fmt = os.environ.get("SIEE_SERVER_LOG", "info:json").partition(":")
    observe.setup_logging(level, fmt or "json")
    settings = Settings.from_env(os.environ[SETTINGS_ENV])
    workers = int(os.environ.get(WORKERS_ENV, "2"))
    return serving_app(settings, Service(settings, prepare_db=False), workers)


def serving_app(settings: Settings, service: Service, workers: int = 1) -> ASGIApp:
    """The application a serving process runs (`serve` with one process, or each
    worker): the form engine and bundled forms loaded now, not on the first batch, then
    what start-up built (modules, compiled form versions), which lives as long as the
    process, put out of the collector's full passes, which otherwise re-walk it for
    every few hundred records checked. workers: processes sharing the socket."""
    service.validator.warm_up()
    app = create_app(settings, service, workers)
    gc.freeze()
    return app


SETTINGS_ENV = "SIEE_SERVER_SETTINGS"
WORKERS_ENV = "SIEE_SERVER_WORKERS"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API, built without storage (for docs and fuzzing)."""
    return create_fastapi(Settings(), service=_NO_SERVICE).openapi()


_NO_SERVICE: Any = object()


def create_fastapi(settings: Settings, service: Service | None = None,
                   workers: int = 1) -> FastAPI:
    svc = service or Service(settings)
    gate = IngestGate(settings.max_inflight_ingest, settings.max_waiting_ingest,
                      settings.max_queue_wait)
    app = FastAPI(
        title="SIEE reference server",
        version=f"{p.PROTOCOL_VERSION}.0",
        description="Wire protocol v1 of SIEE Campo (docs/protocol.md). Requests other than "
        "health and enrollment carry an Ed25519 device signature in X-Siee-* headers.",
    )
    app.state.service = svc

    @app.exception_handler(ProtocolError)
    async def _protocol_error(request: Request, exc: ProtocolError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if exc.code == "device_revoked":
            dev = request.headers.get(p.H_DEVICE, "")
            notice = await run_in_threadpool(svc.revocation_notice, dev) if dev else None
            if notice:
                extra["revocation"] = notice
        if exc.status >= 500:
            log.error("%s %s -> %s %s", request.method, request.url.path, exc.status, exc.code)
        else:
            log.info("%s %s -> %s %s", request.method, request.url.path, exc.status, exc.code)
        return _error_response(exc, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: ("not_found", "No existe esa dirección en el servidor."),
                 405: ("method_not_allowed", "Operación no permitida en esta dirección.")}
        code, msg = codes.get(exc.status_code, ("http_error", "La solicitud no es válida."))
        status = exc.status_code
        if status == 400:  # unreadable JSON body: same answer as any invalid request
            code, msg, status = ("invalid_request",
                                 "La solicitud tiene datos inválidos o incompletos.", 422)
        resp = _error_response(ProtocolError(code, str(exc.detail), msg, status))
        if exc.headers:
            resp.headers.update(exc.headers)
        if status == 405:  # every method of every route on this path, not just the first
            allowed = set()
            for route in app.router.routes:
                match, _ = route.matches(request.scope)
                if match != Match.NONE:
                    allowed |= set(getattr(route, "methods", None) or ())
            if allowed:
                resp.headers["Allow"] = ", ".join(sorted(allowed))
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = sorted({".".join(str(x) for x in e.get("loc", ())) for e in exc.errors()})
        if "body.protocol_version" in where:
            return _error_response(ProtocolError(
                "unsupported_version", "protocol version not supported",
                "La versión del programa no es compatible con el servidor. Actualice SIEE Campo.",
                422))
        return _error_response(ProtocolError(
            "invalid_request", "invalid request: " + ", ".join(where)[:300],
            "La solicitud tiene datos inválidos o incompletos.", 422), fields=where[:20])

    @app.exception_handler(OperationalError)
    async def _db_busy(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                    type(exc.orig).__name__ if exc.orig is not None else "?")
        return _error_response(RetryLater(
            "busy", "database busy or unavailable",
            "El servidor está ocupado. Vuelva a intentar en un momento.", 503, 5))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(ProtocolError(
            "internal_error", f"unexpected {type(exc).__name__}",
            "Error interno del servidor. Vuelva a intentar más tarde.", 500))

    @app.get("/v1/health", response_model=Health, tags=["public"])
    async def health() -> dict[str, Any]:
        return {"status": "ok", "protocol_version": p.PROTOCOL_VERSION, "server_time": time.time()}

    @app.get("/v1/ready", response_model=Ready, tags=["public"], responses=_errors(503))
    async def ready() -> dict[str, Any]:
        """Readiness: the database answers and holds the schema this program expects."""
        def check() -> str:
            with svc.engine.connect() as c:
                c.execute(text("SELECT 1"))
                rev = current_revision(c)
            if rev != head_revision():
                raise RetryLater("not_ready", f"schema {rev} is not {head_revision()}",
                                 "La base de datos del servidor no está actualizada.", 503, 30)
            return rev

        rev = await run_in_threadpool(check)
        return {"status": "ready", "schema_revision": rev, "server_time": time.time()}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, ctype = await run_in_threadpool(observe.metrics_text)
        state = await run_in_threadpool(svc.state_metrics)
        return Response(body + observe.state_text(state), media_type=ctype)

    @app.post("/v1/enroll", response_model=EnrollResponse, tags=["public"],
              responses=_errors(401, 403, 409, 413, 422))
    async def enroll(request: Request, req: EnrollRequest) -> dict[str, Any]:
        client = request.client.host if request.client else "unknown"
        return await run_in_threadpool(svc.enroll, req.model_dump(), client)

    @app.get("/v1/device", response_model=DeviceInfo, tags=["device"],
             responses=_errors(*AUTH_ERRORS))
    async def device(request: Request, x_device: DeviceH = None, x_ts: TimestampH = None,
                     x_nonce: NonceH = None, x_sig: SignatureH = None) -> dict[str, Any]:
        dev = await _auth(svc, request)
        return {"device_id": dev["device_id"], "ule_ubigeo": dev["ule_ubigeo"],
                "status": dev["status"], "enrolled_at": dev["enrolled_at"],
                "server_time": time.time(), "limits": settings.limits()}

    @app.put(
        "/v1/batches/{batch_id}",
        response_model=SignedReceipt,
        tags=["device"],
        responses=_errors(*AUTH_ERRORS, 409, 413),
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }}},
    )
    async def put_batch(
        request: Request,
        batch_id: Annotated[str, Path(pattern=UUID_PATTERN)],
        x_device: DeviceH = None, x_ts: TimestampH = None, x_nonce: NonceH = None,
        x_sig: SignatureH = None,
    ) -> Response:
        started = time.monotonic()
        body = await _read_limited(request, settings.max_batch_bytes)
        async with gate.slot():
            dev = await _auth(svc, request, body)
            receipt = await run_in_threadpool(svc.ingest, body, "http", dev, batch_id)
        observe.RECEIPT_SECONDS.observe(time.monotonic() - started)
        headers = None
        if workers > 1 and gate.waiting:
            # A kept-alive connection stays with the process that accepted it, so laptops
            # that connected in a burst can pile up on one process while another runs out
            # of work. A process with batches queued closes the connection after the
            # receipt: the laptop's next batch reconnects and goes to whichever process
            # accepts first on the shared socket, an idle one sooner than this busy one.
            headers = {"Connection": "close"}
            observe.REBALANCED.inc()
        return Response(receipt, media_type=p.RECEIPT_CONTENT_TYPE, headers=headers)

    @app.get("/v1/batches/{batch_id}", response_model=SignedReceipt, tags=["device"],
             responses=_errors(*AUTH_ERRORS, 404))
    async def get_batch(
        request: Request,
        batch_id: Annotated[str, Path(pattern=UUID_PATTERN)],
        x_device: DeviceH = None, x_ts: TimestampH = None, x_nonce: NonceH = None,
        x_sig: SignatureH = None,
    ) -> Response:
        dev = await _auth(svc, request)
        receipt = await run_in_threadpool(svc.get_receipt, dev["device_id"], batch_id)
        return Response(receipt, media_type=p.RECEIPT_CONTENT_TYPE)

    @app.get("/v1/inbox", response_model=InboxPage, tags=["device"],
             responses=_errors(*AUTH_ERRORS))
    async def inbox(
        request: Request,
        after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        x_device: DeviceH = None, x_ts: TimestampH = None, x_nonce: NonceH = None,
        x_sig: SignatureH = None,
    ) -> dict[str, Any]:
        dev = await _auth(svc, request)
        return await run_in_threadpool(svc.inbox, dev["device_id"], after, limit)

    @app.get("/v1/forms", response_model=list[FormInfo], tags=["device"],
             responses=_errors(*AUTH_ERRORS))
    async def list_forms(request: Request, x_device: DeviceH = None, x_ts: TimestampH = None,
                         x_nonce: NonceH = None, x_sig: SignatureH = None) -> list[dict]:
        await _auth(svc, request)
        return await run_in_threadpool(svc.list_forms)

    @app.get("/v1/forms/{form_id}/{version}", tags=["device"],
             responses={200: {"content": {XLSX_TYPE: {}}}, **_errors(*AUTH_ERRORS, 404)})
    async def get_form(
        request: Request,
        form_id: Annotated[str, Path(pattern=ID_PATTERN)],
        version: Annotated[str, Path(pattern=ID_PATTERN)],
        x_device: DeviceH = None, x_ts: TimestampH = None, x_nonce: NonceH = None,
        x_sig: SignatureH = None,
    ) -> Response:
        await _auth(svc, request)
        content, filename, sig = await run_in_threadpool(svc.get_form, form_id, version)
        media = XLSX_TYPE if filename.endswith(".xlsx") else "application/octet-stream"
        return Response(content, media_type=media, headers={
            p.H_CONTENT_SHA256: p.sha256_hex(content),
            p.H_SERVER_SIGNATURE: sig,
            "Content-Disposition": f'attachment; filename="{form_id}-{version}.xlsx"',
        })

    return app
