"""The server's operations, independent of HTTP, composed from one part per resource
(the way ODK Central splits resources from their queries):

- devices  (server.devices):  enrollment codes, enrollment, authentication, revocation
- batches  (server.batches):  ingest of envelopes and their receipts
- inbox    (server.inbox):    signed messages for devices, over HTTP or USB
- forms    (server.forms):    published XLSForms
- records  (server.records):  received records: list, show, return, CSE result, export
- cases    (server.cases):    cases (expedientes): state, list, return / result per case
- validator (server.validation): form-engine check of received answers

`Service` builds them on one Context (settings, keys, engine) and keeps the flat
method names the CLI, the HTTP layer and the tests call.

Errors are app.sync.protocol.ProtocolError (code, English detail, Spanish
message, HTTP status). Logs carry ids and counts, never answers or names."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import RowMapping

from app.sync import protocol as p
from server import audit_heads, held
from server.batches import Batches
from server.cases import Cases
from server.context import Context
from server.db import make_engine
from server.devices import Devices, normalize_code
from server.errors import admin_error
from server.file_modes import make_private
from server.forms import Forms, check_xlsform
from server.inbox import Inbox
from server.keys import ServerKeys, load_keys
from server.records import CSE_CATEGORIES, EXPORT_COLUMNS, Records
from server.sealing import Sealer, load_data_key
from server.settings import Settings
from server.validation import Validator

__all__ = ["CSE_CATEGORIES", "Service", "admin_error", "check_xlsform", "normalize_code"]


class Service:
    """One server's resources on one database (see the module docstring)."""

    EXPORT_COLUMNS = EXPORT_COLUMNS

    def __init__(self, settings: Settings, keys: ServerKeys | None = None,
                 prepare_db: bool = True) -> None:
        """prepare_db: create the schema of an empty database and refuse an outdated one
        (server.db.SchemaOutdated); False for worker processes of a prepared database."""
        self.settings = settings
        make_private(settings.data_dir, settings.db_url)  # 0700 folder, 0600 SQLite files
        self.keys = keys or load_keys(settings.data_dir)
        self.engine = make_engine(settings.db_url, prepare=prepare_db)
        self.sealer = Sealer(load_data_key(settings.data_dir))
        self.ctx = Context(settings, self.keys, self.engine, self.sealer)
        self.forms = Forms(self.ctx)
        self.validator = Validator(self.forms)
        self.devices = Devices(self.ctx)
        self.batches = Batches(self.ctx, self.validator)
        self.inboxes = Inbox(self.ctx, self.forms)
        self.records = Records(self.ctx)
        self.cases = Cases(self.ctx, self.records)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- devices ------------------------------------------------------------------------
    def create_enroll_code(self, ule: str, hours: int | None = None) -> tuple[str, str]:
        """See Devices.create_enroll_code."""
        return self.devices.create_enroll_code(ule, hours)

    def enroll(self, body: Mapping[str, Any], client: str | None = None) -> dict[str, Any]:
        """See Devices.enroll."""
        return self.devices.enroll(body, client)

    def authenticate(self, method: str, path: str, body: bytes, headers: Mapping[str, str],
                     now: float | None = None) -> RowMapping:
        """See Devices.authenticate."""
        return self.devices.authenticate(method, path, body, headers, now)

    def list_devices(self) -> list[dict[str, Any]]:
        """See Devices.list."""
        return self.devices.list()

    def revoke_device(self, device_id: str, reason: str = "") -> str:
        """See Devices.revoke (returns the id revoked, as the centre writes it)."""
        return self.devices.revoke(device_id, reason)

    # -- batches ------------------------------------------------------------------------
    def ingest(self, data: bytes, source: str = "http",
               auth_device: Mapping[str, Any] | None = None,
               path_batch_id: str | None = None) -> bytes:
        """See Batches.ingest."""
        return self.batches.ingest(data, source, auth_device, path_batch_id)

    def get_receipt(self, device_id: str, batch_id: str) -> bytes:
        """See Batches.get_receipt."""
        return self.batches.get_receipt(device_id, batch_id)

    # -- inbox --------------------------------------------------------------------------
    def inbox(self, device_id: str, after: int = 0, limit: int = 100) -> dict[str, Any]:
        """See Inbox.page."""
        return self.inboxes.page(device_id, after, limit)

    def usb_inbox(self, request: bytes) -> tuple[p.InboxRequest, bytes, int]:
        """See Inbox.usb_file."""
        return self.inboxes.usb_file(request)

    def revocation_notice(self, device_id: str) -> dict[str, Any] | None:
        """See Inbox.revocation_notice."""
        return self.inboxes.revocation_notice(device_id)

    def set_settings(self, values: dict[str, Any], ule: str | None = None) -> int:
        """See Inbox.broadcast_settings."""
        return self.inboxes.broadcast_settings(values, ule)

    # -- forms --------------------------------------------------------------------------
    def list_forms(self) -> list[dict[str, Any]]:
        """See Forms.list."""
        return self.forms.list()

    def get_form(self, form_id: str, version: str) -> tuple[bytes, str, str]:
        """See Forms.get."""
        return self.forms.get(form_id, version)

    def publish_form(self, path: Path) -> dict[str, Any]:
        """See Forms.publish."""
        return self.forms.publish(path)

    # -- records ------------------------------------------------------------------------
    def list_records(self, ule: str | None = None, status: str | None = None,
                     limit: int = 1000) -> list[dict[str, Any]]:
        """See Records.list."""
        return self.records.list(ule, status, limit)

    def get_record(self, uuid: str, revision: int | None = None) -> dict[str, Any]:
        """See Records.get."""
        return self.records.get(uuid, revision)

    def return_record(self, uuid: str, revision: int | None, reasons: list[str]) -> int:
        """See Records.return_record."""
        return self.records.return_record(uuid, revision, reasons)

    def post_result(self, uuid: str, revision: int | None, category: str, result_date: str,
                    valid_until: str) -> int:
        """See Records.post_result."""
        return self.records.post_result(uuid, revision, category, result_date, valid_until)

    def export_csv(self, out: IO[str], ule: str | None = None, with_answers: bool = True) -> int:
        """See Records.export_csv."""
        return self.records.export_csv(out, ule, with_answers)

    def counts(self) -> dict[str, int]:
        """See Records.counts."""
        return self.records.counts()

    def audit_alerts(self) -> list[dict[str, Any]]:
        """Devices whose audit log went backwards (server.audit_heads.alerts), each with
        `last_alert_es`, the last alert in Spanish."""
        rows = audit_heads.alerts(self.engine)
        for r in rows:
            r["last_alert_es"] = audit_heads.describe_es(r.get("last_alert"))
        return rows

    def held_records(self, with_answers: bool = False) -> list[dict[str, Any]]:
        """Records held for a form version the centre does not hold (server.held)."""
        return held.list_held(self.engine, self.sealer if with_answers else None)

    def release_held(self, uuid: str, revision: int | None = None,
                     by: str = "") -> dict[str, Any]:
        """See Batches.release_held."""
        return self.batches.release_held(uuid, revision, by)

    def release_all_held(self, by: str = "") -> list[dict[str, Any]]:
        """Try to release every held record (Batches.release_held), oldest first; one
        result each: the release's dict, or {uuid, revision, status: "held", code,
        message} (Spanish) for a record that stays held."""
        out = []
        for uuid, revision in held.releasable(self.engine):
            try:
                out.append(self.batches.release_held(uuid, revision, by))
            except p.ProtocolError as e:
                out.append({"uuid": uuid, "revision": revision, "status": "held",
                            "code": e.code, "message": e.message})
        return out

    def state_metrics(self) -> dict[str, int]:
        """Figures read from the database for /metrics (observe.STATE_GAUGES)."""
        devices_alerted, alerts_total = audit_heads.summary(self.engine)
        return {"siee_audit_alert_devices": devices_alerted,
                "siee_audit_alerts": alerts_total,
                "siee_held_records": held.count(self.engine)}
