"""Issue 19 item 7 (laptop side): files brought from outside are size-checked
before they are read and read in bounded pieces; a 1.5 GB "receipt" (a sparse
file: no disk used) is refused with a Spanish message naming the limit, without
the program ever holding it in memory (peak measured with tracemalloc)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from app.core.bounded_io import PIECE, iter_pieces
from app.core.errors import SieeError
from app.forms import load_form
from app.forms.definition import FormLoadError
from app.store.backup import restore_backup
from app.sync import protocol as p
from app.sync.client import SyncClient

HUGE = 1_500_000_000
PEAK_LIMIT = 64 << 20  # far below the file, far above what checking needs


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def _peak(fn) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        try:
            fn()
            err = None
        except BaseException as e:  # noqa: BLE001 - returned to the test
            err = e
        return err, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["receipt", "inbox"])
def test_huge_usb_file_refused_without_reading(enrolled, tmp_path, kind):
    head = b'{"receipt": ' if kind == "receipt" else b'{"inbox":{'
    assert p.looks_like_inbox_file(head) == (kind == "inbox")
    f = sparse(tmp_path / f"{kind}.json", HUGE, head)
    c: SyncClient = enrolled
    err, peak = _peak(lambda: c.import_usb_file(f))
    assert isinstance(err, SieeError), err
    limit = "16 MB" if kind == "receipt" else "64 MB"
    assert "demasiado grande" in err.user_message and f"el máximo es {limit}" in err.user_message
    assert "1,4 GB" in err.user_message  # its size, as people read it
    assert peak < PEAK_LIMIT, peak


def test_file_growing_while_read_is_cut_at_the_limit(tmp_path):
    f = sparse(tmp_path / "x", 3 * PIECE)
    pieces = iter_pieces(f, 3 * PIECE, "prueba")
    next(pieces)
    with open(f, "ab") as g:  # it grows past the limit after the size check
        g.truncate(5 * PIECE)
    with pytest.raises(SieeError) as e:
        for piece in pieces:
            assert len(piece) <= PIECE
    assert "demasiado grande" in e.value.user_message


def test_huge_form_file_refused(tmp_path):
    f = sparse(tmp_path / "fsu-9.xlsx", 40 << 20, b"PK")
    err, peak = _peak(lambda: load_form(f))
    assert isinstance(err, FormLoadError), err
    assert "el máximo es 32 MB" in str(err.problems[0])
    assert peak < PEAK_LIMIT


def test_huge_backup_refused_before_reading(tmp_path):
    f = sparse(tmp_path / "respaldo.sieebak", 17 << 30, b"SIEEBAK1")
    err, peak = _peak(lambda: restore_backup(f, tmp_path / "destino", recovery_code="X"))
    assert isinstance(err, SieeError), err
    assert "el máximo es 16,0 GB" in err.user_message
    assert not (tmp_path / "destino").exists()
    assert peak < PEAK_LIMIT
