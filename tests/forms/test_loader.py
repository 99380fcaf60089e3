"""Loading XLSForms: what is kept, what is refused (with the row), caching."""

from __future__ import annotations

import time

import pytest

from app.core.errors import SieeError
from app.forms import FormLoadError, bundled_form, list_bundled, load_form, loader
from app.forms.graph import program_of
from app.forms.xlsx import md_to_xlsx

from .conftest import DATA

HEAD = "| survey |\n| | type | name | label | relevant | constraint | calculation |\n"


def form(*rows: str, settings: str = "") -> str:
    return HEAD + "".join(f"| | {r} |\n" for r in rows) + settings


def problems(text: str) -> list:
    with pytest.raises(FormLoadError) as ei:
        load_form(text)
    assert isinstance(ei.value, SieeError)
    assert ei.value.user_message.startswith("El formulario no es válido")
    return ei.value.problems


def test_demo_form_definition(demo_def):
    fd = demo_def
    assert (fd.form_id, fd.version, fd.title) == ("demo", "3", "Formulario de prueba")
    assert fd.root.name == "demo"
    assert fd.languages == ["Español (es)", "Quechua (qu)"]
    nombre = fd.node("/demo/nombre")
    assert nombre.labels == {"Español (es)": "Nombre", "Quechua (qu)": "Suti"}
    assert nombre.hint("Español (es)") == "Nombre completo"
    assert nombre.required == "true()"
    assert nombre.required_msgs["Español (es)"] == "Falta el nombre"
    assert nombre.constraint == "string-length(.) >= 2"
    assert nombre.constraint_msgs["Español (es)"] == "Nombre muy corto"
    n = fd.node("/demo/n")
    assert n.warning == ". < 10" and n.warning_msgs["Español (es)"] == "Número alto: confirme"
    assert fd.node("/demo/color").appearance == "minimal"
    assert fd.node("/demo/color").type == "select_one"
    assert fd.node("/demo/frutas").type == "select_multiple"
    assert fd.node("/demo/miembros").kind == "repeat"
    assert fd.node("/demo/miembros[2]/medad").type == "integer"
    assert fd.node("/demo/miembros/doble").calculation == "/demo/miembros/medad * 2"
    assert fd.node("/demo/fijos").repeat_count == "/demo/n"
    assert fd.node("/demo/fijo").readonly == "true()"
    assert fd.node("/demo/fijo").default == "abc"
    assert fd.node("/demo/trig").trigger == [("demo", "n")]
    assert fd.node("/demo/filtrado").choice_filter == "grupo = /demo/familia"
    assert [c.name for c in fd.choices["color"]] == ["r", "g", "b"]
    assert fd.choices["color"][0].labels["Quechua (qu)"] == "Puka"
    assert fd.choices["color"][2].extra == {"grupo": "f"}
    assert {nd.type for nd in fd.root.walk() if nd.kind == "question"} >= {
        "text", "integer", "decimal", "select_one", "select_multiple", "date", "note",
        "calculate", "acknowledge", "geopoint"}
    assert "meta" not in fd.root.children[-1].path


def test_xlsx_and_markdown_give_the_same_form(tmp_path, demo_def):
    out = md_to_xlsx((DATA / "demo.md").read_text("utf-8"), tmp_path / "demo.xlsx")
    fd = load_form(out)
    assert list(fd.by_path) == list(demo_def.by_path)
    assert fd.node("/demo/nombre").labels == demo_def.node("/demo/nombre").labels


def test_unknown_type_is_refused_with_its_row():
    probs = problems(form("integer | a | A | | |", "foo | b | B | | |"))
    assert probs[0].row == 3  # the header is row 1
    assert "foo" in probs[0].message


def test_unsupported_type_is_refused_with_its_row():
    probs = problems(form("integer | a | A | | |", "image | foto | Foto | | |"))
    assert probs[0].row == 3
    assert "foto" in probs[0].message and "no está soportado" in probs[0].message


def test_unknown_reference_is_refused_with_its_row():
    probs = problems(form("integer | a | A | | |", "text | b | B | ${zz} > 1 | |"))
    assert probs[0].row == 3
    assert "zz" in probs[0].message


def test_engine_problems_are_all_listed_with_rows():
    probs = problems(form(
        "integer | a | A | | |",
        "text | b | B | | foo(.) |",
        "text | c | C | | . >>> 2 |",
        "text | d | D | | ../x = @y |",
    ))
    assert [p.row for p in probs] == [3, 4, 5]
    assert "foo" in probs[0].message
    assert str(probs[0]).startswith("fila 3: ")


def test_select_from_repeat_answers_of_a_missing_question_is_refused():
    probs = problems(
        "| survey |\n| | type | name | label |\n| | begin repeat | r | R |\n"
        "| | text | n | N |\n| | end repeat | | |\n| | text | t | T |\n"
        "| | select_one ${t} | x | X |\n")
    assert probs[0].row == 6 and "repetición" in probs[0].message


def test_circular_calculations_are_refused():
    probs = problems(form(
        "calculate | x | | | | ${y} + 1",
        "calculate | y | | | | ${x} + 1",
    ))
    assert "circular" in probs[0].message


def test_missing_choice_file_is_refused():
    probs = problems(
        "| survey |\n| | type | name | label |\n"
        "| | select_one_from_file nada.csv | a | A |\n")
    assert probs[0].row == 2 and "nada.csv" in probs[0].message


def test_choice_file_next_to_the_form(tmp_path):
    (tmp_path / "frutas.csv").write_text("name,label,tipo\na,Manzana,x\nb,Pera,y\n", "utf-8")
    (tmp_path / "f.md").write_text(
        "| survey |\n| | type | name | label | choice_filter |\n"
        "| | select_one_from_file frutas.csv | a | A | tipo = 'y' |\n", "utf-8")
    from app.forms import FormSession

    s = FormSession(load_form(tmp_path / "f.md"))
    assert s.state("/data/a").choices == [("b", "Pera")]


def test_not_a_form_is_refused_without_traceback(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FormLoadError):
        load_form(p)
    with pytest.raises(FormLoadError):
        load_form(tmp_path / "missing.xlsx")


def test_disk_cache_is_used_and_fast(tmp_path):
    src = (DATA / "demo.md").read_bytes() + b"\n"
    loader.clear_memory_cache()
    fd1 = load_form(src, cache_dir=tmp_path)
    assert list(tmp_path.glob("form-*.pickle"))
    loader.clear_memory_cache()
    t = time.perf_counter()
    fd2 = load_form(src, cache_dir=tmp_path)
    assert time.perf_counter() - t < 0.5
    assert fd2 is not fd1 and list(fd2.by_path) == list(fd1.by_path)
    assert load_form(src, cache_dir=tmp_path) is fd2  # memory cache


def test_corrupt_cache_is_rebuilt(tmp_path):
    src = (DATA / "demo.md").read_bytes() + b"\n\n"
    loader.clear_memory_cache()
    load_form(src, cache_dir=tmp_path)
    for p in tmp_path.glob("form-*.pickle"):
        p.write_bytes(b"garbage")
    loader.clear_memory_cache()
    assert load_form(src, cache_dir=tmp_path).form_id == "demo"


def test_bundled_forms():
    ids = {f for f, _v, _t in list_bundled()}
    assert ids == {"fsu", "s100", "visita", "desestimacion"}
    for fid, version, title in list_bundled():
        fd = bundled_form(fid)
        assert (fd.form_id, fd.version, fd.title) == (fid, version, title)
    assert bundled_form("fsu") is bundled_form("fsu")
    with pytest.raises(SieeError):
        bundled_form("nope")


def test_fsu_ubigeo_catalog_is_not_put_through_pyxform(fsu_def):
    assert fsu_def.node("/fsu/ubicacion/distrito").list_name == "ubigeo_distritos.csv"
    assert "ubigeo_distritos.csv" not in fsu_def.choices
    lst = program_of(fsu_def).choice_list(fsu_def.node("/fsu/ubicacion/distrito"))
    assert len(lst.choices) >= 1800
