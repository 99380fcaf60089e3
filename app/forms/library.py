"""The form library: which form definitions this computer holds, by (form id, version).

A record is always read with the form version it was started with (a draft of an
earlier version is edited, completed and sent in that version, as ODK Collect
does). The library answers `get(form_id, version)` from the versions shipped in
the package (app/forms/bundled: the current ones and history/, the earlier
ones), else from a version installed under its folder. An installed version is
one file named
`{form_id}-{version}{ext}` with ext `.xlsx` (XLSForm) or `.md` (pyxform
markdown): that convention lives here only (`file_name`). Installed versions come
from the centre (sync) and from `keep_shipped`, which copies every shipped version
the folder does not hold yet when a workspace opens: every version a laptop ever
used stays readable even if a later program stops shipping it.

Usage (laptop: the data folder's forms/; the server can point it at its own folder):

    lib = FormLibrary(data_dir / "forms")
    fd = lib.get("fsu", "2026112799")          # FormDef, or NotFound (Spanish message)
    lib.install("fsu", "2026120101", ".xlsx", content)   # checks it loads, else removes it
    lib.keep_shipped()                          # copies shipped versions not yet held
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from app.core.errors import NotFound, ValidationError
from app.core.private_files import make_private_dir
from app.forms.bundled import bundled_form, list_bundled, shipped_form, shipped_versions
from app.forms.definition import FormDef
from app.forms.loader import load_form

log = logging.getLogger("siee.forms.library")

EXTENSIONS = (".xlsx", ".md")
_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def valid_id(text: str) -> bool:
    """True when `text` may be a form id or a version (letters, digits, `_.-`, ≤ 64)."""
    return bool(_ID_RE.match(text))


def file_name(form_id: str, version: str, ext: str) -> str:
    """The file name of an installed form version, e.g. `fsu-2026112799.xlsx`."""
    return f"{form_id}-{version}{ext}"


class FormLibrary:
    """Form definitions by (form id, version): bundled ones, then those installed in
    `forms_dir` (None: bundled forms only). Thread-safe for reading."""

    def __init__(self, forms_dir: Path | None) -> None:
        self.forms_dir = Path(forms_dir) if forms_dir is not None else None

    @staticmethod
    def bundled(form_id: str) -> FormDef:
        """The version of `form_id` shipped with the program (what new records use)."""
        return bundled_form(form_id)

    def is_bundled(self, form_id: str, version: str) -> bool:
        """True when (form_id, version) is the current shipped version."""
        return any(f == form_id and str(v) == str(version) for f, v, _ in list_bundled())

    def path(self, form_id: str, version: str) -> Path | None:
        """The installed file of this version, or None."""
        if self.forms_dir is None:
            return None
        for ext in EXTENSIONS:
            p = self.forms_dir / file_name(form_id, version, ext)
            if p.exists():
                return p
        return None

    def get(self, form_id: str, version: str) -> FormDef:
        """The definition of (form_id, version). Raises NotFound (Spanish: sync to receive
        it) when this computer does not hold that version."""
        if self.is_bundled(form_id, version):
            return bundled_form(form_id)
        fd = shipped_form(form_id, str(version))  # a version an earlier program shipped
        if fd is not None:
            return fd
        p = self.path(form_id, str(version))
        if p is not None:
            return load_form(p)
        raise NotFound(
            f"form {form_id} version {version} not installed",
            f"El formulario {form_id} (versión {version}) no está instalado en este equipo. "
            "Sincronice para recibirlo.",
        )

    def target(self, form_id: str, version: str, ext: str) -> Path:
        """Where `install` puts this version (ext outside EXTENSIONS becomes .xlsx)."""
        if self.forms_dir is None:
            raise ValidationError("library without a folder", "No hay carpeta de formularios.")
        if not valid_id(form_id) or not valid_id(version):
            raise ValidationError(
                f"bad form id or version {form_id!r} {version!r}",
                "El nombre o la versión del formulario no es válido.",
            )
        ext = ext.lower() if ext.lower() in EXTENSIONS else ".xlsx"
        return self.forms_dir / file_name(form_id, version, ext)

    def install(self, form_id: str, version: str, ext: str, content: bytes) -> Path:
        """Write the file atomically, then check that it loads; a file that does not load
        is removed and its error raised (FormLoadError or another exception)."""
        target = self.target(form_id, version, ext)
        _write_atomic(target, content)
        try:
            self.get(form_id, version)
        except Exception:
            target.unlink(missing_ok=True)
            raise
        return target

    def keep_shipped(self) -> list[Path]:
        """Copy into the folder every version this program ships (current and earlier,
        app.forms.bundled) that the folder does not hold yet, in any extension; returns
        the files written. Called when a workspace opens, so every version the laptop
        ever saw survives later updates. A file already there is never replaced (a
        version never changes; the centre's copy or an earlier copy stays). Each copy is
        written like a centre-sent form (atomic, fsync, owner-only) and read back:
        a copy whose bytes differ is removed and OSError raised. Raises OSError when
        the folder cannot be written (the caller goes on: the package still has them)."""
        if self.forms_dir is None:
            return []
        written = []
        for form_id, version, source in shipped_versions():
            if not valid_id(form_id) or not valid_id(version):
                continue
            if self.path(form_id, version) is not None:
                continue
            content = source.read_bytes()
            target = self.target(form_id, version, ".md")
            _write_atomic(target, content)
            if hashlib.sha256(target.read_bytes()).digest() != hashlib.sha256(content).digest():
                target.unlink(missing_ok=True)
                raise OSError(f"copy of form {form_id} {version} reads back different")
            written.append(target)
        if written:
            log.info("kept shipped form versions: %s", ", ".join(p.name for p in written))
        return written


def _write_atomic(target: Path, content: bytes) -> None:
    """Write `content` to `target` through a temporary file in the same folder (0600),
    fsync'd, then renamed over it; the folder is created owner-only if missing."""
    if not target.parent.exists():
        make_private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
