"""The guided first survey (issue 18 item 4): one short Spanish hint per FSU section,
shown in practice mode the first time a trainee enters the section (what to ask,
what the codes mean, where people go wrong). Keys are the section's name in the
form (the group or repeat name)."""

from __future__ import annotations

HINTS: dict[str, str] = {
    "ubicacion": (
        "Ubicación: copie el ubigeo (departamento, provincia, distrito) del recibo de luz "
        "o agua, no del DNI: el DNI usa otra codificación. Escriba el código y Enter; "
        "deje en blanco (solo Enter) lo que la ficha no tiene, como block o kilómetro."),
    "vivienda": (
        "Vivienda: pregunte por el material que más predomina (paredes, techos, pisos). "
        "Cada respuesta es un código: escriba el número que figura en la ficha. El error "
        "frecuente es confundir «propia totalmente pagada» con «propia pagándola a plazos»."),
    "hogar": (
        "Hogar: las habitaciones no cuentan baño, cocina, pasadizos ni garaje. En "
        "equipamiento escriba todos los códigos separados por espacio. El número de "
        "personas debe coincidir con los integrantes que va a registrar."),
    "integrantes": (
        "Integrantes: empiece siempre por el jefe o jefa del hogar (código 1); solo puede "
        "haber uno, y un solo cónyuge. Copie nombres y fecha de nacimiento del DNI. Un "
        "recién nacido sin DNI lleva tipo de documento 4 (no tiene)."),
    "resumen": (
        "Resumen: el programa calcula estos datos solo; si algo no cuadra, vuelva a la "
        "sección de integrantes y corrija allí."),
    "control": (
        "Control de la visita: el informante es el número de orden de un integrante "
        "adulto que respondió. El resultado 1 es «completa»; use otro solo si la visita "
        "no se pudo completar."),
}


def section_of(path: str) -> str:
    """The hint key of a page path: "/fsu/integrantes[2]" -> "integrantes"."""
    parts = [p for p in path.split("/") if p]
    return parts[1].split("[")[0] if len(parts) > 1 else ""
