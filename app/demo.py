"""Realistic synthetic households for demos, tests and benchmarks.

Peruvian names, DNIs with their check character, real INEI ubigeos, 1-12
members whose ages agree with their relationships. Deterministic for a seed."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from app.core.identifiers import dni_check_chars
from app.core.ubigeo import catalog

if TYPE_CHECKING:
    from app.workspace import Workspace

APELLIDOS = (
    "Quispe Flores Sánchez Rodríguez García Mamani Huamán Chávez Ramos Torres Vásquez Díaz "
    "Mendoza Rojas Castillo Gutiérrez Pérez Espinoza Cruz López Condori Ccama Apaza Gonzales "
    "Vargas Ruiz Salazar Córdova Huanca Cárdenas Paredes Ticona Yupanqui Poma Villanueva "
    "Cusi Ayala Palomino Soto Tineo Inga Chuquimia Llanos Zapata Arias Medina"
).split()
NOMBRES_F = (
    "María Rosa Juana Carmen Luz Ana Elena Flor Yessica Milagros Gladys Nelly Delia Sonia "
    "Roxana Maribel Katherine Lucía Valeria Camila Ximena Dayana Nayeli Sofía Fiorella"
).split()
NOMBRES_M = (
    "José Juan Luis Carlos Jorge Víctor Pedro Miguel César Wilmer Edwin Hugo Alberto Julio "
    "Richard Percy Walter Fredy Jhon Kevin Diego Mateo Thiago Anthony Brayan Santiago"
).split()
VIAS = ("Jr.", "Av.", "Calle", "Psje.")
CALLES = (
    "Los Incas Lima Grau Bolognesi Arequipa Junín Huáscar Túpac Amaru San Martín Ayacucho "
    "Las Flores Los Pinos Progreso"
).split()


@dataclass
class Member:
    apellido_paterno: str
    apellido_materno: str
    nombres: str
    sexo: str  # "1" hombre, "2" mujer
    parentesco: str  # jefe, conyuge, hijo, nieto, padre, hermano, otro_pariente, ...
    birth: date
    dni: str  # 8 digits, or "" for a newborn without DNI
    dni_check: str  # the digit printed after the hyphen
    gestante: bool = False

    def age(self, on: date) -> int:
        years = on.year - self.birth.year
        return years - ((on.month, on.day) < (self.birth.month, self.birth.day))

    @property
    def full_name(self) -> str:
        return f"{self.apellido_paterno} {self.apellido_materno}, {self.nombres}"


@dataclass
class Household:
    ubigeo: str
    via: str
    direccion: str
    telefono: str
    members: list[Member] = field(default_factory=list)
    survey_date: date = date(2026, 11, 2)

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.parentesco == "jefe")


class _Gen:
    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.used_dnis: set[str] = set()

    def dni(self) -> tuple[str, str]:
        while True:
            d = f"{self.rng.randint(10_000_000, 79_999_999):08d}"
            if d not in self.used_dnis:
                self.used_dnis.add(d)
                return d, dni_check_chars(d)[0]

    def birth(self, age: int) -> date:
        start = date(self.today.year - age - 1, self.today.month, 1) + timedelta(days=1)
        return start + timedelta(days=self.rng.randint(0, 360))

    def person(
        self, sexo: str, parentesco: str, age: int, ap: str | None = None, am: str | None = None
    ) -> Member:
        r = self.rng
        nombres = r.choice(NOMBRES_M if sexo == "1" else NOMBRES_F)
        if r.random() < 0.4:
            nombres += " " + r.choice(NOMBRES_M if sexo == "1" else NOMBRES_F)
        dni, check = self.dni() if age >= 1 or r.random() < 0.7 else ("", "")
        return Member(
            ap or r.choice(APELLIDOS),
            am or r.choice(APELLIDOS),
            nombres,
            sexo,
            parentesco,
            self.birth(age),
            dni,
            check,
        )


def make_household(rng: random.Random, today: date | None = None) -> Household:
    today = today or date(2026, 11, 2)
    g = _Gen(rng, today)
    codes = sorted(catalog().codes)
    hh = Household(
        ubigeo=rng.choice(codes),
        via=rng.choice(VIAS),
        direccion=f"{rng.choice(CALLES)} {rng.randint(1, 1999)}",
        telefono=f"9{rng.randint(10_000_000, 99_999_999)}",
        survey_date=today,
    )
    size = min(12, max(1, int(rng.triangular(1, 12, 4))))
    head_sex = "1" if rng.random() < 0.7 else "2"
    head_age = rng.randint(22, 78)
    head = g.person(head_sex, "jefe", head_age)
    hh.members.append(head)
    has_spouse = size > 1 and rng.random() < 0.8
    if has_spouse:
        sp_age = max(18, min(90, head_age + rng.randint(-8, 8)))
        spouse = g.person("2" if head_sex == "1" else "1", "conyuge", sp_age)
        if spouse.sexo == "2" and 15 <= sp_age <= 45 and rng.random() < 0.1:
            spouse.gestante = True
        hh.members.append(spouse)
    father = head if head_sex == "1" else (hh.members[1] if has_spouse else head)
    mother = head if head_sex == "2" else (hh.members[1] if has_spouse else None)
    youngest_parent = min(m.age(today) for m in hh.members)
    while len(hh.members) < size:
        kind = rng.random()
        if kind < 0.75 and youngest_parent >= 16:
            age = rng.randint(0, max(0, youngest_parent - 16))
            hh.members.append(
                g.person(
                    rng.choice("12"),
                    "hijo",
                    age,
                    father.apellido_paterno,
                    mother.apellido_paterno if mother else None,
                )
            )
        elif kind < 0.85 and head_age <= 60:
            age = min(99, head_age + rng.randint(18, 35))
            hh.members.append(g.person(rng.choice("12"), "padre", age))
        elif kind < 0.92 and head_age >= 40:
            age = rng.randint(0, max(0, head_age - 36))
            hh.members.append(g.person(rng.choice("12"), "nieto", age))
        else:
            age = max(0, min(95, head_age + rng.randint(-10, 10)))
            hh.members.append(g.person(rng.choice("12"), "hermano", age, head.apellido_paterno))
    return hh


def households(n: int, seed: int | None = None) -> list[Household]:
    rng = random.Random(seed)
    return [make_household(rng) for _ in range(n)]


def load_demo(
    ws: Workspace,
    n: int,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create one S100 and one FSU draft per household for the logged-in user."""
    from app.demo_answers import fsu_answers, s100_answers
    from app.forms import bundled_form
    from app.store.db import transaction

    s100, fsu = bundled_form("s100"), bundled_form("fsu")
    count = 0
    for i, hh in enumerate(households(n, seed), 1):
        # One transaction per household: a killed run never leaves an S100
        # without its FSU (the two inner writes nest as savepoints).
        with ws._lock, transaction(ws.db):
            ws.new_record(s100.form_id, str(s100.version), s100_answers(hh))
            ws.new_record(fsu.form_id, str(fsu.version), fsu_answers(hh))
        count += 2
        if progress:
            progress(i, n)
    return count
