"""The form engine behind the workspace (the real `FormHooks`): every record is read
with the form version it was started with, found in the form library."""

from __future__ import annotations

from contextlib import closing
from datetime import date
from pathlib import Path

from app.core.errors import NotFound
from app.forms import FormDef, FormSession, dnis, summary
from app.forms.library import FormLibrary
from app.forms.session import record_clock


class EngineHooks:
    """`FormHooks` over app.forms and a `FormLibrary` (bundled forms, then versions
    installed by sync under `forms_dir`)."""

    def __init__(self, forms_dir: Path | None = None) -> None:
        self.library = FormLibrary(forms_dir)

    @property
    def forms_dir(self) -> Path | None:
        return self.library.forms_dir

    def formdef(self, form_id: str, version: str) -> FormDef:
        """The definition of that version; NotFound (Spanish) when not on this computer."""
        return self.library.get(form_id, version)

    def facts(self, form_id: str, version: str, answers: dict) -> tuple[dict, list[str]]:
        """(summary for the list view, every DNI in the record)."""
        fd = self.formdef(form_id, version)
        return summary(fd, answers), dnis(fd, answers)

    def submission(self, form_id: str, version: str, answers: dict,
                   completed_at: float | None = None) -> dict:
        """What leaves the laptop: the canonical answers without those kept aside
        (answers of questions a skip made non-relevant stay in the draft only).

        Relevance is read on the record's completion day (`completed_at`, epoch
        seconds; its local date), the day the centre reads it on
        (server.validation.record_day): read on the day of sending instead, a member
        who had a birthday meanwhile (49 on the visit, 50 at the sync) had her answer
        to «¿Está gestando?» kept aside, and the centre refused the record."""
        try:
            fd = self.formdef(form_id, version)
        except NotFound:
            return answers  # the server checks the structure of unknown versions
        day = None if completed_at is None else date.fromtimestamp(completed_at)
        with closing(FormSession.from_json(fd, answers, clock=record_clock(day))) as session:
            return session.to_json()

    def validate(self, form_id: str, version: str, answers: dict) -> tuple[list[dict], list[dict]]:
        """(hard errors, soft warnings), each a list of {"path", "message"}."""
        with closing(FormSession.from_json(self.formdef(form_id, version), answers)) as session:
            report = session.validate()
        return [i.to_dict() for i in report.errors], [i.to_dict() for i in report.warnings]


