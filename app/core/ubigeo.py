"""The INEI ubigeo catalog that ships inside the package (app/data)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from app.core.errors import ValidationError
from app.core.identifiers import check_ubigeo_format


@dataclass(frozen=True, slots=True)
class District:
    ubigeo: str
    departamento: str
    provincia: str
    distrito: str

    @property
    def label(self) -> str:
        return f"{self.distrito} ({self.provincia}, {self.departamento})"


class UbigeoCatalog:
    def __init__(self, districts: list[District]) -> None:
        self.districts = {d.ubigeo: d for d in districts}
        self.codes = frozenset(self.districts)

    def __len__(self) -> int:
        return len(self.districts)

    def get(self, code: str) -> District | None:
        return self.districts.get(code)

    def validate(self, value: str) -> District:
        code = check_ubigeo_format(value)
        d = self.districts.get(code)
        if d is None:
            raise ValidationError(
                f"ubigeo {code} not in INEI catalog",
                f"El ubigeo {code} no existe en el catálogo del INEI.",
            )
        return d

    def departamentos(self) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for d in self.districts.values():
            seen.setdefault(d.ubigeo[:2], d.departamento)
        return sorted(seen.items())

    def provincias(self, dep: str) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for d in self.districts.values():
            if d.ubigeo[:2] == dep:
                seen.setdefault(d.ubigeo[:4], d.provincia)
        return sorted(seen.items())

    def distritos(self, prov: str) -> list[tuple[str, str]]:
        return sorted(
            (d.ubigeo, d.distrito) for d in self.districts.values() if d.ubigeo[:4] == prov
        )


def parse_catalog(text: str) -> UbigeoCatalog:
    rows = csv.DictReader(io.StringIO(text))
    return UbigeoCatalog(
        [District(r["ubigeo"], r["departamento"], r["provincia"], r["distrito"]) for r in rows]
    )


@lru_cache(maxsize=1)
def catalog() -> UbigeoCatalog:
    """The bundled catalog (read once per process)."""
    text = resources.files("app.data").joinpath("ubigeo_inei.csv").read_text("utf-8")
    return parse_catalog(text)
