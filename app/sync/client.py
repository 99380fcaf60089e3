"""The sync client: enrollment, sending the outbox in adaptive batches, receipts,
the inbox, and USB transfer. Runs on any thread; never holds the workspace lock
while waiting for the network.

Exactly once: a batch (id and exact envelope bytes) is stored before its first
upload and sent again, byte for byte, after any failure until a receipt comes
back; the server's PUT is idempotent by batch id and it stores a record once
per (uuid, revision). A record becomes DELIVERED only from a verified receipt."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import __version__
from app.core.bounded_io import read_head, read_limited
from app.core.errors import SieeError
from app.forms.library import EXTENSIONS, valid_id
from app.sync import protocol as p
from app.sync.lock import SyncLock
from app.sync.model import (
    CancelFn,
    Cancelled,
    DeviceInfo,
    DeviceRevoked,
    NetworkError,
    NotEnrolled,
    ProgressFn,
    ReceiptOutcome,
    ServerBusy,
    ServerRefused,
    StoredBatch,
    SyncError,
    SyncProgress,
    SyncReport,
    check_server_url,
    describe_outcome,
    fichas,
    results_text,
)
from app.sync.ports import SyncPorts
from app.sync.transport import Transport

log = logging.getLogger("siee.sync")



BUSY_WAIT_MAX_S = 60.0  # longest single wait a busy server's Retry-After gets
BUSY_WAIT_TOTAL_S = 600.0  # then the sync gives up this time (ServerBusy: retried later)


def _pause(seconds: float, cancelled: CancelFn | None) -> None:
    """Sleep, waking every 0.2 s to honour a cancellation."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if cancelled and cancelled():
            raise Cancelled()
        time.sleep(min(0.2, left))


@dataclass
class SizerConfig:
    start_bytes: int = 48 * 1024  # first batch: a few seconds even on a poor link
    min_records: int = 1
    grow_below_s: float = 4.0  # an upload faster than this doubles the next batch
    est_record_bytes: int = 600  # first guess of one record's share of an envelope


class AdaptiveSizer:
    """How many records go in the next batch: small first, doubling while uploads are
    fast, a quarter after a timeout; within the server's record and byte limits."""

    def __init__(self, max_records: int, max_bytes: int, cfg: SizerConfig | None = None) -> None:
        self.cfg = cfg or SizerConfig()
        self.max_records = max(1, max_records)
        self.max_bytes = max(4096, int(max_bytes * 0.8))
        self.budget = float(min(self.cfg.start_bytes, self.max_bytes))
        self.per_record = float(self.cfg.est_record_bytes)

    def next_count(self) -> int:
        n = int(self.budget / max(1.0, self.per_record))
        return max(self.cfg.min_records, min(self.max_records, n))

    def cap(self, max_records: int, max_bytes: int) -> None:
        """The server's largest accepted batch (from its answers): never exceeded."""
        self.max_records = max(1, min(self.max_records, max_records))
        self.max_bytes = max(4096, min(self.max_bytes, int(max_bytes * 0.8)))
        self.budget = min(self.budget, float(self.max_bytes))

    def success(self, size: int, count: int, seconds: float) -> None:
        if count:
            self.per_record = 0.5 * self.per_record + 0.5 * (size / count)
        if seconds < self.cfg.grow_below_s:
            cap = min(self.max_bytes, self.max_records * self.per_record)
            self.budget = max(min(cap, self.budget * 2), min(self.budget, cap))

    def timeout(self) -> None:
        self.budget = max(self.per_record * self.cfg.min_records, self.budget / 4)

    def too_large(self) -> None:
        self.budget = max(self.per_record * self.cfg.min_records, self.budget / 2)
        self.max_records = max(self.cfg.min_records, self.max_records // 2)


class SyncClient:
    """Sync of one laptop (its user logged in) with its enrolled server. `ports` is the
    laptop's data as the workspace hands it (app/sync/ports.py); build one with
    `ws.centre.client(...)`."""

    def __init__(
        self,
        ports: SyncPorts,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        sizer: SizerConfig | None = None,
        lock_timeout: float = 0.0,
    ) -> None:
        self.ports = ports
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.sizer_cfg = sizer or SizerConfig()
        self.lock = SyncLock(ports.data_dir)
        self.lock_timeout = lock_timeout
        self.sizer: AdaptiveSizer | None = None
        self.last_transport: Transport | None = None
        self.offset = 0.0  # server clock - laptop clock, learned from every answer
        self.pipeline = True  # build the next batch while the current one uploads
        self.last_inbox_request: Path | None = None  # written by the last export_batches
        self.busy_waited = 0.0  # seconds spent waiting for a busy server (Retry-After)

    # -- plumbing -----------------------------------------------------------------------------
    def _transport(self, url: str | None = None) -> Transport:
        if getattr(self.ports, "practice", False) is True:
            # A practice workspace (issue 18) never opens a connection, whoever asks.
            raise SyncError("practice workspace: no connection",
                            "Está en modo práctica: aquí nada se envía al SIEE ni se recibe "
                            "de él.")
        settings = self.ports.settings()
        dev = self.ports.device()
        base = url or (dev.server_url if dev else None) or settings.get("server_url")
        if not base:
            raise NotEnrolled(
                "no server configured",
                "Este equipo no está inscrito en el servidor del SIEE. Pida un código de "
                "inscripción a la sede central e inscríbalo (menú Sincronización).",
            )
        t = Transport(base, settings.get("ca_bundle") or None, self.connect_timeout,
                      self.read_timeout)
        t.offset = self.offset
        self.last_transport = t
        return t

    def prepare(self, limit: int = 20) -> int:
        """The form engine's part of the next sync for up to `limit` records (idle time)."""
        return self.ports.prepare(limit)

    def reachable(self, timeout: float = 5.0) -> bool:
        """True when the server answers its health check (no signature, no lock)."""
        try:
            t = self._transport()
        except SyncError:
            return False
        try:
            t.health(timeout)
            return True
        except SyncError:
            return False
        finally:
            t.close()

    # -- enrollment -----------------------------------------------------------------------------
    def enroll(self, server_url: str, code: str, label: str = "",
               ule: str | None = None) -> DeviceInfo:
        """Enroll this laptop with a one-time code; pins the server's keys. Unsent records
        are kept (and go out under the new identity). `ule`: the laptop's ULE; a code of
        another ULE is refused (by the server, and checked again on its answer)."""
        server_url = check_server_url(server_url)
        code = (code or "").strip()
        if not code:
            raise SyncError("empty code", "Escriba el código de inscripción.")
        key = p.new_signing_key()
        replaces = self._current_identity()
        t = self._transport(server_url)
        self.lock.acquire(self.lock_timeout)
        try:
            d = t.enroll(p.enrollment_request(code, key, label or "SIEE Campo", __version__,
                                              ule_ubigeo=ule or None, replaces=replaces))
            try:
                p.verify_key_from_text(d["server_signing_key"])
                p.encryption_public_from_text(d["server_encryption_key"])
                info = DeviceInfo(
                    device_id=str(d["device_id"]),
                    server_url=server_url,
                    ule_ubigeo=str(d["ule_ubigeo"]),
                    server_signing_key=str(d["server_signing_key"]),
                    server_encryption_key=str(d["server_encryption_key"]),
                    enrolled_at=time.time(),
                    limits={k: int(v) for k, v in (d.get("limits") or {}).items()},
                    label=label,
                )
            except (KeyError, TypeError, ValueError, p.ProtocolError) as e:
                raise SyncError(f"enroll answer malformed: {e}",
                                "La respuesta del servidor no es válida.") from None
            if ule and info.ule_ubigeo != ule:
                # a server that does not check the ULE itself: do not keep this identity
                raise SyncError(f"enroll code for ULE {info.ule_ubigeo}, laptop is {ule}",
                                p.other_ule_message(info.ule_ubigeo, ule))
            self.ports.set_device(info, key)
            log.info("enrolled as %s", info.device_id)
            return info
        except NetworkError as e:
            raise NetworkError(
                f"enroll: {e}",
                f"No se pudo conectar con el servidor del SIEE ({server_url}): este equipo NO "
                "quedó inscrito, y no se volverá a intentar solo. Revise la dirección y la "
                "conexión e inscríbalo de nuevo con el mismo código (si la sede central dice "
                "que ya se usó, pida otro).", timeout=e.timeout) from None
        except ServerRefused as e:
            if e.server_code in ("enroll_code_invalid", "bad_signature",
                                 "enroll_code_other_ule"):
                raise SyncError(str(e), e.user_message) from None
            raise
        finally:
            self.lock.release()
            t.close()

    def _current_identity(self) -> tuple[str, Any] | None:
        """(device id, key) of this laptop's enrollment before it enrolls again, for the
        centre to revoke it together with the new enrollment; None when not enrolled
        (or its key cannot be opened: the centre then keeps the old id, as before)."""
        old = self.ports.device()
        if old is None:
            return None
        try:
            return old.device_id, self.ports.device_key()
        except SieeError as e:
            log.warning("previous device key unavailable at re-enrollment: %s", e)
            return None

    def _identity(self) -> tuple[DeviceInfo, Any]:
        self.ports.check_can_run()
        dev = self.ports.device()
        if dev is None:
            raise NotEnrolled(
                "device not enrolled",
                "Este equipo no está inscrito en el servidor del SIEE. Pida un código de "
                "inscripción a la sede central e inscríbalo (menú Sincronización).",
            )
        return dev, self.ports.device_key()

    # -- batches --------------------------------------------------------------------------------
    def _build(self, dev: DeviceInfo, key: Any, count: int, via: str) -> tuple[p.Envelope, bytes]:
        records = self.ports.take_outbox(count)
        head = self.ports.audit_head()  # the centre notices a log that went backwards
        env = p.build_batch(records, dev.device_id, key, dev.server_encryption_key, level=6,
                            audit_head=head)
        data = env.to_bytes()
        while len(data) > dev.max_batch_bytes and len(records) > 1:
            records = records[: len(records) // 2]
            env = p.build_batch(records, dev.device_id, key, dev.server_encryption_key, level=6,
                                audit_head=head)
            data = env.to_bytes()
        self.ports.save_batch(env, data, via)  # stored before it leaves the laptop
        return env, data

    def _read_timeout(self, size: int, count: int) -> float:
        # Room for a slow link (16 KB/s) and the server's checks of every record.
        return self.read_timeout + size / 16384 + count * 0.02

    def _upload(self, t: Transport, dev: DeviceInfo, b: StoredBatch, envelope: bytes,
                on_bytes: Callable[[int], None] | None, cancelled: CancelFn | None
                ) -> tuple[p.Receipt, bytes]:
        self.ports.batch_attempt(b.batch_id)
        waited = 0.0
        while True:
            try:
                body = t.put_batch(b.batch_id, envelope,
                                   self._read_timeout(len(envelope), b.count), on_bytes,
                                   cancelled)
                break
            except ServerBusy as e:
                # The server is full (503 busy), not the link: wait as it says, send the
                # same batch again (same id: exactly once), and do not shrink the batches.
                # A device over its request quota (429) stops here and retries later.
                pause = min(max(e.retry_after, 1.0), BUSY_WAIT_MAX_S)
                if getattr(e, "server_code", "") != "busy" or waited + pause > BUSY_WAIT_TOTAL_S:
                    raise
                log.info("server busy: batch %s again in %.0f s", b.batch_id, pause)
                _pause(pause, cancelled)
                waited += pause
        self.busy_waited += waited
        try:
            receipt = p.verify_receipt(body, dev.server_signing_key, envelope)
        except p.ProtocolError as e:
            # A damaged answer: the batch stays pending and is sent again.
            raise NetworkError(f"receipt for {b.batch_id} unusable: {e.code}") from None
        if receipt.batch_id != b.batch_id or receipt.device_id != dev.device_id:
            raise NetworkError("receipt for another batch")
        return receipt, body

    # -- the sync --------------------------------------------------------------------------------
    def sync(self, progress: ProgressFn | None = None, cancelled: CancelFn | None = None,
             send: bool = True, inbox: bool = True) -> SyncReport:
        """Send every queued record, then apply the inbox. Raises SyncError (transient
        ones mean: try again later; nothing is lost either way)."""
        dev, key = self._identity()
        self.lock.acquire(self.lock_timeout)
        t0 = time.monotonic()
        report = SyncReport()
        t: Transport | None = None
        ok = False
        err: SieeError | None = None
        try:
            t = self._transport()
            t.identify(dev.device_id, key)
            if send:
                self._send_all(t, dev, key, report, progress, cancelled)
            if inbox:
                self._pull_inbox(t, dev, report, progress, cancelled)
            ok = True
        except DeviceRevoked as e:
            self._revoked(e, dev)
            err = e
            raise
        except SieeError as e:
            err = e
            raise
        finally:
            report.seconds = time.monotonic() - t0
            if t is not None:
                self.offset = t.offset  # the next sync starts with the right clock
            try:
                report.pending_left = self.ports.outbox_count() + sum(
                    b.count for b in self.ports.pending_batches())
                self._finish(report, ok, err)
            except SieeError:
                if ok:
                    raise
                log.warning("could not record the end of a failed sync")
            finally:
                if t is not None:
                    t.close()
                self.lock.release()
        if progress:
            progress(SyncProgress("done", report.outcome.sent, report.outcome.sent,
                                  report.bytes_sent, report.bytes_sent, report.text()))
        return report

    def _finish(self, report: SyncReport, ok: bool, err: SieeError | None) -> None:
        o = report.outcome
        if o.sent:
            self.ports.log_add(describe_outcome(o), "warning" if o.returned or o.conflict
                                 else "info")
        # Every run leaves its line, also one that only repeats the previous run's: IT
        # reads in `sync log` when each attempt happened (the store keeps the newest).
        if not ok and err is not None and not isinstance(err, DeviceRevoked):
            level = "info" if isinstance(err, Cancelled) else "error"
            self.ports.log_add("Sincronización interrumpida: " + err.user_message, level)
        elif ok and not o.sent and not report.messages:
            self.ports.log_add("Sincronización completa: no había registros por enviar ni "
                               "novedades del servidor.")
        self.ports.finished(
            ok, None if ok or err is None else err.user_message,
            {"batches": report.batches, "delivered": o.delivered, "returned": o.returned,
             "conflict": o.conflict, "messages": report.messages,
             "error": None if err is None else err.code},
        )

    def _revoked(self, e: DeviceRevoked, dev: DeviceInfo) -> None:
        notice = getattr(e, "revocation", None)
        reason, at = "", ""
        if isinstance(notice, dict):
            try:
                msg = p.verify_message(notice, dev.server_signing_key, dev.device_id)
                reason = str(msg.payload.get("reason") or "")
                at = str(msg.payload.get("revoked_at") or "")
            except p.ProtocolError:
                log.warning("revocation notice does not verify; ignored")
                return
        else:
            return
        self.ports.mark_revoked(reason, at)

    def _send_all(self, t: Transport, dev: DeviceInfo, key: Any, report: SyncReport,
                  progress: ProgressFn | None, cancelled: CancelFn | None) -> None:
        sizer = self.sizer or AdaptiveSizer(dev.max_records, dev.max_batch_bytes, self.sizer_cfg)
        self.sizer = sizer
        pending = [b for b in self.ports.pending_batches() if b.device_id == dev.device_id]
        if t.server_limits is None and (pending or self.ports.outbox_count()):
            # The server's largest batch may have shrunk since enrollment: ask before the
            # first batch is sent (every answer carries it; health is the cheapest).
            t.health(self.connect_timeout + 5)
        if t.server_limits:
            sizer.cap(*t.server_limits)
            for b in [b for b in pending if self._over_limit(t, b.count, b.size)]:
                # Built before the server lowered its limit: never sent as it is; its
                # records go back to the outbox for batches of the size taken now.
                log.info("batch %s over the server's limit: rebuilt smaller", b.batch_id)
                self.ports.abandon_batch(b.batch_id)
                pending.remove(b)
        total = self.ports.outbox_count() + sum(b.count for b in pending)
        state = {"done": 0, "bytes": 0, "bytes_total": sum(b.size for b in pending)}

        def show(extra_bytes: int = 0) -> None:
            if progress:
                progress(SyncProgress(
                    "send", state["done"], total, state["bytes"] + extra_bytes,
                    max(state["bytes_total"], state["bytes"] + extra_bytes),
                    f"Enviando fichas: {state['done']} de {total}",
                ))

        def build() -> StoredBatch | None:
            if self.ports.outbox_count() == 0:
                return None
            env, envelope = self._build(dev, key, sizer.next_count(), "http")
            b = self.ports.batch(env.batch_id)
            assert b is not None
            state["bytes_total"] += len(envelope)
            return b

        # The next batch is built (and stored) while the current one is on the wire, so
        # the laptop's work hides behind the network and the server's.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="siee-batch")
        ahead: Future[StoredBatch | None] | None = None
        try:
            show()
            while True:
                if cancelled and cancelled():
                    raise Cancelled()
                if pending:
                    b: StoredBatch | None = pending.pop(0)
                elif ahead is not None:
                    b, ahead = ahead.result(), None
                else:
                    b = build()
                if b is None:
                    break
                if self.pipeline and not pending and ahead is None:
                    ahead = pool.submit(build)
                self._send_one(t, dev, b, sizer, report, state, show, cancelled)
        finally:
            pool.shutdown(wait=True)  # a batch being built is stored before the lock goes
        if ahead is not None and ahead.done() and ahead.exception() is not None:
            raise ahead.exception()  # type: ignore[misc]

    @staticmethod
    def _over_limit(t: Transport, count: int, size: int) -> bool:
        """Whether a batch exceeds the largest the server says it accepts now."""
        return bool(t.server_limits) and (count > t.server_limits[0]  # type: ignore[index]
                                          or size > t.server_limits[1])  # type: ignore[index]

    def _send_one(self, t: Transport, dev: DeviceInfo, b: StoredBatch, sizer: AdaptiveSizer,
                  report: SyncReport, state: dict[str, int], show: Callable[[int], None],
                  cancelled: CancelFn | None) -> None:
        envelope = b.envelope or self.ports.batch(b.batch_id).envelope  # type: ignore[union-attr]
        if envelope is None:  # pragma: no cover - pending batches keep their bytes
            self.ports.abandon_batch(b.batch_id)
            return
        if self._over_limit(t, b.count, len(envelope)):
            # The server lowered its limit during this sync: never sent as it is; its
            # records go out again in smaller batches (a copy the server may already
            # hold comes back as 'duplicate'), at the latest in the next sync.
            log.info("batch %s over the server's limit: rebuilt smaller", b.batch_id)
            self.ports.abandon_batch(b.batch_id)
            return
        started = time.monotonic()
        waited_before = self.busy_waited
        try:
            receipt, rbytes = self._upload(t, dev, b, envelope, show, cancelled)
        except NetworkError as e:
            if e.timeout:
                sizer.timeout()
                if b.count > sizer.next_count():
                    # Too big for this link: its records go out again in smaller batches
                    # (a copy the server already got comes back as 'duplicate').
                    self.ports.abandon_batch(b.batch_id)
            raise
        except ServerRefused as e:
            if e.server_code in ("too_large", "too_many_records"):
                sizer.too_large()
                self.ports.abandon_batch(b.batch_id)
                return
            if e.server_code in ("batch_conflict", "decrypt_failed", "device_mismatch",
                                 "malformed_envelope"):
                log.warning("batch %s refused (%s): rebuilt", b.batch_id, e.server_code)
                self.ports.abandon_batch(b.batch_id)
                if e.server_code == "decrypt_failed":
                    raise
                return
            raise
        if t.server_limits:
            sizer.cap(*t.server_limits)
        sizer.success(len(envelope), b.count,
                      time.monotonic() - started - (self.busy_waited - waited_before))
        outcome = self.ports.apply_receipt(receipt, rbytes)
        report.outcome.add(outcome)
        report.batches += 1
        report.bytes_sent += len(envelope)
        state["done"] += b.count
        state["bytes"] += len(envelope)
        show(0)

    def _pull_inbox(self, t: Transport, dev: DeviceInfo, report: SyncReport,
                    progress: ProgressFn | None, cancelled: CancelFn | None) -> None:
        if progress:
            progress(SyncProgress("inbox", 0, 0, 0, 0, "Recibiendo novedades del servidor…"))
        results = 0
        try:
            for _page in range(1000):
                if cancelled and cancelled():
                    raise Cancelled()
                page = t.inbox(self.ports.inbox_cursor())
                msgs = page.get("messages") or []
                for entry in msgs:
                    try:
                        msg = p.verify_message(entry, dev.server_signing_key, dev.device_id)
                    except p.ProtocolError as e:
                        raise SyncError(f"inbox message does not verify: {e.code}",
                                        "Llegó un mensaje del servidor que no se pudo "
                                        "verificar; se ignoró. Avise a soporte si se "
                                        "repite.") from None
                    note = None
                    if msg.kind == "form_published":
                        note = self._install_form(t, dev, msg)
                    text = self.ports.apply_message(msg, note)
                    report.messages += 1
                    if text and msg.kind == "cse_result":
                        results += 1  # one line for all of them, below
                    elif text:
                        report.inbox_notes.append(text)
                if not page.get("has_more") or not msgs:
                    break
        finally:
            # also when the link drops on a later page: what was applied is told
            self._note_results(report, results)

    def _note_results(self, report: SyncReport, results: int) -> None:
        """One line, in the report and the sync log, for the results of this sync."""
        if results:
            report.results += results
            line = results_text(results)
            report.inbox_notes.append(line)
            try:
                self.ports.log_add(line)
            except SieeError:  # never hide the error that ended the sync
                log.warning("could not log the results line")

    # -- forms ------------------------------------------------------------------------------------
    def _install_form(self, t: Transport, dev: DeviceInfo, msg: p.InboxMessage) -> str:
        def fetch(form_id: str, version: str) -> bytes:
            r = t.get_form(form_id, version)
            try:
                p.verify_form(form_id, version, r.content,
                              r.headers.get(p.H_SERVER_SIGNATURE, ""), dev.server_signing_key)
            except p.ProtocolError:
                raise NetworkError("form download does not verify") from None
            return r.content

        return self._install_form_from(msg, fetch)

    def _install_form_from(self, msg: p.InboxMessage,
                           fetch: Callable[[str, str], bytes]) -> str:
        """Install the form a form_published message announces; `fetch` returns its
        verified bytes (downloaded, or carried in a USB inbox file)."""
        pl = msg.payload
        form_id, version = str(pl.get("form_id", "")), str(pl.get("version", ""))
        if not valid_id(form_id) or not valid_id(version):
            raise SyncError("form message with bad ids", "El servidor anunció un formulario "
                            "con un nombre no válido; se ignoró.")
        library = self.ports.forms
        ext = Path(str(pl.get("filename") or "")).suffix.lower()
        ext = ext if ext in EXTENSIONS else ".xlsx"
        target = library.target(form_id, version, ext)
        if target.exists() and p.sha256_hex(target.read_bytes()) == pl.get("sha256"):
            return f"El formulario {form_id} versión {version} ya estaba instalado."
        content = fetch(form_id, version)
        if pl.get("sha256") and p.sha256_hex(content) != pl["sha256"]:
            raise NetworkError("form download does not match the announcement")
        try:
            library.install(form_id, version, ext, content)
        except Exception as e:  # noqa: BLE001 - a form this version cannot read
            log.warning("published form %s %s does not load: %s", form_id, version,
                        type(e).__name__)
            return (f"El formulario {form_id} versión {version} publicado por la sede central "
                    "no se pudo instalar en esta versión del programa. Actualice SIEE Campo.")
        log.info("form %s %s installed", form_id, version)
        return f"Se instaló el formulario {form_id} versión {version}."

    # -- USB ---------------------------------------------------------------------------------
    def export_batches(self, folder: Path, progress: ProgressFn | None = None) -> list[Path]:
        """Write every queued record as batch files (the same envelopes as an upload) to
        `folder`; batches still waiting for a receipt are written again as they are."""
        folder = Path(folder)
        if not folder.is_dir():
            raise SyncError(f"not a folder: {folder}",
                            "La carpeta elegida no existe o no se puede abrir.")
        dev, key = self._identity()
        self.lock.acquire(self.lock_timeout)
        paths: list[Path] = []
        try:
            pending = [b for b in self.ports.pending_batches() if b.device_id == dev.device_id]
            for b in pending:
                if b.envelope is not None:
                    paths.append(self._write_batch(folder, b.batch_id, b.envelope))
            while self.ports.outbox_count():
                env, data = self._build(dev, key, dev.max_records, "usb")
                paths.append(self._write_batch(folder, env.batch_id, data))
                if progress:
                    progress(SyncProgress("send", len(paths), 0, 0, 0,
                                          f"Lotes escritos: {len(paths)}"))
            n = sum(self.ports.batch(_batch_id(x)).count for x in paths)  # type: ignore[union-attr]
            # Always: a laptop without any link may only want its inbox.
            self.last_inbox_request = self._write_inbox_request(folder, dev, key)
            if paths:
                self.ports.log_add(
                    f"Se exportaron {fichas(n)} en {len(paths)} archivo(s) de lote a la carpeta "
                    f"{folder.name or folder}, con la solicitud de novedades. Lleve los "
                    "archivos a la sede central y luego importe el recibo y las novedades."
                )
            else:
                self.ports.log_add(
                    "No había fichas por enviar; se escribió la solicitud de novedades en la "
                    f"carpeta {folder.name or folder}. Llévela a la sede central y luego "
                    "importe el archivo de novedades."
                )
            return paths
        finally:
            self.lock.release()

    def _write_inbox_request(self, folder: Path, dev: DeviceInfo, key: Any) -> Path:
        """The signed inbox request (this device, its inbox cursor) for the centre."""
        reply = p.public_key_text(self.ports.agreement_key())  # inbox comes back sealed
        data = p.sign_inbox_request(dev.device_id, self.ports.inbox_cursor(), key,
                                    created_at=p.utc_now_iso(time.time() + self.offset),
                                    reply_key=reply)
        path = folder / p.inbox_request_filename(dev.device_id)
        _atomic_write(path, data)
        return path

    @staticmethod
    def _write_batch(folder: Path, batch_id: str, data: bytes) -> Path:
        path = folder / p.batch_filename(batch_id)
        _atomic_write(path, data)
        return path

    def _read_usb_file(self, path: Path, what: str, limit: int) -> tuple[DeviceInfo, bytes]:
        """The enrolled device and the bytes of a file brought from the centre (size
        checked first and read in bounded pieces: app.core.bounded_io)."""
        dev = self.ports.device()
        if dev is None:
            raise NotEnrolled("not enrolled", "Este equipo no está inscrito en el servidor.")
        self.ports.check_can_run()
        try:
            return dev, read_limited(Path(path), limit, what)
        except OSError:
            raise SyncError(f"cannot read {path}",
                            f"No se pudo leer el archivo ({what}).") from None

    def import_receipt(self, path: Path) -> ReceiptOutcome:
        """Apply a receipt file from the centre; importing it again changes nothing."""
        dev, data = self._read_usb_file(path, "un recibo", p.MAX_RECEIPT_FILE_BYTES)
        try:
            receipt = p.verify_receipt(data, dev.server_signing_key)
        except p.ProtocolError:
            raise SyncError("receipt does not verify",
                            "El archivo no es un recibo válido del servidor del SIEE para este "
                            "equipo (firma incorrecta o archivo dañado).") from None
        b = self.ports.batch(receipt.batch_id)
        if b is None or receipt.envelope_sha256 != b.envelope_sha256:
            raise SyncError("receipt for an unknown batch",
                            "Este recibo no corresponde a ningún lote exportado desde este "
                            "equipo.")
        self.lock.acquire(self.lock_timeout)
        try:
            out = self.ports.apply_receipt(receipt, data)
            if out.already_applied:
                self.ports.log_add("El recibo ya había sido importado; no cambió nada.")
            else:
                self.ports.log_add("Recibo importado. " + describe_outcome(out),
                                     "warning" if out.returned or out.conflict else "info")
            return out
        finally:
            self.lock.release()


    def import_usb_file(self, path: Path) -> ReceiptOutcome | InboxImport:
        """A file brought from the centre: a receipt or an inbox file (told by content)."""
        try:
            head = read_head(Path(path), 64)
        except OSError:
            raise SyncError(f"cannot read {path}", "No se pudo leer el archivo.") from None
        if p.looks_like_inbox_file(head):
            return self.import_inbox(path)
        if Path(path).name.startswith(p.INBOX_REQUEST_PREFIX):
            raise SyncError("inbox request given to import",
                            "Este archivo es la solicitud de novedades de un equipo: se lleva a "
                            "la sede central, no se importa aquí.")
        return self.import_receipt(path)

    def import_inbox(self, path: Path) -> InboxImport:
        """Apply an inbox file from the centre (USB). Every message and the file itself are
        verified with the pinned server key before anything is applied; messages are
        applied in order through the workspace, so a file imported twice, or an older one
        after a newer one, changes nothing."""
        dev, data = self._read_usb_file(path, "un archivo de novedades",
                                        p.MAX_INBOX_FILE_BYTES)
        try:
            data = p.open_inbox_file(data, self.ports.agreement_key(), dev.device_id)
            inbox = p.verify_inbox_file(data, dev.server_signing_key, dev.device_id)
        except p.ProtocolError as e:
            self.ports.log_add("Se rechazó un archivo de novedades del SIEE: " + e.message,
                                 "error")
            raise SyncError(f"inbox file refused: {e.code} ({e.detail})", e.message) from None
        self.lock.acquire(self.lock_timeout)
        result = InboxImport(total=len(inbox.messages))
        try:
            for msg in inbox.messages:
                if msg.cursor <= self.ports.inbox_cursor():
                    continue
                note = None
                if msg.kind == "form_published":
                    try:
                        note = self._install_form_from(msg, _usb_form_fetch(inbox))
                    except SyncError as e:
                        note = e.user_message
                text = self.ports.apply_message(msg, note)
                result.applied += 1
                if text or msg.kind == "device_revoked":
                    result.notes.append(text or "")
                    result.kinds[msg.kind] = result.kinds.get(msg.kind, 0) + 1
            if result.applied:
                self.ports.log_add(result.text(),
                                     "warning" if result.kinds.get("record_returned") else "info")
            elif not result.total:
                self.ports.log_add("Archivo de novedades importado: no había novedades del "
                                     "SIEE para este equipo.")
            else:
                self.ports.log_add("El archivo de novedades ya había sido importado (o es "
                                     "anterior a uno ya importado); no cambió nada.")
            return result
        finally:
            self.lock.release()


@dataclass
class InboxImport:
    """What importing one USB inbox file did."""

    total: int = 0  # messages in the file
    applied: int = 0  # messages new to this laptop
    kinds: dict[str, int] = field(default_factory=dict)  # visible changes by kind
    notes: list[str] = field(default_factory=list)

    @property
    def already_applied(self) -> bool:
        return self.applied == 0

    def text(self) -> str:
        if not self.total:
            return "No había novedades del SIEE para este equipo."
        if not self.applied:
            return "El archivo de novedades ya había sido importado; no cambió nada."
        k = self.kinds
        parts = []
        for kind, one, many in (
            ("record_returned", "ficha observada", "fichas observadas"),
            ("cse_result", "resultado", "resultados"),
            ("form_published", "formulario", "formularios"),
            ("settings_changed", "cambio de configuración", "cambios de configuración"),
        ):
            if k.get(kind):
                parts.append(f"{k[kind]} {one if k[kind] == 1 else many}")
        if k.get("device_revoked"):
            parts.append("aviso de baja del equipo")
        n = self.applied
        head = ("Se importó 1 mensaje del SIEE por USB" if n == 1
                else f"Se importaron {n} mensajes del SIEE por USB")
        return head + (": " + ", ".join(parts) if parts else " (sin cambios en este equipo)")


def _usb_form_fetch(inbox: p.InboxFile) -> Callable[[str, str], bytes]:
    def fetch(form_id: str, version: str) -> bytes:
        got = inbox.forms.get((form_id, version))
        if got is None:
            raise SyncError("form not in the inbox file",
                            f"El archivo de novedades no trae el formulario {form_id} versión "
                            f"{version}; se instalará en la próxima sincronización.")
        return got[0]  # verified with the server key by verify_inbox_file

    return fetch


def _batch_id(path: Path) -> str:
    name = path.name
    return name[len("siee-batch-"): -len(p.BATCH_FILE_SUFFIX)]


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


__all__ = ["AdaptiveSizer", "InboxImport", "ServerBusy", "SizerConfig", "SyncClient"]
