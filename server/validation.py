"""Server-side validation of a received record's answers.

The server checks each record with the same form engine (app.forms) and the
same form version the laptop used, hard constraints only. When the engine or
the form version is not available, only the structure is checked."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("siee.server.validation")

KNOWN_FORMS = ("s100", "fsu")

# Forms published on this server (set by the service at start-up):
# ids() -> set of published form ids; path(form_id, version) -> XLSForm file or None.
_published_ids: Callable[[], set[str]] | None = None
_published_path: Callable[[str, str], Path | None] | None = None
_cache: dict[tuple[str, str], Any] = {}  # form definitions found (never change once known)


def set_published_forms(
    ids: Callable[[], set[str]] | None, path: Callable[[str, str], Path | None] | None
) -> None:
    global _published_ids, _published_path
    _published_ids, _published_path = ids, path
    _cache.clear()


def _engine() -> Any | None:
    try:
        import app.forms as forms
    except Exception:  # noqa: BLE001 - engine missing or broken: structure only
        return None
    if all(hasattr(forms, n) for n in ("bundled_form", "load_form", "validate_submission")):
        return forms
    return None


def _find_form(forms: Any, form_id: str, form_version: str) -> Any | None:
    key = (form_id, form_version)
    if key in _cache:
        return _cache[key]
    fd = None
    path = _published_path(form_id, form_version) if _published_path else None
    if path is not None:
        try:
            fd = forms.load_form(path)
        except Exception:  # noqa: BLE001
            log.warning("published form %s %s could not be loaded", form_id, form_version)
    if fd is None:
        try:
            cand = forms.bundled_form(form_id)
        except Exception:  # noqa: BLE001
            cand = None
        version = getattr(cand, "version", None) if cand is not None else None
        if cand is not None and (version is None or str(version) == str(form_version)):
            fd = cand
    if fd is not None:  # misses are not cached: the version may be published later
        _cache[key] = fd
    return fd


def warm_up() -> None:
    """Import the form engine and load the bundled forms now, not on the first batch."""
    forms = _engine()
    if forms is None or not hasattr(forms, "list_bundled"):
        return
    try:
        for form_id, version, *_ in forms.list_bundled():
            _find_form(forms, str(form_id), str(version))
    except Exception:  # noqa: BLE001
        log.warning("bundled forms could not be preloaded")


def known_form_ids() -> set[str]:
    ids = set(KNOWN_FORMS)
    forms = _engine()
    if forms is not None and hasattr(forms, "list_bundled"):
        try:
            ids |= {str(f[0]) for f in forms.list_bundled()}
        except Exception:  # noqa: BLE001
            log.warning("bundled form list unavailable")
    if _published_ids is not None:
        ids |= _published_ids()
    return ids


class BatchValidator:
    """Validates the records of one batch; form lookups are done once per batch."""

    def __init__(self) -> None:
        self._ids: set[str] | None = None
        self._forms: dict[tuple[str, str], Any] = {}
        self._engine = _engine()

    def known(self, form_id: str) -> bool:
        if self._ids is None:
            self._ids = known_form_ids()
        return form_id in self._ids

    def form(self, form_id: str, form_version: str) -> Any | None:
        key = (form_id, form_version)
        if key not in self._forms:
            self._forms[key] = (_find_form(self._engine, form_id, form_version)
                                if self._engine is not None else None)
            if self._forms[key] is None:
                log.info("form %s version %s unknown to the engine: structure check only",
                         form_id, form_version)
        return self._forms[key]

    def __call__(self, form_id: str, form_version: str, answers: Any) -> list[str]:
        """Reasons (Spanish) why a record's answers are refused; empty when acceptable."""
        if not isinstance(answers, dict):
            return ["Las respuestas del registro no tienen el formato esperado."]
        if not self.known(form_id):
            return [f"El formulario «{form_id}» no es conocido por el servidor."]
        for key, want in (("form_id", form_id), ("form_version", form_version)):
            if key in answers and str(answers[key]) != str(want):
                return [f"Las respuestas dicen {key} «{answers[key]}», pero el registro dice "
                        f"«{want}»."]
        fd = self.form(form_id, form_version)
        if fd is None or self._engine is None:
            return []
        try:
            return list(self._engine.validate_submission(fd, answers))
        except Exception as exc:  # noqa: BLE001 - answers the engine cannot even read
            log.info("form engine refused record structure: %s", type(exc).__name__)
            why = getattr(exc, "user_message", None)
            return ["Las respuestas no corresponden al formulario "
                    f"«{form_id}» versión {form_version}." + (f" {why}" if why else "")]


def validate_record(form_id: str, form_version: str, answers: Any) -> list[str]:
    """Reasons (Spanish) why a record's answers are refused; empty when acceptable."""
    return BatchValidator()(form_id, form_version, answers)
