"""The forms that ship inside the package (app/forms/bundled/*.md)."""

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
