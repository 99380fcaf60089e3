"""Workspace form hooks for the window tests.

app/workspace.py's default hooks call app.forms.facts / app.forms.validate_answers.
Until app.forms exports them, this adapter gives the same answers through the
public app.forms API (summary, dnis, FormSession.validate). It is not a form
engine: every rule is evaluated by app.forms."""

from __future__ import annotations

from typing import Any

import app.forms as forms


class PublicApiHooks:
    def facts(self, form_id: str, version: str, answers: dict) -> tuple[dict, list[str]]:
        fd = forms.bundled_form(form_id)
        s = forms.summary(fd, answers)
        out = {"head": s.get("head_name", ""), "dni": s.get("head_dni", ""), **s}
        return out, list(forms.dnis(fd, answers))

    def validate(self, form_id: str, version: str, answers: dict) -> tuple[list, list]:
        fd = forms.bundled_form(form_id)
        rep = forms.FormSession(fd, answers).validate()
        return [i.to_dict() for i in rep.errors], [i.to_dict() for i in rep.warnings]


def form_hooks() -> Any:
    """None (the workspace's own hooks) once app.forms has them, else the adapter."""
    if hasattr(forms, "facts") and hasattr(forms, "validate_answers"):
        return None
    return PublicApiHooks()
