"""The forms that ship inside the package.

app/forms/bundled/{form_id}.md is the version new records use (the current one).
app/forms/bundled/history/{form_id}-{version}.md keeps every version an earlier
program shipped, so records started with it (drafts, returned, unsent, stored)
can still be opened, completed and checked after an update, on the laptop and at
the centre. A shipped version never changes: a change of a form's content takes a
new version, and the version it replaces is copied into history/ (docs/forms.md,
"Form versions")."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from app.core.errors import NotFound
from app.forms.definition import FormDef
from app.forms.loader import load_form

_SETTINGS_RE = re.compile(r"^\|\s*settings\s*\|", re.M)


def bundled_dir() -> Path:
    return Path(str(resources.files("app.forms").joinpath("bundled")))


def bundled_path(form_id: str) -> Path:
    p = bundled_dir() / f"{form_id}.md"
    if not p.is_file():
        raise NotFound(f"no bundled form {form_id!r}",
                       f"No existe el formulario «{form_id}» en el programa.")
    return p


def history_dir() -> Path:
    """The folder of earlier shipped versions (app/forms/bundled/history)."""
    return bundled_dir() / "history"


def bundled_ids() -> list[str]:
    return sorted(p.stem for p in bundled_dir().glob("*.md"))


@cache
def bundled_form(form_id: str, cache_dir: str | None = None) -> FormDef:
    """A bundled form, loaded once per process (and cached on disk if cache_dir)."""
    return load_form(bundled_path(form_id), cache_dir=cache_dir)


def list_bundled() -> list[tuple[str, str, str]]:
    """[(form_id, version, title)] of the bundled forms, read from their settings sheet
    (without loading the forms)."""
    out = []
    for fid in bundled_ids():
        out.append((fid, *_settings(bundled_path(fid).read_text("utf-8"))))
    return out


def _settings(text: str) -> tuple[str, str]:
    m = _SETTINGS_RE.search(text)
    if not m:
        return "", ""
    lines = [ln for ln in text[m.end():].splitlines() if ln.strip().startswith("|")][:2]
    if len(lines) < 2:
        return "", ""
    head = [c.strip() for c in lines[0].strip().strip("|").split("|")]
    vals = [c.strip() for c in lines[1].strip().strip("|").split("|")]
    row = dict(zip(head, vals, strict=False))
    return row.get("version", ""), row.get("form_title", "")


@cache
def list_history() -> tuple[tuple[str, str, Path], ...]:
    """((form_id, version, path), ...) of the earlier shipped versions, read from the
    file names `{form_id}-{version}.md` in history/ (a test checks each file's settings
    say the same). The package never changes while the program runs, hence cached."""
    out = []
    folder = history_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.md")):
            form_id, sep, version = path.stem.rpartition("-")
            if sep and form_id and version:
                out.append((form_id, version, path))
    return tuple(out)


def shipped_versions() -> list[tuple[str, str, Path]]:
    """[(form_id, version, path)] of every version this program ships: the current ones
    and the earlier ones of history/ (a current version listed there too counts once)."""
    current = [(fid, str(v), bundled_path(fid)) for fid, v, _t in list_bundled()]
    seen = {(f, v) for f, v, _ in current}
    return current + [(f, v, p) for f, v, p in list_history() if (f, v) not in seen]


def shipped_path(form_id: str, version: str) -> Path | None:
    """The package file of (form_id, version), current or earlier; None when this
    program never shipped that version."""
    for f, v, path in shipped_versions():
        if f == form_id and v == str(version):
            return path
    return None


def shipped_form(form_id: str, version: str) -> FormDef | None:
    """The definition of a version this program ships (current or earlier), loaded once
    per process; None when it ships no such version. Used by the laptop's form library
    and by the centre's validation (server.validation), so both read a record made with
    an earlier program's form version."""
    path = shipped_path(form_id, str(version))
    if path is None:
        return None
    if path.parent == bundled_dir():
        return bundled_form(form_id)
    return _history_form(str(path))


@cache
def _history_form(path: str) -> FormDef:
    return load_form(Path(path))
