"""The graded exercises of practice mode (issue 18 items 2 and 3) and their fictitious
households, made by the demo generator (app/demo.py, app/demo_answers.py).

An exercise is a code of EXERCISES plus a seed: the same (code, seed) always gives the
same household, so the answer key is never stored, it is made again when scoring, and
a trainer can print the same paper for a whole class (`siee-campo practice paper`).

Data entry (kind "entry"): the trainee types the paper FSU into a new draft
(`start_entry`), then the program scores it (app/practice/scoring.py).
  fsu1   1 integrante
  fsu4   4 integrantes (the readiness exercise: settings `practice_ready_accuracy`)
  fsu8   8 integrantes with odd cases: a newborn without document, a grandparent with a
         disability and Pensión 65, a pregnant spouse, a domestic worker
  s100   an S100 request of 3 integrantes, its request type varying with the seed
         (determinación, actualización, reevaluación, incorporación, otro), sometimes
         from an Amazonian indigenous community
  fix    a returned FSU (4 integrantes) with planted typing mistakes to correct against
         the paper, with the centre's reasons pinned to the questions
Supervision (kind "review"): `review` seeds a queue (app/practice/review_exercise.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.core.states import State
from app.demo import Household, make_household
from app.demo_answers import fsu_answers, s100_answers
from app.forms import FormDef, FormSession, bundled_form
from app.practice.scoring import EntryScore, score_entry, typed_answers
from app.workspace import Workspace


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: `code`, Spanish `title` and `summary`, `kind` ("entry" or
    "review"), `members` (household size, entry only)."""

    code: str
    title: str
    summary: str
    kind: str
    members: int = 0
    form_id: str = "fsu"


EXERCISES: dict[str, Exercise] = {e.code: e for e in (
    Exercise("fsu1", "FSU de 1 integrante", "Una persona que vive sola: para aprender el "
             "orden de las secciones.", "entry", 1),
    Exercise("fsu4", "FSU de 4 integrantes", "Un hogar típico. Con este ejercicio se mide "
             "si la persona está lista (precisión mínima en la configuración).", "entry", 4),
    Exercise("fsu8", "FSU de 8 integrantes con casos especiales", "Recién nacido sin "
             "documento, abuelo con discapacidad y Pensión 65, cónyuge gestante, "
             "trabajadora del hogar.", "entry", 8),
    Exercise("s100", "Solicitud S100", "La solicitud de clasificación de un hogar de 3 "
             "integrantes; el tipo de solicitud cambia de una ficha a otra.", "entry", 3,
             "s100"),
    Exercise("fix", "Corregir una FSU observada", "La sede central devolvió una ficha con "
             "errores de digitación: corríjala comparándola con el papel.", "entry", 4),
    Exercise("review", "Revisión de supervisor", "Una bandeja de fichas completas, algunas "
             "con inconsistencias: apruebe o devuelva cada una con su motivo.", "review"),
)}
READY_EXERCISE = "fsu4"


def exercise(code: str) -> Exercise:
    """The exercise `code`; KeyError names the known codes."""
    try:
        return EXERCISES[code]
    except KeyError:
        raise KeyError(f"unknown exercise {code!r}; known: {', '.join(EXERCISES)}") from None


def fsu() -> FormDef:
    return bundled_form("fsu")


def household(code: str, seed: int) -> Household:
    """The fictitious household of exercise `code` with `seed` (deterministic)."""
    ex = exercise(code)
    size = ex.members or 5
    rng = random.Random(f"{code}|{seed}")
    for _ in range(500):
        hh = make_household(rng)
        if len(hh.members) >= size:
            break
    else:  # the generator always reaches 8 within a few hundred tries
        raise RuntimeError("no household large enough")
    hh.members = hh.members[:size]
    if code == "fsu8":
        _odd_cases(hh, rng)
    return hh


def _odd_cases(hh: Household, rng: random.Random) -> None:
    """Turn an 8-member household into the odd cases of exercise fsu8."""
    head = hh.head
    today = hh.survey_date
    others = [m for m in hh.members if m is not head]
    spouse = next((m for m in others if m.parentesco == "conyuge"), None)
    # a newborn grandchild or child without a document yet
    baby = others[-1]
    baby.parentesco = "nieto" if head.age(today) >= 40 else "hijo"
    baby.birth = today - timedelta(days=rng.randint(20, 80))
    baby.dni = baby.dni_check = ""
    # the head's father or mother, 80 or more
    old = others[-2]
    old.parentesco = "padre"
    old.birth = today.replace(year=today.year - max(80, head.age(today) + 25))
    old.sexo = "1"
    # a pregnant spouse when there is a woman of the right age
    if spouse is not None and spouse.sexo == "2" and 15 <= spouse.age(today) <= 45:
        spouse.gestante = True
    # a domestic worker who lives in (her codes are set by _odd_answers)
    worker = others[-3]
    worker.parentesco = "hermano"
    worker.sexo = "2"
    worker.birth = today.replace(year=today.year - 34)


def key_session(code: str, seed: int) -> FormSession:
    """The filled form of the exercise (an FSU, or the S100), as the form engine reads it."""
    hh = household(code, seed)
    if exercise(code).form_id == "s100":
        return FormSession(bundled_form("s100"), _s100(hh, seed))
    answers = fsu_answers(hh)
    if code == "fsu8":
        answers = _odd_answers(hh, answers)
    return FormSession(fsu(), answers)


def practice_request_options() -> list[str]:
    """The S100 request options a practice household may carry: every option of the
    bundled form's `tipo_solicitud` list except those checked against a CSE the
    practice laptop cannot hold (a `cse_max_dias` column, e.g. 2.6 Reevaluación)."""
    fd = bundled_form("s100")
    return [c.name for c in fd.choices.get("tipo_solicitud", [])
            if not c.extra.get("cse_max_dias")]


def _s100(hh: Household, seed: int) -> dict[str, Any]:
    """The S100 answers of the household, with a request type and community by seed."""
    rng = random.Random(f"s100|{seed}")
    out = s100_answers(hh)
    options = practice_request_options()
    out["/s100/solicitud/tipo_solicitud"] = options[seed % len(options)]
    if rng.random() < 0.25:
        out["/s100/domicilio/comunidad_indigena"] = "1"
        out["/s100/domicilio/nombre_comunidad"] = rng.choice(
            ["Comunidad Nativa Santa Rosa", "Comunidad Nativa Shimaa", "C.N. Nuevo Progreso"])
    return out


def _odd_answers(hh: Household, answers: dict[str, Any]) -> dict[str, Any]:
    out = dict(answers)
    n = len(hh.members)
    old, worker = f"/fsu/integrantes[{n - 1}]", f"/fsu/integrantes[{n - 2}]"
    out[f"{old}/discapacidad"] = "1 4"
    out[f"{old}/programas"] = "2"
    out[f"{old}/seguro_salud"] = "4"
    out[f"{worker}/parentesco"] = "8"
    out[f"{worker}/ocupacion"] = "4"
    out[f"{worker}/sector"] = "7"
    out[f"{worker}/estado_civil"] = "6"
    out.pop(f"{worker}/gestante", None)
    out[f"{worker}/gestante"] = "2"
    return out


def answer_key(code: str, seed: int) -> dict[str, str]:
    """What a perfect typing of the exercise's paper stores: {path: value}."""
    return typed_answers(key_session(code, seed))


# -- the returned record of exercise "fix" ---------------------------------------------------
def planted_typos(key: dict[str, str], seed: int) -> dict[str, tuple[str, str]]:
    """The typing mistakes of exercise "fix": {path: (wrong value, reason)}, three of
    them, chosen among a name, a date of birth and a coded answer."""
    rng = random.Random(f"fix-typos|{seed}")
    out: dict[str, tuple[str, str]] = {}
    names = sorted(p for p in key if p.endswith("/nombres"))
    if names:
        p = rng.choice(names)
        v = key[p]
        out[p] = (v[:-1] + ("a" if v[-1] != "a" else "o"),
                  "El nombre no coincide con el documento de identidad.")
    births = sorted(p for p in key if p.endswith("/fecha_nacimiento") and "[1]" not in p)
    if births:
        p = rng.choice(births)
        y, mth, d = key[p].split("-")
        day = int(d)
        out[p] = (f"{y}-{mth}-{day + 1 if day < 28 else day - 1:02d}",
                  "La fecha de nacimiento no coincide con el DNI.")
    for p in ("/fsu/vivienda/paredes", "/fsu/vivienda/techos", "/fsu/vivienda/pisos"):
        if p in key:
            wrong = "2" if key[p] != "2" else "3"
            out[p] = (wrong, "Material registrado distinto del anotado en la ficha de papel.")
            break
    return out


# -- starting exercises ------------------------------------------------------------------------
def start_entry(ws: Workspace, code: str, seed: int | None = None) -> str:
    """A new FSU for the logged-in trainee to type exercise `code` (kind "entry") into:
    an empty draft, or for "fix" the returned record with its planted mistakes. Returns
    the record's uuid. Practice workspaces only (NotAllowed otherwise)."""
    ex = exercise(code)
    if ex.kind != "entry":
        raise ValueError(f"{code} is not a data-entry exercise")
    seed = int(seed if seed is not None else random.SystemRandom().randint(1, 999_999))
    fd = bundled_form(ex.form_id)
    info = {"code": code, "seed": seed, "kind": "entry", "started_at": ws.clock()}
    if code != "fix":
        return ws.practice.seed_record(fd.form_id, str(fd.version), {}, State.DRAFT,
                                       notes={"practice": info})
    key = answer_key(code, seed)
    session = key_session(code, seed)
    typos = planted_typos(key, seed)
    for path, (wrong, _reason) in typos.items():
        session.set(path, wrong)
    reasons = [f"{p}: {r}" for p, (_w, r) in typos.items()]
    ret = {
        "by": "SIEE central", "source": "server",
        "reason": "; ".join(r for _w, r in typos.values()) + ".",
        "questions": list(typos), "reasons": reasons, "at": ws.clock(), "revision": 1,
    }
    return ws.practice.seed_record(fd.form_id, str(fd.version), session.to_json(),
                                   State.RETURNED,
                                   notes={"practice": info, "returns": [ret]})


# -- scoring ------------------------------------------------------------------------------------
def score_record(ws: Workspace, uuid: str, seconds: float | None = None,
                 keys: int | None = None, keep: bool = True) -> EntryScore:
    """Score the trainee's typing of the exercise record `uuid` against its key; with
    `keep`, the result joins the trainee's progress (ws.practice.add_result) and the
    record's exercise facts. `seconds` defaults to the time since the exercise began.
    ValueError when the record is not a data-entry exercise."""
    info = ws.practice.exercise(uuid)
    if not info or info.get("kind") != "entry":
        raise ValueError(f"record {uuid} is not a data-entry exercise")
    code, seed = str(info["code"]), int(info["seed"])
    m = ws.get(uuid)
    session = FormSession(ws.forms.get(m.form_id, m.form_version),
                          ws.load_answers(uuid) or None)
    if seconds is None and info.get("started_at"):
        seconds = max(0.0, ws.clock() - float(info["started_at"]))
    result = score_entry(answer_key(code, seed), session, seconds, keys)
    if keep:
        row = ws.practice.add_result({"exercise": code, "seed": seed, "record": uuid,
                                      "kind": "entry", **result.to_dict()})
        ws.practice.set_exercise(uuid, {"scored": row["id"], "accuracy": row["accuracy"]})
    return result
