"""Forms resource: XLSForms published by the centre, served to devices (signed) and
used by the validator to check records of those versions.

Queries on the `forms` table live here."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server import devices as device_q
from server.context import Context, now_iso
from server.db import forms
from server.errors import admin_error
from server.files import read_bounded
from server.messages import post_many

log = logging.getLogger("siee.server.forms")

_ID_RE = r"[A-Za-z0-9_.\-]{1,64}"


def form_filename(form_id: str, version: str, suffix: str) -> str:
    """The file name of an installed form version (same convention as the laptop)."""
    return f"{form_id}-{version}{suffix}"


# ------------------------------------------------------------------- queries


def content_row(c: Connection, form_id: str, version: str) -> Any | None:
    """(content, filename) of a published version, or None."""
    return c.execute(
        select(forms.c.content, forms.c.filename)
        .where(forms.c.form_id == form_id, forms.c.version == version)
    ).first()


def published_ids(c: Connection) -> set[str]:
    """Ids of every published form."""
    return {r[0] for r in c.execute(select(forms.c.form_id).distinct())}


# ------------------------------------------------------------------ resource


class Forms:
    """Published forms. Also the validator's source of form files (`ids`, `path`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.dir = ctx.settings.data_dir / "forms"

    def ids(self) -> set[str]:
        """Ids of the published forms."""
        with self.ctx.engine.connect() as c:
            return published_ids(c)

    def path(self, form_id: str, version: str) -> Path | None:
        """The published XLSForm file of a version (written once into data_dir/forms),
        or None when that version is not published."""
        with self.ctx.engine.connect() as c:
            row = content_row(c, form_id, version)
        if row is None:
            return None
        suffix = Path(row.filename).suffix or ".xlsx"
        path = self.dir / form_filename(form_id, version, suffix)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes(row.content))
        return path

    def list(self) -> list[dict[str, Any]]:
        """form_id, version, sha256, filename, published_at of every published version."""
        with self.ctx.engine.connect() as c:
            rows = c.execute(
                select(forms.c.form_id, forms.c.version, forms.c.sha256, forms.c.filename,
                       forms.c.published_at).order_by(forms.c.form_id, forms.c.published_at)
            ).mappings().all()
        return [dict(r) for r in rows]

    def get(self, form_id: str, version: str) -> tuple[bytes, str, str]:
        """(content, filename, server signature); raises not_found (404)."""
        with self.ctx.engine.connect() as c:
            row = content_row(c, form_id, version)
        if row is None:
            raise ProtocolError("not_found", "no such form version",
                                "Esa versión del formulario no está publicada.", 404)
        content = bytes(row.content)
        return content, row.filename, p.sign_form(form_id, version, content,
                                                  self.ctx.keys.signing)

    def publish(self, path: Path) -> dict[str, Any]:
        """Check an XLSForm and publish it; every active device gets a message.
        Raises not_found, bad_form (422) or already_published (409)."""
        path = Path(path)
        try:
            content = read_bounded(path, self.ctx.settings.max_form_bytes, "form")
        except OSError as exc:
            raise admin_error("not_found", f"cannot read {path}",
                              f"No se pudo leer el archivo {path}.") from exc
        form_id, version = check_xlsform(path, content)
        sha = p.sha256_hex(content)
        try:
            with self.ctx.engine.begin() as c:
                c.execute(insert(forms).values(
                    form_id=form_id, version=version, filename=path.name, sha256=sha,
                    content=content, published_at=now_iso(),
                ))
                payload = {"form_id": form_id, "version": version, "sha256": sha,
                           "filename": path.name, "url": f"/v1/forms/{form_id}/{version}"}
                targets = device_q.active_ids(c)
                post_many(c, self.ctx.sealer, targets, "form_published", payload)
        except IntegrityError as exc:
            raise admin_error(
                "already_published", f"{form_id} {version} (or identical file) already published",
                f"El formulario {form_id} versión {version} ya fue publicado. "
                "Cambie la versión en la hoja settings.", 409,
            ) from exc
        log.info("form %s %s published to %d devices", form_id, version, len(targets))
        return {"form_id": form_id, "version": version, "sha256": sha, "devices": len(targets)}


def check_xlsform(path: Path, content: bytes) -> tuple[str, str]:
    """Check that a file is a valid XLSForm with an id and version; return them.
    Raises bad_form (422) with the converter's or the engine's complaint."""
    try:
        from pyxform.xls2xform import convert  # deferred on purpose: heavy, admin only

        result = convert(content, file_type=path.suffix.lower() or None)
        data = result._pyxform or {}
    except Exception as exc:  # noqa: BLE001 - pyxform raises many kinds
        raise admin_error(
            "bad_form", f"XLSForm does not convert: {type(exc).__name__}: {exc}"[:500],
            f"El archivo no es un XLSForm válido: {exc}"[:500], 422,
        ) from exc
    form_id = str(data.get("id_string") or "")
    version = str(data.get("version") or "")
    if not re.fullmatch(_ID_RE, form_id) or not re.fullmatch(_ID_RE, version):
        raise admin_error(
            "bad_form", "XLSForm needs form_id and version in its settings sheet",
            "El XLSForm debe indicar form_id y version (letras, números, . _ -) "
            "en la hoja settings.", 422,
        )
    try:
        import app.forms as engine  # deferred on purpose: the engine is heavy to import

        if hasattr(engine, "load_form"):
            engine.load_form(path)
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001
        raise admin_error(
            "bad_form", f"form engine refuses the form: {type(exc).__name__}"[:300],
            f"El formulario no se puede usar en SIEE Campo: {exc}"[:500], 422,
        ) from exc
    return form_id, version
