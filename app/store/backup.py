"""Encrypted, integrity-checked backup of a whole workspace, and its restore.

File layout (all integers big-endian):

    MAGIC (8 bytes) | header length (4) | header (JSON, UTF-8) | header MAC (32)
    chunk*: flag (1: 0 = more, 1 = last) | ciphertext length (4) | AES-256-GCM ciphertext

The header is clear JSON without personal data: format, ids, program and schema
versions, counts per state, and the key slots that may open the backup (the
recovery code's and each active administrator's: the data key wrapped under a
scrypt KEK, exactly as in the vault; safe to store). Content and header keys are
derived with HKDF from the workspace data key and a random salt of this backup.
The header MAC (HMAC-SHA256) authenticates the header; every chunk's AAD binds
the header hash, the chunk index and the last-chunk flag, so a modified,
reordered, truncated or extended file is refused.

The plaintext is a stream of entries: b"E" | name length (2) | name | size (8) |
bytes, ended by b"Z". Entries: the SQLite database (a consistent snapshot taken
with the sqlite3 backup API into memory: no temporary file) and the form files of
DATA_DIR/forms. Restoring writes into a new folder beside the target, checks it
(integrity_check, audit chain, counts) and only then renames it into place."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import struct
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app import __version__
from app.core.bounded_io import check_size
from app.core.errors import AuthError, IntegrityFailure, SieeError, ValidationError
from app.store import crypto, meta
from app.store.audit import AuditLog
from app.store.db import DB_NAME, connect, migrate, schema_version, transaction

log = logging.getLogger("siee.backup")

MAGIC = b"SIEEBAK1"
FORMAT = 1
CHUNK_SIZE = 1 << 20
MAX_HEADER = 1 << 20
MAX_CHUNK = CHUNK_SIZE + 64
# Far above a real workspace (50,000 records make a few hundred MB).
MAX_BACKUP_FILE_BYTES = 16 << 30
FORMS_DIR = "forms"
_NAME_RE = re.compile(r"^(siee-campo\.db|forms/[A-Za-z0-9][A-Za-z0-9._-]{0,120})$")
SUFFIX = ".sieebak"

Progress = Callable[[int, int], None]

# Spanish messages: what happened and what to do.
MSG_NOT_BACKUP = (
    "El archivo no es una copia de respaldo de SIEE Campo (o es de una versión más nueva del "
    "programa). Revise que eligió el archivo correcto."
)
MSG_TAMPERED = (
    "La copia de respaldo está dañada o fue modificada: no pasó la verificación de integridad. "
    "No se restauró nada. Use otra copia de respaldo."
)
MSG_TRUNCATED = (
    "La copia de respaldo está incompleta (el archivo se cortó, por ejemplo al copiarlo a la "
    "memoria USB). No se restauró nada. Copie el archivo de nuevo o use otra copia."
)
MSG_WRONG_SECRET = (
    "El código de recuperación o la contraseña de administrador no abren esta copia de respaldo. "
    "Revíselos (el código, letra por letra) e intente de nuevo."
)


@dataclass(frozen=True)
class BackupInfo:
    """The clear header of a backup (no personal data)."""

    path: Path
    backup_id: str
    created_at: float
    program_version: str
    schema_version: int
    workspace_id: str
    ule_ubigeo: str | None
    counts: dict[str, int]
    admins: list[str]
    size: int

    @property
    def records(self) -> int:
        return sum(self.counts.values())


@dataclass
class RestoreResult:
    target: Path
    info: BackupInfo
    records: int
    forms: int
    enrollment_cleared: bool
    files: list[str] = field(default_factory=list)


# -- key derivation -------------------------------------------------------------------
def _derive(data_key: bytes, salt: bytes, purpose: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=salt, info=b"siee-backup-v1|" + purpose).derive(data_key)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: Any) -> bytes:
    if not isinstance(s, str):
        raise ValueError("not base64 text")
    return base64.b64decode(s.encode("ascii"), validate=True)


def _chunk_aad(header_hash: bytes, index: int, last: bool) -> bytes:
    return header_hash + struct.pack(">QB", index, 1 if last else 0)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">Q", index)


# -- writing ----------------------------------------------------------------------------
class _ChunkWriter:
    """Buffers plaintext and writes it as authenticated chunks."""

    def __init__(
        self,
        out: BinaryIO,
        key: bytes,
        prefix: bytes,
        header_hash: bytes,
        total: int,
        progress: Progress | None,
    ) -> None:
        self.out, self.aead, self.prefix, self.hh = out, AESGCM(key), prefix, header_hash
        self.buf = bytearray()
        self.index = 0
        self.done = 0
        self.total = total
        self.progress = progress

    def write(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) > CHUNK_SIZE:
            piece = bytes(self.buf[:CHUNK_SIZE])
            del self.buf[:CHUNK_SIZE]
            self._emit(piece, last=False)

    def _emit(self, piece: bytes, last: bool) -> None:
        ct = self.aead.encrypt(
            _nonce(self.prefix, self.index), piece, _chunk_aad(self.hh, self.index, last)
        )
        self.out.write(struct.pack(">BI", 1 if last else 0, len(ct)) + ct)
        self.index += 1
        self.done += len(piece)
        if self.progress:
            self.progress(min(self.done, self.total), self.total)

    def close(self) -> None:
        self._emit(bytes(self.buf), last=True)
        self.buf.clear()


def _private_open(path: Path) -> BinaryIO:
    """A new file for writing, readable by its owner only (0600 on POSIX)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def snapshot_database(conn: sqlite3.Connection) -> bytes:
    """A consistent copy of the open database, in memory (the sqlite3 backup API)."""
    mem = sqlite3.connect(":memory:")
    try:
        conn.backup(mem)
        return mem.serialize()
    finally:
        mem.close()


def form_files(data_dir: Path) -> list[Path]:
    d = Path(data_dir) / FORMS_DIR
    if not d.is_dir():
        return []
    return sorted(
        p
        for p in d.iterdir()
        if p.is_file() and _NAME_RE.match(f"{FORMS_DIR}/{p.name}") and p.suffix != ".pickle"
    )


def backup_target(target: Path) -> Path:
    """The file a backup asked for as `target` is written to, as the window and the
    console both name it: `.sieebak` added when the name lacks it; ValidationError
    (Spanish) when its folder does not exist (a missing USB stick or a typo must not
    silently become a new folder on the laptop) or the file already exists."""
    target = Path(target)
    if target.suffix.lower() != SUFFIX:
        target = target.with_name(target.name + SUFFIX)
    folder = target.parent
    if not folder.is_dir():
        what = "no es una carpeta" if folder.exists() else "no existe"
        raise ValidationError(
            f"backup folder missing: {folder}",
            f"La carpeta {folder} {what}: no se creó la copia. Conecte la memoria USB o "
            "revise la ruta (o cree la carpeta) y repita la copia.",
        )
    if target.exists():
        raise ValidationError(
            "backup target exists",
            f"Ya existe el archivo {target}. Elija otro nombre: una copia nunca reemplaza a otra.",
        )
    return target


def write_backup(
    target: Path,
    data_key: bytes,
    db_image: bytes,
    forms: list[Path],
    slots: list[dict[str, Any]],
    meta: dict[str, Any],
    progress: Progress | None = None,
) -> BackupInfo:
    """Write the backup file (to a partial file first, renamed when complete)."""
    target = Path(target)
    if target.exists():
        raise ValidationError(
            "backup target exists",
            f"Ya existe el archivo {target}. Elija otro nombre: una copia nunca reemplaza a otra.",
        )
    salt = os.urandom(32)
    prefix = os.urandom(4)
    header = {
        "format": FORMAT,
        "backup_id": str(uuidlib.uuid4()),
        "created_at": time.time(),
        "program_version": __version__,
        "chunk_size": CHUNK_SIZE,
        "salt": _b64(salt),
        "nonce_prefix": _b64(prefix),
        "slots": slots,
        **meta,
    }
    head = json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8")
    framed = MAGIC + struct.pack(">I", len(head)) + head
    mac = hmac.new(_derive(data_key, salt, b"header"), framed, hashlib.sha256).digest()
    header_hash = hashlib.sha256(framed).digest()
    forms_data = [(f"{FORMS_DIR}/{p.name}", p.read_bytes()) for p in forms]
    entries = [(DB_NAME, db_image), *forms_data]
    total = sum(len(data) for _, data in entries)
    partial = target.with_name(target.name + ".parcial")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _private_open(partial) as out:
            out.write(framed + mac)
            w = _ChunkWriter(
                out, _derive(data_key, salt, b"content"), prefix, header_hash, total, progress
            )
            for name, data in entries:
                nb = name.encode("utf-8")
                w.write(b"E" + struct.pack(">H", len(nb)) + nb + struct.pack(">Q", len(data)))
                for i in range(0, len(data), CHUNK_SIZE):
                    w.write(data[i : i + CHUNK_SIZE])
            w.write(b"Z")
            w.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("backup %s written (%d bytes of content)", header["backup_id"], total)
    return _info(target, header)


# -- reading ----------------------------------------------------------------------------
def _info(path: Path, h: dict[str, Any]) -> BackupInfo:
    return BackupInfo(
        path=Path(path),
        backup_id=str(h.get("backup_id", "")),
        created_at=float(h.get("created_at", 0)),
        program_version=str(h.get("program_version", "")),
        schema_version=int(h.get("schema_version", 0)),
        workspace_id=str(h.get("workspace_id", "")),
        ule_ubigeo=h.get("ule_ubigeo"),
        counts={str(k): int(v) for k, v in (h.get("counts") or {}).items()},
        admins=[str(s.get("username")) for s in h.get("slots", []) if s.get("username")],
        size=Path(path).stat().st_size if Path(path).exists() else 0,
    )


def _read_exact(f: IO[bytes], n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise IntegrityFailure("backup truncated", MSG_TRUNCATED)
    return data


@dataclass
class _Header:
    raw: dict[str, Any]
    framed: bytes
    mac: bytes
    info: BackupInfo


def _read_header(f: IO[bytes], path: Path) -> _Header:
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        if len(magic) < len(MAGIC) and MAGIC.startswith(magic) and magic:
            raise IntegrityFailure("backup truncated in magic", MSG_TRUNCATED)
        raise ValidationError("not a backup file", MSG_NOT_BACKUP)
    (n,) = struct.unpack(">I", _read_exact(f, 4))
    if n > MAX_HEADER:
        raise IntegrityFailure("header too large", MSG_TAMPERED)
    head = _read_exact(f, n)
    mac = _read_exact(f, 32)
    try:
        raw = json.loads(head.decode("utf-8"))
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError("format")
        if not isinstance(raw.get("slots"), list):
            raise ValueError("slots")
        info = _info(path, raw)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise IntegrityFailure("unreadable backup header", MSG_TAMPERED) from None
    return _Header(raw, MAGIC + struct.pack(">I", n) + head, mac, info)


def inspect_backup(path: Path) -> BackupInfo:
    """The clear header (dates, counts, administrators), before asking for a secret."""
    path = Path(path)
    with open(path, "rb") as f:
        return _read_header(f, path).info


def _unlock(h: _Header, recovery_code: str | None, username: str | None, password: str | None):
    """The data key from the recovery code's slot or an administrator's slot."""
    slots = h.raw["slots"]
    tries: list[tuple[dict[str, Any], str]] = []
    if recovery_code:
        tries += [
            (s, crypto.normalize_recovery_code(recovery_code))
            for s in slots
            if isinstance(s, dict) and s.get("slot") == "recovery"
        ]
    if username and password is not None:
        name = username.strip().lower()
        tries += [(s, password) for s in slots if isinstance(s, dict) and s.get("username") == name]
    for slot, secret in tries:
        try:
            params = crypto.KdfParams.from_json(slot["kdf"])
            if params.n > 2**20 or params.r > 32 or params.p > 16:
                continue  # a forged header must not make us allocate gigabytes
            kek = crypto.derive_kek(secret, _unb64(slot["salt"]), params)
            return crypto.unseal(kek, _unb64(slot["wrapped"]), str(slot["slot"]).encode())
        except (SieeError, KeyError, ValueError, TypeError):
            continue
    raise AuthError("backup not opened by the given secret", MSG_WRONG_SECRET)


def _entries(
    f: IO[bytes], h: _Header, key: bytes
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """Decrypt and yield (name, its content in pieces of at most CHUNK_SIZE bytes); the
    pieces must be consumed before the next entry. Raises at the first bad chunk."""
    raw = h.raw
    try:
        salt, prefix = _unb64(raw["salt"]), _unb64(raw["nonce_prefix"])
    except (KeyError, ValueError):
        raise IntegrityFailure("bad header fields", MSG_TAMPERED) from None
    if not hmac.compare_digest(
        hmac.new(_derive(key, salt, b"header"), h.framed, hashlib.sha256).digest(), h.mac
    ):
        raise IntegrityFailure("backup header MAC mismatch", MSG_TAMPERED)
    aead = AESGCM(_derive(key, salt, b"content"))
    hh = hashlib.sha256(h.framed).digest()

    def plain_chunks() -> Iterator[bytes]:
        index = 0
        while True:
            head = f.read(5)
            if len(head) < 5:
                raise IntegrityFailure("backup truncated between chunks", MSG_TRUNCATED)
            flag, n = struct.unpack(">BI", head)
            if flag not in (0, 1) or n > MAX_CHUNK:
                raise IntegrityFailure("bad chunk frame", MSG_TAMPERED)
            ct = _read_exact(f, n)
            try:
                yield aead.decrypt(_nonce(prefix, index), ct, _chunk_aad(hh, index, flag == 1))
            except InvalidTag:
                raise IntegrityFailure(
                    f"chunk {index} failed authentication", MSG_TAMPERED
                ) from None
            index += 1
            if flag == 1:
                if f.read(1):
                    raise IntegrityFailure("data after the last chunk", MSG_TAMPERED)
                return

    stream = _Stream(plain_chunks())
    while True:
        kind = stream.read(1)
        if kind == b"Z":
            stream.expect_end()
            return
        if kind != b"E":
            raise IntegrityFailure("bad entry marker", MSG_TAMPERED)
        (n,) = struct.unpack(">H", stream.read(2))
        name = stream.read(n).decode("utf-8", "replace")
        (size,) = struct.unpack(">Q", stream.read(8))
        if not _NAME_RE.match(name):
            raise IntegrityFailure(f"unexpected entry {name!r}", MSG_TAMPERED)
        pieces = _pieces(stream, size)
        yield name, pieces
        for _rest in pieces:  # a caller that skipped the content
            pass


def _pieces(stream: _Stream, size: int) -> Iterator[bytes]:
    left = size
    while left:
        piece = stream.read(min(CHUNK_SIZE, left))
        left -= len(piece)
        yield piece


class _Stream:
    """Reads exact byte counts across decrypted chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.left = b""

    def read(self, n: int) -> bytes:
        parts, have = [self.left], len(self.left)
        while have < n:
            try:
                piece = next(self.chunks)
            except StopIteration:
                raise IntegrityFailure("content ended early", MSG_TAMPERED) from None
            parts.append(piece)
            have += len(piece)
        data = b"".join(parts)
        self.left = data[n:]
        return data[:n]

    def expect_end(self) -> None:
        rest = self.left + b"".join(self.chunks)  # also runs the last-chunk checks
        if rest:
            raise IntegrityFailure("data after the end marker", MSG_TAMPERED)


# -- backups a killed run left as ".parcial" ---------------------------------------------
PENDING_KEY = "backups_pending"


def partial_path(target: Path) -> Path:
    """Where write_backup writes before renaming into `target`."""
    target = Path(target)
    return target.with_name(target.name + ".parcial")


def note_pending(conn: sqlite3.Connection, target: Path, add: bool) -> None:
    """Remember (add) or forget a backup being written, inside the caller's transaction,
    so that a run killed before the rename is finished or cleaned at the next start."""
    row = conn.execute("SELECT value FROM meta WHERE key=?", (PENDING_KEY,)).fetchone()
    pending = set(json.loads(row[0])) if row else set()
    (pending.add if add else pending.discard)(str(Path(target).absolute()))
    meta.put_json(conn, PENDING_KEY, sorted(pending))


def check_backup_file(path: Path, data_key: bytes) -> BackupInfo:
    """Read a whole backup file with the workspace key (header MAC, every chunk, the
    end marker); raises IntegrityFailure/ValidationError if incomplete or altered."""
    with open(path, "rb") as f:
        h = _read_header(f, Path(path))
        for _name, pieces in _entries(f, h, data_key):
            for _piece in pieces:
                pass
    return h.info


def finish_stale_backups(conn: sqlite3.Connection, data_key: bytes) -> list[tuple[str, str]]:
    """At start (log-in): for each backup a killed run left, rename a complete and
    authentic ``.parcial`` into place, or remove it. Returns [(target, "finished" |
    "removed" | "gone")] and forgets them (inside the caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key=?", (PENDING_KEY,)).fetchone()
    if not row:
        return []
    out = []
    for name in json.loads(row[0]):
        target = Path(name)
        partial = partial_path(target)
        outcome = "gone"
        if not target.parent.exists():
            continue  # a removable drive not plugged in now: try at a later start
        try:
            if partial.exists():
                try:
                    check_backup_file(partial, data_key)
                    complete = True
                except (SieeError, OSError):
                    complete = False
                if complete and not target.exists():
                    os.replace(partial, target)
                    outcome = "finished"
                else:
                    partial.unlink()
                    outcome = "removed"
        except OSError:
            log.warning("stale partial backup could not be handled", exc_info=True)
            continue  # a removable drive not plugged in: try again next time
        note_pending(conn, target, add=False)
        out.append((str(target), outcome))
        log.info("stale partial backup %s", outcome)
    return out


def finish_backups(
    db: Any, audit: AuditLog, data_key: bytes, now: float
) -> list[tuple[str, str]]:
    """After a log-in: finish or remove the ``.parcial`` backups a killed run left
    (finish_stale_backups), each noted in the audit chain."""
    if not db.execute("SELECT 1 FROM meta WHERE key=?", (PENDING_KEY,)).fetchone():
        return []
    with transaction(db) as tx:
        done = finish_stale_backups(tx, data_key)
        for target, outcome in done:
            audit.append(tx, now, None, "backup_stale", None,
                         {"file": Path(target).name, "outcome": outcome})
    return done


# A data folder where the program was only opened (the first-run wizard left
# before creating the workspace) holds just its logs: it counts as empty.
_IGNORED = {"logs"}


def _check_target(target: Path) -> None:
    if target.exists() and (
        not target.is_dir()
        or any(p.name not in _IGNORED or not p.is_dir() for p in target.iterdir())
    ):
        raise ValidationError(
            "restore target not empty",
            f"La carpeta de destino {target} no está vacía. Elija una carpeta nueva o vacía: "
            "la restauración nunca escribe sobre datos existentes.",
        )


def restore_backup(
    path: Path,
    target: Path,
    recovery_code: str | None = None,
    username: str | None = None,
    password: str | None = None,
    keep_enrollment: bool = False,
    clock: Callable[[], float] = time.time,
) -> RestoreResult:
    """Restore into `target` (missing or empty). Nothing is left behind on failure.

    Unless `keep_enrollment`, the copy forgets the old laptop's server enrollment,
    so it is enrolled again as a new device; its unsent records are then sent
    (the server keys records by uuid and revision, so nothing is duplicated)."""
    path, target = Path(path), Path(target).absolute()
    check_size(path, MAX_BACKUP_FILE_BYTES, "una copia de respaldo")
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f".{target.name}.restaurando-{secrets.token_hex(4)}"
    work.mkdir(mode=0o700)
    try:
        with open(path, "rb") as f:
            h = _read_header(f, path)
            key = _unlock(h, recovery_code, username, password)
            names: list[str] = []
            for name, pieces in _entries(f, h, key):
                dest = work / name
                dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with _private_open(dest) as out:
                    for piece in pieces:  # bounded pieces: never a whole database in memory
                        out.write(piece)
                    out.flush()
                    os.fsync(out.fileno())
                names.append(name)
        if DB_NAME not in names:
            raise IntegrityFailure("backup without database", MSG_TAMPERED)
        records, cleared = _check_and_mark(
            work / DB_NAME,
            key,
            h.info,
            keep_enrollment,
            clock(),
            "recovery_code" if recovery_code else "admin_password",
        )
        _check_target(target)
        if target.exists():
            for name in _IGNORED:  # keep the folder's own logs with the restored data
                if (target / name).is_dir():
                    os.replace(target / name, work / name)
            target.rmdir()
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("backup %s restored (%d records)", h.info.backup_id, records)
    return RestoreResult(
        target, h.info, records, sum(n.startswith("forms/") for n in names), cleared, names
    )


def _check_and_mark(
    db_path: Path, key: bytes, info: BackupInfo, keep_enrollment: bool, now: float, by: str
) -> tuple[int, bool]:
    """Check the restored database, then note the restore in its audit chain."""
    db = connect(db_path)
    try:
        conn = db.conn
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise IntegrityFailure("restored database fails integrity_check", MSG_TAMPERED)
        if schema_version(db) != info.schema_version:
            raise IntegrityFailure("schema version differs from header", MSG_TAMPERED)
        migrate(db)  # a backup of an older program opens in this one
        sealer = crypto.Sealer(crypto.subkey(key, "records"))
        audit = AuditLog(crypto.subkey(key, "audit"), sealer)
        report = audit.verify(conn)
        if not report.ok:
            raise IntegrityFailure(f"audit chain broken at {report.first_bad_seq}", MSG_TAMPERED)
        counts: dict[str, int] = dict(
            conn.execute("SELECT state, COUNT(*) FROM records GROUP BY state").fetchall()
        )
        if {k: v for k, v in counts.items() if v} != {k: v for k, v in info.counts.items() if v}:
            raise IntegrityFailure("record counts differ from header", MSG_TAMPERED)
        cleared = False
        with transaction(db) as c:
            if not keep_enrollment:
                cleared = bool(c.execute("DELETE FROM meta WHERE key='sync_device'").rowcount)
            meta.put_json(c, "restored_from", {"backup_id": info.backup_id, "at": now})
            audit.append(
                c,
                now,
                None,
                "restore",
                None,
                {"backup": info.backup_id, "by": by, "enrollment_cleared": cleared},
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(counts.values()), cleared
    finally:
        db.conn.close()
