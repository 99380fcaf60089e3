"""Files the centre reads (USB batch files, inbox request files, XLSForms): the size is
checked before reading and the file is read in bounded pieces, so a huge or growing
file is refused without being loaded into memory."""

from __future__ import annotations

from pathlib import Path

from app.sync.protocol import ProtocolError

CHUNK = 1 << 20


def _human(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MiB"
    return f"{max(1, n // 1024)} KiB"


def too_large(path: Path, limit: int, what: str) -> ProtocolError:
    """The refusal of a file over `limit` bytes (413), naming the limit in Spanish."""
    return ProtocolError(
        "too_large", f"{what} file over {limit} bytes",
        f"El archivo {path.name} es demasiado grande para ser {what_es(what)} "
        f"(máximo {_human(limit)}). Revise que sea el archivo correcto.", 413)


def what_es(what: str) -> str:
    """How a kind of file is named in a Spanish message."""
    return {"batch": "un lote", "inbox request": "una solicitud de novedades",
            "form": "un formulario"}.get(what, "leído")


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of `path`, at most `limit`; raises too_large (413) when the file is
    bigger (checked from its size first, then while reading), OSError when unreadable."""
    path = Path(path)
    if path.stat().st_size > limit:
        raise too_large(path, limit, what)
    parts: list[bytes] = []
    n = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(min(CHUNK, limit + 1 - n))
            if not chunk:
                break
            n += len(chunk)
            if n > limit:
                raise too_large(path, limit, what)
            parts.append(chunk)
    return b"".join(parts)
