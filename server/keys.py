"""The server's two keypairs, kept with its data (mode 0600, created on first use):
X25519 to receive batches, Ed25519 to sign receipts, inbox messages and forms."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.sync import protocol as p

ENC_FILE = "server_x25519.key"
SIG_FILE = "server_ed25519.key"


@dataclass(frozen=True)
class ServerKeys:
    encryption: X25519PrivateKey
    signing: Ed25519PrivateKey

    @property
    def encryption_public(self) -> str:
        return p.public_key_text(self.encryption)

    @property
    def signing_public(self) -> str:
        return p.public_key_text(self.signing)


def load_or_create_secret(path: Path, make: Callable[[], bytes]) -> bytes:
    """32 secret bytes kept in `path` (mode 0600): read, or made by `make()` and written
    once (two processes starting together end up with the same file)."""
    if path.exists():
        raw = path.read_bytes()
        if len(raw) != 32:
            raise RuntimeError(f"server key file {path} is corrupt (expected 32 bytes)")
        if os.name == "posix" and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return raw
    raw = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, raw)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process created it first
    except FileExistsError:
        os.unlink(tmp)
        return load_or_create_secret(path, make)
    except OSError:
        os.replace(tmp, path)
    else:
        os.unlink(tmp)
    return raw


def load_keys(data_dir: Path) -> ServerKeys:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    enc = load_or_create_secret(data_dir / ENC_FILE,
                                lambda: p.private_bytes(p.new_encryption_key()))
    sig = load_or_create_secret(data_dir / SIG_FILE,
                                lambda: p.private_bytes(p.new_signing_key()))
    return ServerKeys(p.encryption_key_from_bytes(enc), p.signing_key_from_bytes(sig))
