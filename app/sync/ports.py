"""What the sync client needs from the laptop's data, as narrow ports (typing.Protocol).

The workspace implements them over the store (app/workspace/centre.py StorePorts)
and checks the user's role there; the client never imports app.workspace, so the
layers run one way: workspace -> sync -> protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.forms.library import FormLibrary
from app.sync import protocol as p
from app.sync.model import DeviceInfo, ReceiptOutcome, StoredBatch, SyncLogEntry


class DevicePort(Protocol):
    """The enrollment: who this laptop is for the centre."""

    def device(self) -> DeviceInfo | None:
        """The enrollment's public parts, or None when not enrolled."""
        ...

    def device_key(self) -> Ed25519PrivateKey:
        """The device's signing key (NotEnrolled when not enrolled)."""
        ...

    def check_can_run(self) -> None:
        """Raise (NotAllowed, DeviceRevoked) unless this user may sync now."""
        ...

    def agreement_key(self) -> X25519PrivateKey:
        """The device's X25519 key-agreement key (the centre seals USB inbox files to
        it), made on first use."""
        ...

    def set_device(self, info: DeviceInfo, key: Ed25519PrivateKey) -> None:
        """Store a new enrollment; batches made for another device are set aside."""
        ...

    def mark_revoked(self, reason: str, at: str) -> None:
        """The centre revoked this device (reason and ISO time as it said)."""
        ...

    def settings(self) -> dict[str, Any]:
        """The workspace settings (server_url, ca_bundle, ule_ubigeo...)."""
        ...


class OutboxPort(Protocol):
    """Records to send and the batches that carry them (exactly once)."""

    def outbox_count(self) -> int: ...

    def audit_head(self) -> tuple[int, str] | None:
        """(seq, MAC hex) of the audit chain's end, sent signed in each batch header so
        the centre notices a laptop whose log went backwards."""
        ...

    def take_outbox(self, limit: int) -> list[p.BatchRecord]:
        """Up to `limit` queued records no pending batch holds, as the centre gets them."""
        ...

    def prepare(self, limit: int = 20) -> int:
        """Compute ahead what up to `limit` queued records will send; returns how many."""
        ...

    def save_batch(self, env: p.Envelope, envelope: bytes, via: str = "http") -> None:
        """Keep a batch (exact bytes) before it leaves the laptop."""
        ...

    def pending_batches(self) -> list[StoredBatch]: ...

    def batch(self, batch_id: str) -> StoredBatch | None: ...

    def batch_attempt(self, batch_id: str) -> None: ...

    def abandon_batch(self, batch_id: str) -> None: ...

    def apply_receipt(self, receipt: p.Receipt, receipt_bytes: bytes) -> ReceiptOutcome:
        """Apply a verified receipt in one transaction (idempotent)."""
        ...


class InboxPort(Protocol):
    """Messages from the centre, applied once, in order."""

    def inbox_cursor(self) -> int: ...

    def apply_message(self, msg: p.InboxMessage, note: str | None = None) -> str | None:
        """Apply one verified message and advance the cursor; a Spanish line or None.
        The line of a CSE result is not written to the sync log here: the caller
        counts the results of one sync or file and logs them as one line."""
        ...


class LogPort(Protocol):
    """The sync log (Spanish lines a person reads) and the last attempt."""

    def log_add(self, text: str, level: str = "info") -> None: ...

    def log(self, limit: int = 200) -> list[SyncLogEntry]: ...

    def finished(self, ok: bool, error: str | None = None,
                 detail: dict[str, Any] | None = None) -> None: ...


class SyncPorts(DevicePort, OutboxPort, InboxPort, LogPort, Protocol):
    """Everything one SyncClient uses: the ports, the data folder (for the sync lock)
    and the form library (forms published by the centre are installed there)."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def forms(self) -> FormLibrary: ...
