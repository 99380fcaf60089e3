"""Files the centre reads (USB batch files, inbox request files, XLSForms): the size is
checked before reading and the file is read in bounded pieces, so a huge or growing
file is refused without being loaded into memory."""

from __future__ import annotations

from pathlib import Path

from app.core.bounded_io import read_limited
from app.core.errors import ValidationError
from app.sync.protocol import ProtocolError


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
    bigger (checked from its size first, then while reading: app.core.bounded_io, the
    laptop's reader too), OSError when unreadable."""
    try:
        return read_limited(Path(path), limit, what_es(what))
    except ValidationError:
        raise too_large(Path(path), limit, what) from None
