"""Choice lists the engine provides itself, used through `select_one_from_file`.

The INEI ubigeo catalog (app.core.ubigeo) is exposed as three itemset files so a
form can cascade departamento -> provincia -> distrito without 1,891 rows going
through pyxform on every load:

    ubigeo_departamentos.csv  name=DD      label=departamento
    ubigeo_provincias.csv     name=DDPP    label=provincia   dep=DD
    ubigeo_distritos.csv      name=DDPPDD  label=distrito    dep=DD  prov=DDPP
"""

from __future__ import annotations

import csv
import io
from functools import cache
from pathlib import Path

from app.core.ubigeo import catalog
from app.forms.definition import Choice

BUILTIN_FILES = ("ubigeo_departamentos.csv", "ubigeo_provincias.csv", "ubigeo_distritos.csv")


def is_builtin(file_name: str) -> bool:
    return file_name in BUILTIN_FILES


@cache
def builtin_choices(file_name: str) -> tuple[Choice, ...]:
    cat = catalog()
    if file_name == "ubigeo_departamentos.csv":
        return tuple(Choice(code, {"": name}) for code, name in cat.departamentos())
    if file_name == "ubigeo_provincias.csv":
        seen: dict[str, str] = {}
        for d in sorted(cat.districts.values(), key=lambda d: d.ubigeo):
            seen.setdefault(d.ubigeo[:4], d.provincia)
        return tuple(Choice(code, {"": name}, {"dep": code[:2]}) for code, name in seen.items())
    if file_name == "ubigeo_distritos.csv":
        return tuple(
            Choice(d.ubigeo, {"": d.distrito}, {"dep": d.ubigeo[:2], "prov": d.ubigeo[:4]})
            for d in sorted(cat.districts.values(), key=lambda d: d.ubigeo)
        )
    raise KeyError(file_name)


def read_choices_csv(path: Path) -> list[Choice]:
    """An itemset file next to the form: columns name, label (or label::lang), others."""
    text = path.read_text("utf-8-sig")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        name = (row.pop("name", "") or "").strip()
        labels = {}
        for k in list(row):
            if k == "label" or k.startswith("label::"):
                labels[k.split("::", 1)[1] if "::" in k else ""] = row.pop(k) or ""
        out.append(Choice(name, labels or {"": name}, {k: v or "" for k, v in row.items()}))
    return out
