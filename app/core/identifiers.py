"""Peruvian identifiers: DNI (with check character), carné de extranjería,
ubigeo (INEI) and centro poblado. Pure functions; the ubigeo catalog is
passed in or read from the package data (see app.core.ubigeo)."""

from __future__ import annotations

import re

from app.core.errors import ValidationError
from app.core.memo import memo_by_text
from app.core.text import canonical_number_text

DNI_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
DNI_CHECK_DIGITS = "65432110987"
DNI_CHECK_LETTERS = "KJIHGFEDCBA"

_DNI_RE = re.compile(r"^([0-9]{8})(?:-?([0-9A-Z]))?$")
_CE_RE = re.compile(r"^[A-Z0-9]{1,12}$")
_SPACES = re.compile(r"\s+")


def dni_check_index(digits: str) -> int:
    return sum(w * int(d) for w, d in zip(DNI_WEIGHTS, digits, strict=True)) % 11


def dni_check_chars(digits: str) -> tuple[str, str]:
    """The (digit, letter) check characters printed on the card for `digits`."""
    c = dni_check_index(digits)
    return DNI_CHECK_DIGITS[c], DNI_CHECK_LETTERS[c]


def normalize_dni(value: str) -> str:
    """Return the 8 digits of a DNI; raise ValidationError with a Spanish message.

    Accepts '12345678', '12345678-5', '12345678 K' (spaces ignored); the check
    character is optional, but must match when given. Digits of any script (e.g.
    full-width '１２３４５６７８') are read as ASCII digits first (NFKC), so the same
    person typed either way gives the same DNI in the index and the duplicate check."""
    raw = _SPACES.sub("", canonical_number_text(str(value or ""))).upper()
    if not raw:
        raise ValidationError("empty DNI", "Ingrese el número de DNI.")
    m = _DNI_RE.match(raw)
    if not m:
        raise ValidationError(
            f"malformed DNI {len(raw)} chars",
            "El DNI debe tener 8 dígitos (opcionalmente seguido de su carácter de verificación).",
        )
    digits, check = m.group(1), m.group(2)
    if check is not None and check not in dni_check_chars(digits):
        raise ValidationError(
            "DNI check character mismatch",
            "El carácter de verificación no corresponde al DNI. Revise el número.",
        )
    return digits


@memo_by_text()  # a member's DNI is read by two rules of the FSU (dni, num_doc)
def is_valid_dni(value: str) -> bool:
    """Whether `value` is a DNI normalize_dni accepts."""
    try:
        normalize_dni(value)
    except ValidationError:
        return False
    return True


def normalize_ce(value: str) -> str:
    """Carné de extranjería: alphanumeric, up to 12 characters."""
    raw = re.sub(r"[\s-]+", "", canonical_number_text(str(value or ""))).upper()
    if not _CE_RE.match(raw):
        raise ValidationError(
            "malformed carne de extranjeria",
            "El carné de extranjería debe tener hasta 12 letras o números.",
        )
    return raw


def normalize_document(doc_type: str, value: str) -> str:
    """Normalize a document number by type ('dni', 'ce'); others are trimmed."""
    t = (doc_type or "").lower()
    if t == "dni":
        return normalize_dni(value)
    if t in ("ce", "carne", "carne_extranjeria"):
        return normalize_ce(value)
    return re.sub(r"\s+", "", str(value or "")).upper()


def mask_dni(digits: str, visible: int = 3) -> str:
    """'12345678' -> '*****678' for lists shown on a shared screen."""
    d = str(digits or "")
    if len(d) <= visible:
        return d
    return "*" * (len(d) - visible) + d[-visible:]


def check_ubigeo_format(value: str) -> str:
    v = str(value or "").strip()
    if not re.fullmatch(r"\d{6}", v):
        raise ValidationError("malformed ubigeo", "El ubigeo debe tener 6 dígitos (DDPPDD).")
    return v


def check_centro_poblado(value: str, known_ubigeo: frozenset[str] | set[str]) -> str:
    """INEI centro poblado code: 10 digits, the first 6 an existing ubigeo."""
    v = str(value or "").strip()
    if not re.fullmatch(r"\d{10}", v):
        raise ValidationError(
            "malformed centro poblado code",
            "El código de centro poblado debe tener 10 dígitos (ubigeo + 4).",
        )
    if v[:6] not in known_ubigeo:
        raise ValidationError(
            "centro poblado in unknown ubigeo",
            "El código de centro poblado no corresponde a ningún distrito del catálogo INEI.",
        )
    return v


# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand is not
# mistaken (1/I/L, 0/O).
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def case_reference(case_uuid: str) -> str:
    """The «N° de expediente» people read, say and write down for a case (the request,
    S100): "EXP-" and 8 characters of Crockford's base 32 in two groups of four, e.g.
    "EXP-2D9K-7QM3". It is the first 40 bits of the case's uuid (the S100's own uuid),
    so every laptop and the centre derive the same reference without a counter to keep
    in step; within a ULE's few thousand cases a clash is very unlikely (about 1 in
    2 million for 1,000 cases). `case_uuid` is a uuid in text form; "" gives "" (no case),
    and text that is not hexadecimal raises ValueError."""
    hexdigits = (case_uuid or "").replace("-", "")[:10]
    if not hexdigits:
        return ""
    n = int(hexdigits.ljust(10, "0"), 16)
    chars = "".join(_CROCKFORD[(n >> shift) & 31] for shift in range(35, -1, -5))
    return f"EXP-{chars[:4]}-{chars[4:]}"
