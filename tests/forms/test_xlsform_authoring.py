"""Issue 14, "real forms from the field": XLSForm as authors write it is loaded (or
refused naming the row), and every problem is reported in one pass."""

from __future__ import annotations

import pytest

from app.forms import FormLoadError, FormSession, load_form


def problems(text: str | bytes) -> list:
    with pytest.raises(FormLoadError) as ei:
        load_form(text)
    return ei.value.problems


def md(*rows: str, head: str = "type | name | label", extra: str = "") -> str:
    return (f"| survey |\n| | {head} |\n" + "".join(f"| | {r} |\n" for r in rows) + extra)


YN = "| choices |\n| | list_name | name | label |\n| | yn | 1 | Sí |\n| | yn | 0 | No |\n"


def test_type_aliases_the_xlsform_spec_allows():
    fd = load_form(md("int | a | A", "string | b | B", "gps | c | C", "select1 yn | d | D",
                      "select one yn | e | E", "select all that apply yn | f | F",
                      "location | g | G", "hidden | h | H", "date time | i | I",
                      "barcode | j | J", "trigger | k | K", "add integer prompt | l | L",
                      extra=YN))
    types = {nd.name: nd.type for nd in fd.root.walk() if nd.kind == "question"}
    assert types == {"a": "integer", "b": "text", "c": "geopoint", "d": "select_one",
                     "e": "select_one", "f": "select_multiple", "g": "geopoint",
                     "h": "calculate", "i": "datetime", "j": "text", "k": "acknowledge",
                     "l": "integer"}


def test_same_name_in_different_groups_loads_and_a_true_duplicate_names_its_own_row():
    fd = load_form(md("begin group | g1 | G1", "integer | edad | Edad", "end group | |",
                      "begin group | g2 | G2", "integer | edad | Edad 2", "end group | |"))
    assert fd.node("/data/g1/edad").row == 3 and fd.node("/data/g2/edad").row == 6
    probs = problems(md("text | a | A", "text | b | B", "text | a | A otra vez"))
    assert [p.row for p in probs] == [4]  # the duplicate, not the first occurrence


def test_static_defaults_with_dollar_slash_and_quotes_are_literals():
    fd = load_form(md("text | precio | Precio | US$ 100", "text | frac | F | 1/2",
                      "text | q | Q | it's \"x\"", "date | d | D | 2021-10-06",
                      "integer | n | N | 5", head="type | name | label | default"))
    s = FormSession(fd)
    assert (s.get("/data/precio"), s.get("/data/frac"), s.get("/data/q")) == (
        "US$ 100", "1/2", "it's \"x\"")
    assert (s.get("/data/d"), s.get("/data/n")) == ("2021-10-06", "5")


def test_position_of_the_repeat_instance_in_a_calculation():
    fd = load_form(md("begin repeat | r | R |", "text | x | X |",
                      "calculate | n | | position(..)", "end repeat | | |",
                      head="type | name | label | calculation"))
    s = FormSession(fd)
    for _ in range(3):
        s.add_repeat("/data/r")
    assert [s.get(f"/data/r[{i}]/n") for i in (1, 2, 3)] == ["1", "2", "3"]
    s.remove_repeat("/data/r", 1)
    assert [s.get(f"/data/r[{i}]/n") for i in (1, 2)] == ["1", "2"]


def test_choice_name_follows_the_chosen_language():
    fd = load_form(
        "| survey |\n| | type | name | label::Español (es) | label::English (en) | calculation |\n"
        "| | select_one c | col | Color | Colour | |\n"
        "| | calculate | cn | | | jr:choice-name(${col}, '${col}') |\n"
        "| choices |\n| | list_name | name | label::Español (es) | label::English (en) |\n"
        "| | c | g | Verde | Green |\n")
    for lang, want in ((None, "Verde"), ("English (en)", "Green"), ("Español (es)", "Verde")):
        s = FormSession(fd, language=lang)
        s.set("/data/col", "g")
        assert s.get("/data/cn") == want


def test_trigger_with_any_calculation_and_any_question_type():
    fd = load_form(md("integer | n | N | |", "text | t | T | concat('n=', ${n}) | ${n}",
                      "dateTime | when | W | now() | ${n}",
                      head="type | name | label | calculation | trigger"))
    s = FormSession(fd)
    assert s.get("/data/t") == "" and s.get("/data/when") == ""  # not at the start
    s.set("/data/n", "4")
    assert s.get("/data/t") == "n=4" and s.get("/data/when").startswith("20")
    s.set("/data/t", "a mano")  # the person may still change it
    assert s.get("/data/t") == "a mano"


def test_select_one_from_a_repeats_answers():
    fd = load_form(md("begin repeat | miembro | Miembro |", "text | nombre | Nombre |",
                      "integer | edad | Edad |", "end repeat | | |",
                      "select_one ${nombre} | informante | Informante |",
                      "select_one ${nombre} | adulto | Adulto | ${edad} >= 18",
                      head="type | name | label | choice_filter"))
    s = FormSession(fd)
    for i, (n, a) in enumerate([("Ana", "40"), ("Luis", "12"), ("", "3")], 1):
        s.add_repeat("/data/miembro")
        s.set(f"/data/miembro[{i}]/nombre", n)
        s.set(f"/data/miembro[{i}]/edad", a)
    assert s.state("/data/informante").choices == [("Ana", "Ana"), ("Luis", "Luis")]
    assert s.state("/data/adulto").choices == [("Ana", "Ana")]  # filter per member
    s.set("/data/informante", "Luis")
    assert s.state("/data/informante").valid
    s.set("/data/miembro[2]/nombre", "Lucho")
    assert not s.state("/data/informante").valid  # the chosen member is gone
    assert s.state("/data/informante").choices == [("Ana", "Ana"), ("Lucho", "Lucho")]


def test_select_multiple_from_a_repeats_answers():
    # pyxform 4 crashes on this type; the loader reads it through the select_one form
    fd = load_form(md("begin repeat | m | M |", "text | nombre | Nombre |",
                      "integer | edad | Edad |", "end repeat | | |",
                      "select_multiple ${nombre} | varios | Varios |",
                      "select_multiple ${nombre} | menores | Menores | ${edad} < 18",
                      head="type | name | label | choice_filter"))
    assert fd.node("/data/varios").type == "select_multiple"
    s = FormSession(fd)
    for i, (n, a) in enumerate([("Ana", "40"), ("Luis", "12"), ("Eva", "9")], 1):
        s.add_repeat("/data/m")
        s.set(f"/data/m[{i}]/nombre", n)
        s.set(f"/data/m[{i}]/edad", a)
    assert [c for c, _ in s.state("/data/varios").choices] == ["Ana", "Luis", "Eva"]
    assert [c for c, _ in s.state("/data/menores").choices] == ["Luis", "Eva"]
    s.set("/data/varios", "Eva Ana")
    assert s.state("/data/varios").valid
    s.set("/data/menores", "Ana")
    assert not s.state("/data/menores").valid


def test_range_becomes_a_checked_number():
    fd = load_form(md("range | r | R | start=0 end=10 step=2", "range | x | X | ",
                      "range | d | D | start=0 end=1 step=0.1",
                      head="type | name | label | parameters"))
    assert [fd.node(f"/data/{n}").type for n in "rxd"] == ["integer", "integer", "decimal"]
    s = FormSession(fd)
    s.set("/data/r", "4")
    assert s.state("/data/r").valid
    for bad in ("3", "12"):
        s.set("/data/r", bad)
        assert not s.state("/data/r").valid
    assert "entre 0 y 10" in s.state("/data/r").message
    s.set("/data/d", "0.5")
    assert s.state("/data/d").valid


def test_metadata_types_get_laptop_values_and_keep_them():
    fd = load_form(md("start | start", "end | end", "today | today", "deviceid | deviceid",
                      "simserial | simserial", "phonenumber | phonenumber",
                      "subscriberid | subscriberid", "username | username", "email | email",
                      "text | q | Q", head="type | name | label"))
    s = FormSession(fd)
    dev = s.get("/data/deviceid")
    assert dev.startswith("siee:") and s.get("/data/start")[:2] == "20"
    assert s.get("/data/simserial") == "" and s.get("/data/username") == ""
    again = FormSession(fd, s.to_json())
    assert again.get("/data/deviceid") == dev


def test_bind_jr_preload_column():
    probs = problems(md("dateTime | inicio | I | timestamp | start",
                        "text | dev | D | property | deviceid",
                        "text | raro | R | foo | bar",
                        head="type | name | label | bind::jr:preload | bind::jr:preloadParams"))
    assert [p.row for p in probs] == [4] and "jr:preload" in probs[0].message
    fd = load_form(md("dateTime | inicio | I | timestamp | start",
                      "text | dev | D | property | deviceid",
                      head="type | name | label | bind::jr:preload | bind::jr:preloadParams"))
    assert fd.node("/data/inicio").type == "start"
    assert FormSession(fd).get("/data/dev").startswith("siee:")


def test_select_one_external_with_external_choices_sheet():
    fd = load_form(md("select_one dep | d | D |", "select_one_external prov | p | P | dep = ${d}",
                      head="type | name | label | choice_filter",
                      extra="| choices |\n| | list_name | name | label |\n| | dep | 1 | Lima |\n"
                            "| | dep | 2 | Cusco |\n"
                            "| external_choices |\n| | list_name | name | label | dep |\n"
                            "| | prov | 101 | Lima | 1 |\n| | prov | 201 | Cusco | 2 |\n"
                            "| | prov | 202 | Anta | 2 |\n"))
    s = FormSession(fd)
    s.set("/data/d", "2")
    assert s.state("/data/p").choices == [("201", "Cusco"), ("202", "Anta")]


def test_xls_workbook_is_read_by_content(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    sh = wb.add_sheet("survey")
    for r, row in enumerate([["type", "name", "label"], ["integer", "edad", "Edad"]]):
        for c, v in enumerate(row):
            sh.write(r, c, v)
    path = tmp_path / "hogar.xls"
    wb.save(str(path))
    fd = load_form(path)
    assert fd.node(f"/{fd.root.name}/edad").type == "integer"
    renamed = tmp_path / "hogar.md"  # a misnamed workbook is still a workbook
    renamed.write_bytes(path.read_bytes())
    fd2 = load_form(renamed)
    assert fd2.node(f"/{fd2.root.name}/edad").type == "integer"


def test_a_file_that_is_not_a_form_gives_a_spanish_message(tmp_path):
    p = tmp_path / "x.md"
    p.write_bytes(b"\xd0\x00\xff binary junk")
    with pytest.raises(FormLoadError) as ei:
        load_form(p)
    assert "no es un formulario" in ei.value.user_message


def test_entities_sheet_is_refused_at_load():
    probs = problems(md("text | a | A", extra="| entities |\n| | list_name | label |\n"
                                             "| | hogares | ${a} |\n"))
    assert any("entities" in p.message for p in probs)


def test_parameters_on_a_type_pyxform_does_not_read_are_kept_or_named_by_row():
    fd = load_form(md("integer | a | A | start=1 end=5", head="type | name | label | parameters"))
    assert fd.node("/data/a").parameters == {"start": "1", "end": "5"}
    probs = problems(md("integer | a | A | |", "range | b | B | start=1 end", "text | c | C | ",
                        head="type | name | label | parameters"))
    assert [p.row for p in probs] == [3] and "parameters" in probs[0].message


def test_a_pyxform_crash_is_reported_with_its_row():
    # select_one_external without choice_filter makes pyxform 4 raise KeyError
    probs = problems(md("text | a | A", "select_one_external ext | b | B",
                        extra="| external_choices |\n| | list_name | name | label |\n"
                              "| | ext | x | X |\n"))
    assert probs[0].row == 3 and "Traceback" not in probs[0].message


def test_media_questions_are_refused_in_spanish_naming_the_row():
    probs = problems(md("text | a | A", "image | foto | Foto", "audio | voz | Voz",
                        "signature | firma | Firma", "geoshape | lote | Lote", "audit | |"))
    assert [p.row for p in probs] == [3, 4, 5, 6, 7]
    assert "foto" in probs[0].message and "no está soportado" in probs[0].message
    assert "audit" in probs[4].message


def test_every_problem_in_one_pass_each_on_its_row_without_cascades():
    probs = problems(md(
        "image | foto | Foto | |",
        "integer | a | A | . > ${foto}",       # reads a refused question: no echo
        "foo | b | B | |",                    # pyxform: unknown type
        "text | c | C | bar(.)",              # engine: unknown function
        "text | d | D | ${zz} = 1",           # unknown reference
        "text | e | E | . >>> 2",             # does not parse
        head="type | name | label | constraint"))
    rows = [p.row for p in probs]
    assert rows == [2, 4, 5, 6, 7]
    assert not any("foto" in p.message and "no existe" in p.message for p in probs)


def test_a_pyxform_message_naming_several_rows_gives_one_problem_per_row():
    from app.forms.loader import _pyxform_problems

    probs = _pyxform_problems(Exception("[row : 3] bad thing. [row : 7] other thing."))
    assert [(p.row, p.message) for p in probs] == [(3, "pyxform: bad thing"),
                                                   (7, "pyxform: other thing")]
