"""Consistency rules a reviewer applies to an FSU that the form itself lets through
(DOMAIN.md, "More consistency rules a reviewer applies"): the simulated centre of a
practice workspace returns records that break them, and the supervisor exercises
plant them on purpose and score the trainee against them.

Plain functions over the flat answers of an FSU ({"/fsu/integrantes[2]/sexo": "2",
...}, as `FormSession.answers()` or the demo generator give them); no I/O. Every rule
has a code (stable: exercises store it), the question it points at and a Spanish
reason a person can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MEMBERS = "/fsu/integrantes"
_INDEX = re.compile(r"^/fsu/integrantes\[(\d+)\]/(\w+)$")

# code -> what the rule checks, in Spanish (the trainer's guide lists them)
RULES: dict[str, str] = {
    "dos_conyuges": "Más de un integrante registrado como cónyuge del jefe de hogar.",
    "hijo_edad": "Hijo(a) con menos de 12 años de diferencia con el jefe de hogar.",
    "estado_civil_menor": "Persona de 12 a 14 años registrada como casada, conviviente, "
                          "viuda, divorciada o separada.",
    "lectura_estudios": "Persona con estudios secundarios o superiores que «no sabe leer».",
    "informante_menor": "El informante es un integrante menor de 12 años.",
}


@dataclass(frozen=True)
class Issue:
    """One broken rule: `code` (a key of RULES), `path` (the question it points at,
    concrete: /fsu/integrantes[3]/nivel_educativo) and `reason` (Spanish)."""

    code: str
    path: str
    reason: str

    def reason_line(self) -> str:
        """The reason as the centre writes it: "path: text" (app.sync.model.split_reasons
        reads the path back and pins the question)."""
        return f"{self.path}: {self.reason}"


def members(answers: dict[str, object]) -> dict[int, dict[str, str]]:
    """Member number (1-based) -> {question name: answer} from flat FSU answers."""
    out: dict[int, dict[str, str]] = {}
    for path, value in answers.items():
        m = _INDEX.match(path)
        if m:
            out.setdefault(int(m.group(1)), {})[m.group(2)] = str(value)
    return dict(sorted(out.items()))


def _date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def age_on(birth: object, on: date) -> int | None:
    """Whole years from `birth` (ISO date text) to `on`; None when unreadable."""
    b = _date(birth)
    if b is None:
        return None
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def fsu_issues(answers: dict[str, object], today: date | None = None) -> list[Issue]:
    """Every rule of RULES the FSU breaks, in member order. Ages count to the visit date
    (control/fecha_visita), else to `today`."""
    on = _date(answers.get("/fsu/control/fecha_visita")) or today or date.today()
    ms = members(answers)
    out: list[Issue] = []
    ages = {i: age_on(m.get("fecha_nacimiento"), on) for i, m in ms.items()}
    head = next((i for i, m in ms.items() if m.get("parentesco") == "1"), None)
    head_age = ages.get(head) if head is not None else None
    spouses = [i for i, m in ms.items() if m.get("parentesco") == "2"]
    for i in spouses[1:]:
        out.append(Issue("dos_conyuges", f"{MEMBERS}[{i}]/parentesco",
                         f"El integrante {i} figura como otro cónyuge del jefe de hogar; "
                         "solo puede haber uno. Confirme el parentesco."))
    for i, m in ms.items():
        age = ages[i]
        if age is None:
            continue
        if (m.get("parentesco") == "3" and head_age is not None
                and 0 <= head_age - age < 12):
            out.append(Issue("hijo_edad", f"{MEMBERS}[{i}]/fecha_nacimiento",
                             f"El integrante {i} es hijo(a) y tiene solo {head_age - age} "
                             "años menos que el jefe de hogar. Confirme la fecha de "
                             "nacimiento o el parentesco."))
        if m.get("estado_civil") in ("1", "2", "3", "4", "5") and 12 <= age < 15:
            out.append(Issue("estado_civil_menor", f"{MEMBERS}[{i}]/estado_civil",
                             f"El integrante {i} tiene {age} años y figura con estado civil "
                             "distinto de soltero(a). Confirme el estado civil o la fecha "
                             "de nacimiento."))
        if m.get("sabe_leer") == "2" and m.get("nivel_educativo") in ("4", "5", "6", "7"):
            out.append(Issue("lectura_estudios", f"{MEMBERS}[{i}]/sabe_leer",
                             f"El integrante {i} tiene estudios secundarios o superiores "
                             "pero figura que no sabe leer ni escribir. Confirme."))
    informant = str(answers.get("/fsu/control/informante") or "")
    if informant.isdigit() and int(informant) in ages:
        a = ages[int(informant)]
        if a is not None and a < 12:
            out.append(Issue("informante_menor", "/fsu/control/informante",
                             f"El informante (integrante {informant}) tiene {a} años; debe "
                             "responder una persona adulta del hogar."))
    return out
