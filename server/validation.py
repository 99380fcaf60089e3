"""Server-side validation of a received record's answers.

The server checks each record with the same form engine (app.forms) and the
same form version the laptop used, hard constraints only. The versions it holds
are the published ones and every version the program ships (the current ones and
the earlier ones of app/forms/bundled/history: a laptop may send a draft started
before its program was updated). A record whose form version the engine does not
hold (neither published nor shipped) cannot be
checked: `BatchCheck.can_validate` says so and the batch holds it apart
(server.held) instead of storing it.

`Validator` is an object owned by the service: it asks its form source (the
published forms, server.forms.Forms) for form files and keeps the form
definitions it has loaded; there are no module-global registries."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("siee.server.validation")

KNOWN_FORMS = ("s100", "fsu")


class FormSource(Protocol):
    """Where published form versions come from (server.forms.Forms)."""

    def ids(self) -> set[str]:
        """Ids of the published forms."""
        ...

    def path(self, form_id: str, version: str) -> Path | None:
        """The XLSForm file of a published version, or None."""
        ...


def _engine() -> Any | None:
    """The form engine module (app.forms), or None when it is missing or incomplete."""
    try:
        import app.forms as forms  # deferred on purpose: the engine is heavy to import
    except Exception:  # noqa: BLE001 - engine missing or broken: structure only
        return None
    if all(hasattr(forms, n) for n in ("shipped_form", "load_form", "validate_submission")):
        return forms
    return None


class Validator:
    """Checks records against their form version; shared by every batch of a process.

    Form definitions found are cached (a version never changes once known); misses are
    not, since the version may be published later."""

    def __init__(self, source: FormSource | None = None) -> None:
        self.source = source
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._engine: Any | None = None
        self._engine_loaded = False
        self._shipped_ids: frozenset[str] | None = None

    @property
    def engine(self) -> Any | None:
        """The form engine module, imported on first use (None when unavailable)."""
        if not self._engine_loaded:
            self._engine = _engine()
            self._engine_loaded = True
        return self._engine

    def find_form(self, form_id: str, form_version: str) -> Any | None:
        """The form definition of a version: published first, then the version the
        program ships (current or earlier, app.forms.shipped_form); None when neither."""
        key = (form_id, form_version)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        forms = self.engine
        if forms is None:
            return None
        fd = None
        path = self.source.path(form_id, form_version) if self.source else None
        if path is not None:
            try:
                fd = forms.load_form(path)
            except Exception:  # noqa: BLE001
                log.warning("published form %s %s could not be loaded", form_id, form_version)
        if fd is None:
            try:
                fd = forms.shipped_form(form_id, form_version)
            except Exception:  # noqa: BLE001
                log.warning("shipped form %s %s could not be loaded", form_id, form_version)
        if fd is not None:
            with self._lock:
                self._cache[key] = fd
        return fd

    def warm_up(self) -> None:
        """Import the form engine and load the bundled forms now, not on the first batch."""
        forms = self.engine
        if forms is None or not hasattr(forms, "list_bundled"):
            return
        try:
            for form_id, version, *_ in forms.list_bundled():
                fd = self.find_form(str(form_id), str(version))
                if fd is not None and hasattr(fd, "program"):
                    fd.program()  # binds compiled once per form version, now
                if fd is not None and hasattr(forms, "compile_check"):
                    forms.compile_check(fd)  # the check translated to Python, now
        except Exception:  # noqa: BLE001
            log.warning("bundled forms could not be preloaded")

    def shipped_form_ids(self) -> frozenset[str]:
        """Form ids of the project and of the forms the program ships (read once per
        process: they change only with the program)."""
        if self._shipped_ids is None:
            ids = set(KNOWN_FORMS)
            forms = self.engine
            if forms is not None and hasattr(forms, "shipped_versions"):
                try:
                    ids |= {str(f[0]) for f in forms.shipped_versions()}
                except Exception:  # noqa: BLE001
                    log.warning("bundled form list unavailable")
                    return frozenset(ids)  # not kept: tried again next time
            self._shipped_ids = frozenset(ids)
        return self._shipped_ids

    def known_form_ids(self) -> set[str]:
        """Form ids this server accepts: the project's, the shipped and the published."""
        ids = set(self.shipped_form_ids())
        if self.source is not None:
            ids |= self.source.ids()
        return ids

    def batch(self) -> BatchCheck:
        """A checker for one batch (form lookups done once per batch)."""
        return BatchCheck(self)

    def validate(self, form_id: str, form_version: str, answers: Any) -> list[str]:
        """Reasons (Spanish) why a record's answers are refused; empty when acceptable."""
        return self.batch()(form_id, form_version, answers)

    def engine_reasons(self, fd: Any, form_id: str, form_version: str,
                       answers: dict[str, Any], today: date | None = None) -> list[str]:
        """The engine's hard-constraint errors for answers of a loaded form (Spanish);
        `today`: the day the record's rules read as today() (record_day)."""
        try:
            return list(self.engine.validate_submission(  # type: ignore[union-attr]
                fd, answers, today=today))
        except Exception as exc:  # noqa: BLE001 - answers the engine cannot even read
            log.info("form engine refused record structure: %s", type(exc).__name__)
            why = getattr(exc, "user_message", None)
            return ["Las respuestas no corresponden al formulario "
                    f"«{form_id}» versión {form_version}." + (f" {why}" if why else "")]


def record_day(completed_at: str | None) -> date | None:
    """The day a received record's rules read as today(): the local date (the server's
    time zone, Peru's in production) of its completion time ('2026-11-30T15:04:05Z'),
    so a household surveyed weeks before the laptop found a connection is checked as it
    was the day it was completed (ages, dates not in the future). None — the server's
    own today — when the time is missing, unreadable or later than tomorrow (a laptop
    clock cannot move a record's day into the future)."""
    if not completed_at:
        return None
    try:
        moment = datetime.fromisoformat(completed_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    day = moment.astimezone().date() if moment.tzinfo is not None else moment.date()
    if day > date.today() + timedelta(days=1):
        return None
    return day


class BatchCheck:
    """Validates the records of one batch; form lookups are done once per batch.

    `cpu_ms` adds up the CPU time of the calling thread spent in the form engine's
    check (time.thread_time, so other threads and waiting do not count) over `checked`
    records; the server logs it per batch (server.batches), bench/server.py reads it."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator
        self._ids: set[str] | None = None
        self._forms: dict[tuple[str, str], Any] = {}
        self.cpu_ms = 0.0
        self.checked = 0

    def known(self, form_id: str) -> bool:
        """Whether the server accepts records of this form id at all."""
        if form_id in self.validator.shipped_form_ids():
            return True  # no need to ask the database for the published ones
        if self._ids is None:
            self._ids = self.validator.known_form_ids()
        return form_id in self._ids

    def form(self, form_id: str, form_version: str) -> Any | None:
        """The loaded form definition of a version, or None (structure check only)."""
        key = (form_id, form_version)
        if key not in self._forms:
            self._forms[key] = self.validator.find_form(form_id, form_version)
            if self._forms[key] is None:
                log.info("form %s version %s unknown to the engine: records held",
                         form_id, form_version)
        return self._forms[key]

    def can_validate(self, form_id: str, form_version: str) -> bool:
        """Whether this form version can be checked here (the engine and the version's
        definition are available); a record that cannot be checked is held (server.held)."""
        return self.validator.engine is not None and self.form(form_id, form_version) is not None

    def __call__(self, form_id: str, form_version: str, answers: Any,
                 completed_at: str | None = None) -> list[str]:
        """Reasons (Spanish) why a record's answers are refused; empty when acceptable
        or when the version cannot be checked (see can_validate). `completed_at`: the
        record's completion time as the protocol carries it (its rules read that day as
        today(), see record_day)."""
        if not isinstance(answers, dict):
            return ["Las respuestas del registro no tienen el formato esperado."]
        if not self.known(form_id):
            return [f"El formulario «{form_id}» no es conocido por el servidor."]
        for key, want in (("form_id", form_id), ("form_version", form_version)):
            if key in answers and str(answers[key]) != str(want):
                return [f"Las respuestas dicen {key} «{answers[key]}», pero el registro dice "
                        f"«{want}»."]
        fd = self.form(form_id, form_version)
        if fd is None or self.validator.engine is None:
            return []
        t = time.thread_time()
        try:
            return self.validator.engine_reasons(fd, form_id, form_version, answers,
                                                 record_day(completed_at))
        finally:
            self.cpu_ms += (time.thread_time() - t) * 1000
            self.checked += 1
