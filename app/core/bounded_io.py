"""Reading files brought from outside (USB receipts and inbox files, backups, form
files) without trusting their size: the size is checked before reading, and the
content is read in pieces of at most PIECE bytes, so a huge or growing file is
refused without ever being held in memory. Messages name the limit in Spanish."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from app.core.errors import ValidationError

PIECE = 1 << 20  # 1 MiB


def size_text(n: int) -> str:
    """A byte count for people: '64 MB', '1,5 GB'."""
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GB".replace(".", ",")
    if n >= 1 << 20:
        return f"{n // (1 << 20)} MB"
    return f"{max(1, n // 1024)} KB"


def too_large(path: Path, size: int, limit: int, what: str) -> ValidationError:
    """The error for a file over its limit (English for logs, Spanish for people)."""
    return ValidationError(
        f"{path.name}: {size} bytes exceed the limit of {limit} for {what}",
        f"El archivo «{path.name}» es demasiado grande para ser {what} "
        f"({size_text(size)}; el máximo es {size_text(limit)}). No se leyó. "
        "Revise que sea el archivo correcto.",
    )


def check_size(path: Path, limit: int, what: str) -> int:
    """The file's size; raises ValidationError (Spanish, naming the limit) if over it."""
    path = Path(path)
    size = os.stat(path).st_size
    if size > limit:
        raise too_large(path, size, limit, what)
    return size


def iter_pieces(path: Path, limit: int, what: str) -> Iterator[bytes]:
    """The file's content in pieces of at most PIECE bytes, refusing it (before reading,
    or as soon as it grows past the limit while being read)."""
    path = Path(path)
    check_size(path, limit, what)
    seen = 0
    with open(path, "rb") as f:
        while True:
            piece = f.read(min(PIECE, limit + 1 - seen))
            if not piece:
                return
            seen += len(piece)
            if seen > limit:
                raise too_large(path, seen, limit, what)
            yield piece


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The whole file (at most `limit` bytes), read in bounded pieces."""
    return b"".join(iter_pieces(path, limit, what))


def read_head(path: Path, n: int) -> bytes:
    """The first `n` bytes of a file (to tell its kind) without reading the rest."""
    with open(path, "rb") as f:
        return f.read(n)
