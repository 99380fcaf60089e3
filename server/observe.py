"""Operations: Prometheus metrics, request ids and structured JSON logs.

Metrics use prometheus-client; with several worker processes (`serve --workers N`)
the parent sets PROMETHEUS_MULTIPROC_DIR before the workers start and /metrics adds
up every worker's values (prometheus-client's multiprocess mode). Logs are one JSON
object per line (python-json-logger) with the request id; they carry ids, counts and
codes, never answers, names or DNIs."""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_mp

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_ID_HEADER = "X-Request-Id"
_REQ_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")

request_id: ContextVar[str] = ContextVar("siee_request_id", default="-")

REQUESTS = Counter("siee_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
INFLIGHT = Gauge("siee_http_inflight_requests", "HTTP requests being served",
                 multiprocess_mode="livesum")
INGEST_INFLIGHT = Gauge("siee_ingest_inflight", "batches being validated and stored",
                        multiprocess_mode="livesum")
INGEST_WAITING = Gauge("siee_ingest_waiting", "batches waiting for an ingest slot",
                       multiprocess_mode="livesum")
INGEST_RECORDS = Counter("siee_ingest_records_total",
                         "records ingested, by result (rate() gives records/s)", ["result"])
REJECTIONS = Counter("siee_rejections_total", "requests refused, by reason code", ["reason"])
REBALANCED = Counter("siee_connections_rebalanced_total",
                     "kept-alive connections closed after a receipt by a process with "
                     "batches queued, so that the next batch may go to another process")
RECEIPT_SECONDS = Histogram(
    "siee_receipt_seconds", "time from a batch upload's arrival to its receipt",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120))


def metrics_text() -> tuple[bytes, str]:
    """(body, content type) of the /metrics answer, all workers added up."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        prom_mp.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# Figures read from the database at each scrape (shared by every worker process).
STATE_GAUGES = {
    "siee_audit_alert_devices": "devices whose audit log went backwards at least once",
    "siee_audit_alerts": "audit-log alerts recorded, all devices (siee-server devices alerts)",
    "siee_held_records": "records held: their form version is not held by the centre",
}


def state_text(values: dict[str, int]) -> bytes:
    """Prometheus text lines for the STATE_GAUGES in `values` (name -> value)."""
    out = []
    for name, value in values.items():
        out.append(f"# HELP {name} {STATE_GAUGES[name]}\n# TYPE {name} gauge\n"
                   f"{name} {int(value)}\n")
    return "".join(out).encode()


def mark_worker_dead(pid: int) -> None:
    """Forget a finished worker's live gauges (multiprocess mode only)."""
    if os.environ.get(MULTIPROC_ENV):
        prom_mp.mark_process_dead(pid)


def new_request_id(incoming: str | None) -> str:
    """The proxy's request id when it looks like one, else a new random id."""
    if incoming and _REQ_ID_RE.match(incoming):
        return incoming
    return uuid.uuid4().hex[:16]


class RequestIdFilter(logging.Filter):
    """Adds the current request id to every log record, and drops uvicorn's
    `color_message` (the message again with ANSI colour escapes: noise in a JSON line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.__dict__.pop("color_message", None)
        return True


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes to the `sys.stderr` of the moment, not the one it
    was made with: whoever swaps stderr and closes the old one (a redirect, pytest's
    capture around an in-process `siee-server serve`) leaves no handler writing to a
    closed file ("Logging error ... I/O operation on closed file")."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__/setStream assign it
        pass


def setup_logging(level: str = "info", fmt: str = "json") -> None:
    """Configure the root logger: JSON lines (fmt="json") or plain text, with request ids,
    on the current standard error (StderrHandler). Replaces an earlier console handler,
    keeps any other handler the host installed."""
    handler = StderrHandler()
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(process)d %(request_id)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                           "process": "pid"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        # Ours from an earlier call, or a plain console handler (logging.basicConfig):
        # replaced. Others stay: a host's own handlers (pytest's log capture, whose
        # caplog keeps seeing the server's records when `serve` runs in-process).
        if isinstance(h, StderrHandler) or (
                type(h) is logging.StreamHandler
                and getattr(h, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__)):
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    logging.getLogger("alembic").setLevel(logging.WARNING)
