"""Business days for the official targets (DOMAIN.md): a home visit within 8
business days of the S100 request, a CSE result within 25 business days.

Business days are Monday to Friday without Peru's national holidays (fixed
dates, plus Holy Thursday and Good Friday). Regional holidays and days off
decreed at short notice are not known here; the counts are a guide for the
supervisor, not a legal computation."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

VISIT_TARGET_DAYS = 8
RESULT_TARGET_DAYS = 25

# (month, day) of the national holidays (Ley 31788 and earlier laws).
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {
        (1, 1),  # Año Nuevo
        (5, 1),  # Día del Trabajo
        (6, 7),  # Batalla de Arica y Día de la Bandera
        (6, 29),  # San Pedro y San Pablo
        (7, 23),  # Día de la Fuerza Aérea del Perú
        (7, 28),  # Fiestas Patrias
        (7, 29),  # Fiestas Patrias
        (8, 6),  # Batalla de Junín
        (8, 30),  # Santa Rosa de Lima
        (10, 8),  # Combate de Angamos
        (11, 1),  # Todos los Santos
        (12, 8),  # Inmaculada Concepción
        (12, 9),  # Batalla de Ayacucho
        (12, 25),  # Navidad
    }
)


def easter(year: int) -> dt.date:
    """Easter Sunday (Gregorian calendar, anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=64)
def holidays(year: int) -> frozenset[dt.date]:
    e = easter(year)
    days = {dt.date(year, m, d) for m, d in FIXED_HOLIDAYS}
    days |= {e - dt.timedelta(days=3), e - dt.timedelta(days=2)}  # Jueves y Viernes Santo
    return frozenset(days)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    n, day = 0, start
    one = dt.timedelta(days=1)
    # Whole weeks first: each has 5 weekdays minus the holidays among them.
    while (end - day).days > 7:
        week_end = day + dt.timedelta(days=7)
        n += 5 - sum(
            1
            for h in holidays(day.year) | holidays(week_end.year)
            if day < h <= week_end and h.weekday() < 5
        )
        day = week_end
    while day < end:
        day += one
        if is_business_day(day):
            n += 1
    return n


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The date `days` business days after `start`."""
    day = start
    one = dt.timedelta(days=1)
    left = days
    while left > 0:
        day += one
        if is_business_day(day):
            left -= 1
    return day


def deadline_text(elapsed: int, target: int) -> str:
    """Spanish status of a target, e.g. 'vence hoy' or 'vencido hace 2 días hábiles'."""
    left = target - elapsed
    if left > 1:
        return f"a tiempo: quedan {left} días hábiles"
    if left == 1:
        return "vence mañana (queda 1 día hábil)"
    if left == 0:
        return "vence hoy"
    late = -left
    return f"vencido hace {late} día{'s' if late > 1 else ''} hábil{'es' if late > 1 else ''}"
