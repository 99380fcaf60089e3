"""Answers the form window fills in itself so the clerk does not type them twice (found
in a new clerk's walk-through of the S100 and the FSU). They are ordinary answers:
the clerk sees them, may change them, and the form's own rules still check them.

- **The requester as a member.** The S100 asks the requester (apellidos, nombres,
  document) and then the household's members, among whom the requester must be
  (DOMAIN.md; the form's `solicitante_en_hogar` rule). A new member added while the
  requester is not in the list yet starts with the requester's answers.
- **The number of people.** The FSU asks «¿Cuántas personas viven en este hogar?»
  before listing the members, and a rule requires it to equal the members listed.
  The window fills it with the number of members while the clerk has not typed a
  different number, keeps it in step as members are added or removed, and does not
  hold the clerk on it while it is still empty (the list below fills it).

These are UI-side prefills on purpose: the form definitions (app/forms/bundled) stay
as they are, so records keep their meaning and no form version changes. The paths
name questions of the bundled forms; a form version without them is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import SieeError

if TYPE_CHECKING:
    from app.forms.session import FormSession


@dataclass(frozen=True)
class MemberCount:
    """An integer question that counts the instances of a repeat."""

    question: str
    repeat: str


@dataclass(frozen=True)
class RequesterAsMember:
    """Where a form keeps its requester, and how a member of `repeat` is filled from
    it: (member field, requester questions joined with a space), in the order they are
    set (a document's type before its number, which depends on it)."""

    repeat: str
    listed: str  # a calculation > 0 when the requester is already among the members
    fields: tuple[tuple[str, tuple[str, ...]], ...]


MEMBER_COUNTS: dict[str, MemberCount] = {
    "fsu": MemberCount("/fsu/hogar/num_personas", "/fsu/integrantes"),
}

_SOL = "/s100/solicitante/"
REQUESTERS: dict[str, RequesterAsMember] = {
    "s100": RequesterAsMember(
        repeat="/s100/integrantes",
        listed=_SOL + "solicitante_en_hogar",
        fields=(
            ("apellidos", (_SOL + "sol_apellido_paterno", _SOL + "sol_apellido_materno")),
            ("nombres", (_SOL + "sol_nombres",)),
            ("tipo_doc", (_SOL + "sol_tipo_doc",)),  # the same codes: 1 DNI, 3 carné
            ("num_doc", (_SOL + "sol_num_doc",)),
        ),
    ),
}


def _get(session: FormSession, path: str) -> str:
    try:
        return session.get(path)
    except (SieeError, KeyError):
        return ""


def member_count(form_id: str, path: str | None = None) -> MemberCount | None:
    """The count question of `form_id` (only if it is `path`, when given)."""
    mc = MEMBER_COUNTS.get(form_id)
    return mc if mc is not None and (path is None or mc.question == path) else None


def requester_answers(session: FormSession, form_id: str, repeat: str) -> dict[str, str]:
    """{member field: value} for a new member of `repeat`: the requester's answers when
    the form has a requester, they are not among the members yet and their name was
    typed; {} otherwise."""
    rq = REQUESTERS.get(form_id)
    if rq is None or rq.repeat != repeat:
        return {}
    if _get(session, rq.listed) not in ("", "0"):
        return {}  # already listed
    out: dict[str, str] = {}
    for field, sources in rq.fields:
        value = " ".join(v for v in (_get(session, p).strip() for p in sources) if v)
        if value:
            out[field] = value
    return out if out.get("apellidos") or out.get("nombres") else {}


def follow_count(session: FormSession, form_id: str, last_set: str | None) -> str | None:
    """Put the number of members into the count question when it is empty or still
    holds `last_set` (the value the window put there; the clerk did not type another).
    Returns the value it holds afterwards when the window keeps it ("" while there are
    no members: the count is emptied, never set to 0), None when it is the clerk's
    (left alone). Pass `last_set` = the number of members when a saved record is
    opened: an answer equal to it is followed from then on."""
    mc = MEMBER_COUNTS.get(form_id)
    if mc is None:
        return None
    current = _get(session, mc.question)
    if current not in ("", last_set):
        return None
    try:
        n = session.repeat_count(mc.repeat)
    except (SieeError, KeyError):
        return None
    value = str(n) if n else ""
    if value != current:
        try:
            session.set(mc.question, value)
        except SieeError:
            return None
    return value
