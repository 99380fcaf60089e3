import pytest

from app.core.errors import ValidationError
from app.core.identifiers import (
    check_centro_poblado,
    dni_check_chars,
    is_valid_dni,
    mask_dni,
    normalize_ce,
    normalize_dni,
)
from app.core.ubigeo import catalog


def test_dni_check_character_algorithm_by_hand():
    # 3*1+2*2+7*3+6*4+5*5+4*6+3*7+2*8 = 138; 138 % 11 = 6
    assert dni_check_chars("12345678") == ("1", "E")


@pytest.mark.parametrize(
    "value", ["12345678", "12345678-1", "12345678-E", " 1234 5678 e", "123456781"]
)
def test_dni_accepts_valid_forms(value):
    assert normalize_dni(value) == "12345678"


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("", "Ingrese"),
        ("1234567", "8 dígitos"),
        ("123456789012", "8 dígitos"),
        ("1234567A", "8 dígitos"),
        ("12345678-2", "verificación"),
        ("12345678-K", "verificación"),
    ],
)
def test_dni_rejects_with_spanish_message(value, fragment):
    with pytest.raises(ValidationError) as e:
        normalize_dni(value)
    assert fragment in e.value.user_message


def test_every_check_index_maps_to_one_digit_and_letter():
    for digits in ("00000000", "40123456", "99999999", "10000001"):
        d, letter = dni_check_chars(digits)
        assert is_valid_dni(f"{digits}-{d}") and is_valid_dni(f"{digits}-{letter}")


def test_carne_extranjeria():
    assert normalize_ce("ab-1234 56") == "AB123456"
    with pytest.raises(ValidationError):
        normalize_ce("A" * 13)
    with pytest.raises(ValidationError):
        normalize_ce("Ñ123")


def test_mask_dni():
    assert mask_dni("12345678") == "*****678"


def test_ubigeo_catalog_is_the_inei_list():
    cat = catalog()
    assert len(cat) == 1891
    assert cat.validate("070107").distrito == "Mi Perú"  # INEI, not RENIEC's 240107
    assert len(cat.departamentos()) == 25
    assert sum(len(cat.provincias(d)) for d, _ in cat.departamentos()) == 196
    assert ("150101", "Lima") in cat.distritos("1501")
    with pytest.raises(ValidationError) as e:
        cat.validate("999999")
    assert "no existe" in e.value.user_message
    with pytest.raises(ValidationError):
        cat.validate("15010")


def test_centro_poblado():
    codes = catalog().codes
    assert check_centro_poblado("1501010001", codes) == "1501010001"
    with pytest.raises(ValidationError):
        check_centro_poblado("9999990001", codes)
    with pytest.raises(ValidationError):
        check_centro_poblado("150101001", codes)
