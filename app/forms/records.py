"""What the store and the record list need from a record's answers, without
evaluating the form: a summary line and every DNI.

Field names are the bundled forms' conventions (see docs/forms.md):
FSU members `integrantes/{parentesco, apellido_paterno, apellido_materno, nombres,
tipo_doc, num_doc}` (parentesco '1' = jefe), S100 requester `sol_*`, location
`distrito`. tipo_doc '1' is DNI.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import ValidationError
from app.core.identifiers import normalize_dni
from app.forms.definition import FormDef, generic_path

JEFE = "1"
DNI = "1"


def _flat(answers: dict[str, Any]) -> dict[str, str]:
    if isinstance(answers.get("answers"), dict):
        answers = answers["answers"]
    return {str(k): "" if v is None else str(v) for k, v in answers.items()}


def _by_name(formdef: FormDef, flat: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """name -> [(path, value)] in path order."""
    names = {p: p[-1] for p in formdef.by_path}
    out: dict[str, list[tuple[str, str]]] = {}
    for path, value in flat.items():
        g = generic_path(path)
        name = names.get(g)
        if name is not None:
            out.setdefault(name, []).append((path, value))
    return out


def _member_prefix(path: str) -> str:
    return path.rsplit("/", 1)[0]


def summary(formdef: FormDef, answers: dict[str, Any]) -> dict[str, Any]:
    """{"head_name", "head_dni", "ubigeo", "members"} for the record list.

    head: the member with parentesco jefe (FSU) or the requester (S100)."""
    flat = _flat(answers)
    byname = _by_name(formdef, flat)
    head_name, head_dni = "", ""
    members = {_member_prefix(p) for p, _v in byname.get("nombres", [])
               if "integrantes[" in p}
    members |= {_member_prefix(p) for p, _v in byname.get("apellido_paterno", [])}
    members_n = len({m for m in members if "integrantes[" in m})
    if isinstance(answers.get("repeats"), dict):
        for k, v in answers["repeats"].items():
            if k.endswith("/integrantes"):
                members_n = int(v)
    jefe = next((_member_prefix(p) for p, v in byname.get("parentesco", []) if v == JEFE), None)
    if jefe is not None:
        parts = [flat.get(f"{jefe}/{k}", "") for k in ("apellido_paterno", "apellido_materno")]
        head_name = _join(" ".join(x for x in parts if x), flat.get(f"{jefe}/nombres", ""))
        if flat.get(f"{jefe}/tipo_doc") == DNI:
            head_dni = _dni(flat.get(f"{jefe}/num_doc", ""))
    elif "sol_nombres" in formdef.names:
        def one(name: str) -> str:
            vals = byname.get(name, [])
            return vals[0][1] if vals else ""

        parts = [one("sol_apellido_paterno"), one("sol_apellido_materno")]
        head_name = _join(" ".join(x for x in parts if x), one("sol_nombres"))
        if one("sol_tipo_doc") == DNI:
            head_dni = _dni(one("sol_num_doc"))
    dist = byname.get("distrito", [])
    return {
        "head_name": head_name,
        "head_dni": head_dni,
        "ubigeo": dist[0][1] if dist else "",
        "members": members_n,
    }


def _join(apellidos: str, nombres: str) -> str:
    if apellidos and nombres:
        return f"{apellidos}, {nombres}"
    return apellidos or nombres


def _dni(v: str) -> str:
    try:
        return normalize_dni(v)
    except ValidationError:
        return ""


def dnis(formdef: FormDef, answers: dict[str, Any]) -> list[str]:
    """Every valid DNI in the record (normalized to 8 digits, in form order, no
    duplicates): the store indexes them by HMAC."""
    flat = _flat(answers)
    out: list[str] = []
    for path, value in flat.items():
        name = path.rsplit("/", 1)[-1]
        if not name.endswith("num_doc"):
            continue
        type_path = path[: -len("num_doc")] + "tipo_doc"
        if flat.get(type_path, DNI) != DNI:
            continue
        d = _dni(value)
        if d and d not in out:
            out.append(d)
    return out
