"""Where the form window shows a problem found on a computed field.

A rule can sit on a `calculate` (the FSU's hidden `dni`, computed from the
document type and number, carries "the DNI is repeated in the household").
The clerk never sees that field, so its message belongs beside the question the
value was typed into: the last question its calculation reads, in the same
member. This is a display rule only; the engine still reports the computed path."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.core.errors import SieeError

if TYPE_CHECKING:
    from app.forms.definition import FormDef, NodeDef

_INDEX = re.compile(r"\[\d+\]")
_PATH = re.compile(r"(/[A-Za-z_][\w.-]*)+")
HIDDEN_TYPES = frozenset({"calculate", "start", "end", "today"})


def definition_path(path: str) -> str:
    """'/fsu/integrantes[2]/dni' -> '/fsu/integrantes/dni'."""
    return _INDEX.sub("", path)


def _node(fd: FormDef, path: str) -> NodeDef | None:
    try:
        return fd.node(path)
    except (SieeError, KeyError, ValueError):
        return None


def shown_path(fd: FormDef, path: str) -> str:
    """The concrete path of the question that shows the problems of `path`.

    `path` itself for a question the clerk sees; for a computed field, the last
    visible question its calculation reads, within the same member when the field
    is inside a repeat (the instance indexes of `path` are kept). Falls back to
    `path` when the calculation reads no visible question."""
    dpath = definition_path(path)
    nd = _node(fd, dpath)
    if nd is None or nd.type not in HIDDEN_TYPES or not nd.calculation:
        return path
    parent_def, _, _ = dpath.rpartition("/")
    parent_concrete, _, _ = path.rpartition("/")
    best = ""
    for m in _PATH.finditer(nd.calculation):
        ref = m.group(0)
        src = _node(fd, ref)
        if src is None or src.kind != "question" or src.type in HIDDEN_TYPES:
            continue
        if ref.rpartition("/")[0] != parent_def:
            continue  # only questions of the same group or member
        best = ref
    if not best:
        return path
    return f"{parent_concrete}/{best.rpartition('/')[2]}"


def _form_order(fd: FormDef) -> dict[str, int]:
    order: dict[str, int] = {}

    def walk(nd: NodeDef) -> None:
        order[nd.path_str] = len(order)
        for c in nd.children:
            walk(c)

    walk(fd.root)
    return order


def rule_settled_by_earlier_answers(fd: FormDef, path: str) -> bool:
    """True when the rule (constraint) of the question at `path` reads only the
    answer itself and answers that come before it in the form: if it fails, the
    answer just typed is what is wrong, so the clerk is kept on it. False when it
    compares with something later or elsewhere (the number of people against the
    members listed further on, a relative path across members): the fix may be
    in another question, so the message is shown but the clerk may go on."""
    dpath = definition_path(path)
    nd = _node(fd, dpath)
    rule = (nd.constraint or "") if nd is not None else ""
    if not rule:
        return True
    if "../" in rule or "${" in rule:
        return False
    order = _form_order(fd)
    here = order.get(dpath)
    if here is None:
        return False
    for m in _PATH.finditer(rule):
        pos = order.get(m.group(0))
        if pos is None or pos >= here:
            return False
    return True
