"""Demo households (app.demo) as answers to the bundled S100 and FSU, and `load_demo`
that stores them in a workspace.

Every question gets a value valid at any later date (ages only grow), so the
demo records pass `complete` whenever they are used."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import Any

from app.demo import Household, Member, households
from app.forms import bundled_form
from app.workspace import Workspace

PARENTESCO = {"jefe": "1", "conyuge": "2", "hijo": "3", "nieto": "5", "padre": "6", "hermano": "7"}
TIPO_VIA = {"Av.": "1", "Jr.": "2", "Calle": "3", "Psje.": "4"}  # the forms' tipo_via codes


def _rng(hh: Household, salt: str) -> random.Random:
    # Stable per household, independent of Python's hash seed.
    return random.Random(zlib.crc32(f"{hh.head.dni}|{hh.ubigeo}|{salt}".encode()))


def _education(m: Member, age: int, rng: random.Random) -> tuple[str, str | None]:
    if age < 3:
        return "1", None
    if age < 6:
        return "2", None
    if age < 12:
        return "3", str(min(6, age - 5))
    if age < 17:
        return "4", str(min(5, age - 11))
    level = rng.choice(["3", "4", "4", "5", "6"] + (["7"] if age >= 25 else []))
    top = {"3": 6, "4": 5}.get(level, 5)
    return level, str(rng.randint(1, top))


def _member(prefix: str, m: Member, hh: Household, rng: random.Random) -> dict[str, Any]:
    age = m.age(hh.survey_date)
    a: dict[str, Any] = {
        "apellido_paterno": m.apellido_paterno,
        "apellido_materno": m.apellido_materno,
        "nombres": m.nombres,
        "fecha_nacimiento": m.birth.isoformat(),
        "tipo_doc": "1" if m.dni else "4",
        "parentesco": PARENTESCO[m.parentesco],
        "sexo": m.sexo,
        "seguro_salud": rng.choice(["4", "4", "1", "6"]),
        "lengua_materna": rng.choice(["5", "5", "1", "2"]),
        "discapacidad": "7",
        "programas": "99",
    }
    if m.dni:
        a["num_doc"] = f"{m.dni}-{m.dni_check}" if rng.random() < 0.5 else m.dni
    if m.parentesco in ("jefe", "conyuge"):
        a["estado_civil"] = rng.choice(["1", "2"])
    elif m.parentesco == "padre":
        a["estado_civil"] = rng.choice(["2", "3"])
    else:
        a["estado_civil"] = "6"
    if m.sexo == "2":
        a["gestante"] = "1" if m.gestante and 15 <= age <= 45 else "2"
    a["sabe_leer"] = "1" if age >= 7 else "2"
    level, year = _education(m, age, rng)
    a["nivel_educativo"] = level
    if year is not None:
        a["ultimo_anio"] = year
    if age >= 18 and rng.random() < 0.7:
        a["ocupacion"] = rng.choice(["1", "2", "2", "5"])
        a["sector"] = rng.choice(["1", "5", "7", "4"])
    else:
        a["ocupacion"] = "8" if age < 65 else "7"
    return {f"{prefix}/{k}": v for k, v in a.items()}


def fsu_answers(hh: Household, empadronador: str = "Empadronador de demostración") -> dict:
    rng = _rng(hh, "fsu")
    u = hh.ubigeo
    agua = rng.choice(["1", "1", "3", "5"])
    alumbrado = rng.choice(["1", "1", "1", "4"])
    out: dict[str, Any] = {
        "/fsu/ubicacion/departamento": u[:2],
        "/fsu/ubicacion/provincia": u[:4],
        "/fsu/ubicacion/distrito": u,
        "/fsu/ubicacion/area": "1",
        # the draw is kept so the later draws (and the demo households) stay the same
        "/fsu/ubicacion/tipo_via": rng.choice(["1", "2", "3", "4"]) and TIPO_VIA[hh.via],
        "/fsu/ubicacion/nombre_via": hh.direccion.rsplit(" ", 1)[0],
        "/fsu/ubicacion/numero_puerta": hh.direccion.rsplit(" ", 1)[1],
        "/fsu/ubicacion/telefono": hh.telefono,
        "/fsu/vivienda/tipo_vivienda": rng.choice(["1", "1", "2", "5"]),
        "/fsu/vivienda/tenencia": rng.choice(["1", "3", "3", "4"]),
        "/fsu/vivienda/paredes": rng.choice(["1", "3", "3", "6"]),
        "/fsu/vivienda/techos": rng.choice(["1", "4", "4", "3"]),
        "/fsu/vivienda/pisos": rng.choice(["5", "6", "6", "4"]),
        "/fsu/vivienda/alumbrado": alumbrado,
        "/fsu/vivienda/agua": agua,
        "/fsu/vivienda/desague": rng.choice(["1", "3", "4", "6"]),
        "/fsu/vivienda/num_hogares": "1",
        "/fsu/hogar/num_hogar": "1",
        "/fsu/vivienda/horas_capital": str(rng.choice([0.5, 1, 2, 6])),
        "/fsu/hogar/habitaciones": str(rng.randint(1, 5)),
        "/fsu/hogar/combustible": rng.choice(["2", "2", "5"]),
        "/fsu/hogar/equipamiento": " ".join(sorted(rng.sample(["2", "4", "5", "14"], 2), key=int)),
        "/fsu/hogar/num_personas": str(len(hh.members)),
        "/fsu/control/empadronador": empadronador,
        "/fsu/control/fecha_visita": hh.survey_date.isoformat(),
        "/fsu/control/resultado": "1",
        "/fsu/control/informante": "1",
    }
    if alumbrado == "1":
        out["/fsu/vivienda/suministro_luz"] = str(rng.randint(10_000_000, 99_999_999))
    if agua in ("1", "2"):
        out["/fsu/vivienda/suministro_agua"] = str(rng.randint(100_000, 9_999_999))
    for i, m in enumerate(hh.members, 1):
        out.update(_member(f"/fsu/integrantes[{i}]", m, hh, rng))
    return out


def s100_answers(hh: Household, registrador: str = "Registrador de demostración") -> dict:
    rng = _rng(hh, "s100")
    head = hh.head
    out: dict[str, Any] = {
        "/s100/solicitud/tipo_solicitud": "2.1",
        "/s100/solicitud/fecha_solicitud": hh.survey_date.isoformat(),
        "/s100/solicitante/sol_apellido_paterno": head.apellido_paterno,
        "/s100/solicitante/sol_apellido_materno": head.apellido_materno,
        "/s100/solicitante/sol_nombres": head.nombres,
        "/s100/solicitante/sol_tipo_doc": "1",
        "/s100/solicitante/sol_num_doc": head.dni,
        "/s100/solicitante/sol_fecha_nacimiento": head.birth.isoformat(),
        "/s100/solicitante/telefono": hh.telefono,
        "/s100/domicilio/departamento": hh.ubigeo[:2],
        "/s100/domicilio/provincia": hh.ubigeo[:4],
        "/s100/domicilio/distrito": hh.ubigeo,
        "/s100/domicilio/tipo_via": TIPO_VIA[hh.via],
        "/s100/domicilio/nombre_via": hh.direccion.rsplit(" ", 1)[0],
        "/s100/domicilio/numero_puerta": hh.direccion.rsplit(" ", 1)[1],
        "/s100/domicilio/comunidad_indigena": "2",
        "/s100/registro/ule": hh.ubigeo,
        "/s100/registro/registrador": registrador,
    }
    if rng.random() < 0.6:
        out["/s100/domicilio/suministro_luz"] = str(rng.randint(10_000_000, 99_999_999))
    for i, m in enumerate(hh.members, 1):
        p = f"/s100/integrantes[{i}]"
        out[f"{p}/apellidos"] = f"{m.apellido_paterno} {m.apellido_materno}"
        out[f"{p}/nombres"] = m.nombres
        out[f"{p}/tipo_doc"] = "1" if m.dni else "4"
        if m.dni:
            out[f"{p}/num_doc"] = m.dni
    return out


def load_demo(
    ws: Workspace,
    n: int,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create one S100 and one FSU draft per household for the logged-in user."""
    s100, fsu = bundled_form("s100"), bundled_form("fsu")
    count = 0
    for i, hh in enumerate(households(n, seed), 1):
        with ws.atomic():  # one household, one commit: a killed run leaves no half
            request = ws.new_record(s100.form_id, str(s100.version), s100_answers(hh))
            ws.new_record(fsu.form_id, str(fsu.version), fsu_answers(hh), case_uuid=request)
        count += 2
        if progress:
            progress(i, n)
    return count
