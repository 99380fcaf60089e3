"""The form engine: XLSForm definitions, ODK XPath, answers and their checks.

No Qt here. Public API (everything else in app.forms is internal):

Loading
    load_form(source, cache_dir=None) -> FormDef
        source: a path (.xlsx or pyxform markdown .md), markdown text, or bytes.
        Raises FormLoadError (a SieeError) whose `.problems` are [Problem(row, message)]
        with Spanish messages naming the survey-sheet row. Cached in memory by content
        hash, and on disk when cache_dir is given.
    bundled_form(form_id) -> FormDef          the forms shipped in app/forms/bundled
    list_bundled() -> [(form_id, version, title)]   the current shipped versions
    shipped_form(form_id, version) -> FormDef | None   current or earlier shipped version
    shipped_versions() -> [(form_id, version, path)]   every version the program ships

FormDef
    .form_id  .version  .title  .default_language  .languages
    .nodes -> NodeDef (root group; .children, .name, .path, .kind group|repeat|question,
              .type, .label(lang), .hint(lang), .list_name, .row)
    .node(path) -> NodeDef   (generic or concrete path)

FormSession(formdef, answers=None, *, language=None, clock=None, fast=None, properties=None)
    answers: what to_json() returned, or a flat {"/fsu/integrantes[2]/edad": value}
    properties: {name: value} that property() gives (defaults of a new record read them)
    fast=False turns the fast paths off (same results; for tests and bench/forms.py)
    .set(path, value)                   one answer; dependents are re-evaluated
    .get(path) -> str                   stored answer (kept even when not relevant)
    .add_repeat(path, position=None) -> path of the new instance
    .remove_repeat(path, index=None)    ('/fsu/integrantes', 2) or ('/fsu/integrantes[2]')
    .move_repeat(path, index, new_index)
    .repeat_count(path) -> int          .has(path) -> bool
    .choices(path) -> [Choice]          (after the choice filter)
    .state(path) -> NodeState(path, kind, type, value, relevant, required, valid, message,
                              warning, choices, read_only, label, hint)
    .iter_nodes() -> NodeState...       form order, repeat instances expanded
    .validate() -> Report(errors, warnings)   errors block `complete`; warnings do not
    .to_json(include_aside=False) -> dict     canonical answers:
        {"form_id", "form_version", "answers": {path: value}, "repeats": {path: n}}
    .canonical_bytes() -> bytes         sorted, compact UTF-8 JSON of to_json()
    .aside() -> {path: value}           answers kept aside (question not relevant now,
                                        or refused by its type: as typed)
    .kept() -> {path: value}            answers of repeat instances a lowered
                                        repeat_count set aside (they come back)
    .to_xml(instance_id) -> str         OpenRosa instance with meta/instanceID
    FormSession.from_json(formdef, data)

validate_submission(formdef, answers) -> [str]
    the server's check of a received record: "path: message" for every hard error,
    evaluating only what those need (no warnings, labels or choices lists to show)

Between forms
    carry_over(src_session, dst_session) -> int   an S100's household into a new FSU:
        answers move to same-named questions (member by member); «apellidos» splits in two;
        the requester's sol_* answers fill the member with the requester's document

Record helpers (no evaluation; for the store and the record list)
    summary(formdef, answers) -> {"head_name", "head_dni", "ubigeo", "members"}
    dnis(formdef, answers) -> [8-digit DNI, ...]

Paths are absolute instance paths with 1-based positions on repeat instances:
/fsu/integrantes[2]/edad. See docs/forms.md.
"""

from app.forms.bundled import bundled_form, list_bundled, shipped_form, shipped_versions
from app.forms.carry_over import carry_over
from app.forms.check import validate_submission
from app.forms.compiled import compile_check
from app.forms.definition import Choice, FormDef, FormLoadError, NodeDef, Problem
from app.forms.functions import FUNCTIONS as FUNCTIONS  # fills xpath.FUNCTIONS, see there
from app.forms.loader import load_form
from app.forms.records import dnis, summary
from app.forms.session import FormSession, Issue, NodeState, Report

__all__ = [
    "Choice",
    "compile_check",
    "FormDef",
    "FormLoadError",
    "FormSession",
    "Issue",
    "NodeDef",
    "NodeState",
    "Problem",
    "Report",
    "bundled_form",
    "carry_over",
    "dnis",
    "list_bundled",
    "shipped_form",
    "shipped_versions",
    "load_form",
    "summary",
    "validate_submission",
]
