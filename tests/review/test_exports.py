"""Supervisor exports read back with csv and openpyxl: rows, Spanish labels,
choice labels, typed cells, the audit entry, cancelling, refusing."""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile

import openpyxl
import pytest

from app.core.states import State
from app.workspace.exports import ExportCancelled

EVIL = "=HYPERLINK(\"http://x\",\"clic\")"


def _csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def out(tmp_path, monkeypatch):
    """The folder the person chooses; the system temp folder is watched too."""
    systemp = tmp_path / "temp-del-sistema"
    systemp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(systemp))
    folder = tmp_path / "exportes"
    folder.mkdir()
    yield folder
    assert list(systemp.iterdir()) == []  # no copy of the data went to the temp folder


@pytest.fixture
def exported(team, homes):
    ws = team.as_("emp")
    uuids = [team.fsu(h) for h in homes[:3]]
    team.fsu(homes[3], **{"/fsu/ubicacion/nombre_via": EVIL})
    team.s100(homes[4])
    ws = team.as_("sup")
    ws.review.approve(uuids[0])
    return ws, uuids


def test_record_list_csv_and_xlsx(exported, homes, out):
    ws, uuids = exported
    res = ws.documents.export_data("records", "csv", out / "fichas.csv")
    rows = _csv(out / "fichas.csv")
    assert res.rows == 5 and len(rows) == 6
    head = rows[0]
    assert head[:5] == ["Código de ficha", "Formulario", "Estado", "Revisión",
                        "Jefe de hogar / solicitante"]
    by_uuid = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    first = by_uuid[uuids[0]]
    assert first["Estado"] == "En cola de envío"
    assert first["Formulario"] == "Ficha Socioeconómica Única (FSU)"
    assert first["Jefe de hogar / solicitante"] == homes[0].head.full_name
    assert first["DNI"] == homes[0].head.dni
    assert first["Empadronador(a)"] == "Juan Pérez (emp)"
    assert first["Aprobada por"] == "Rosa Quispe (sup)"
    assert first["N° de integrantes"] == str(len(homes[0].members))
    assert by_uuid[uuids[1]]["Estado"] == "Completa"
    assert {r["Formulario"] for r in by_uuid.values()} == {
        "Ficha Socioeconómica Única (FSU)", "Solicitud de Clasificación Socioeconómica (S100)"
    }
    # filtered by state, as xlsx
    ws.documents.export_data("records", "xlsx", out / "cola.xlsx", state=State.QUEUED)
    sheet = openpyxl.load_workbook(out / "cola.xlsx").active
    values = list(sheet.values)
    assert sheet.title == "Fichas" and len(values) == 2
    assert values[1][0] == uuids[0] and values[1][2] == "En cola de envío"
    assert isinstance(values[1][11], dt.datetime)  # Fecha de registro is a real date
    # each export is in the audit log, with the file name only
    entries = ws.admin.audit_entries(action="export")
    assert [e.detail["file"] for e in entries] == ["cola.xlsx", "fichas.csv"]
    assert entries[0].detail["rows"] == 1 and entries[0].detail["kind"].startswith("records:")
    assert entries[0].user_id == ws.user.id
    # only the chosen files were written: no temporary copies left beside them
    assert sorted(p.name for p in out.iterdir()) == ["cola.xlsx", "fichas.csv"]


def test_answers_with_labels_and_typed_cells(exported, homes, out):
    ws, uuids = exported
    seen_tmp: list[list[str]] = []

    def progress(i: int, n: int) -> None:  # while rows stream out
        seen_tmp.append(os.listdir(tempfile.gettempdir()))

    res = ws.documents.export_data(
        "answers", "xlsx", out / "respuestas.xlsx", form_id="fsu", progress=progress
    )
    assert res.rows == 4
    assert len(seen_tmp) == 4 and not any(seen_tmp)
    sheet = openpyxl.load_workbook(out / "respuestas.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    head = rows[0]
    for label in ("Código de ficha", "Departamento", "Distrito", "Tipo de vivienda",
                  "El hogar tiene", "¿Cuántas personas viven en este hogar?",
                  "Fecha de la visita", "Resultado de la visita"):
        assert label in head, label
    assert not any(h.startswith("/") for h in head)  # no raw paths
    data = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    row = data[uuids[0]]
    assert row["Resultado de la visita"] == "Completa"
    assert row["Tipo de vivienda"] in {"Casa independiente", "Departamento en edificio",
                                       "Choza o cabaña"}
    assert row["¿Cuántas personas viven en este hogar?"] == len(homes[0].members)
    assert row["Fecha de la visita"] == dt.datetime(2026, 11, 2)
    assert ";" in row["El hogar tiene"] or row["El hogar tiene"]
    assert row["Departamento"] and not row["Departamento"].isdigit()  # a name, not a code
    # a text that looks like a formula stays text
    evil = next(r for r in data.values() if r["Nombre de la vía"] == EVIL)
    assert evil is not None
    wb = openpyxl.load_workbook(out / "respuestas.xlsx")
    col = head.index("Nombre de la vía") + 1
    cells = [wb.active.cell(row=i, column=col) for i in range(2, 6)]
    assert all(c.data_type == "s" for c in cells if c.value)
    # the same as csv: formula-looking text is quoted
    ws.documents.export_data("answers", "csv", out / "respuestas.csv", form_id="fsu")
    rows = _csv(out / "respuestas.csv")
    assert len(rows) == 5
    i = rows[0].index("Nombre de la vía")
    assert "'" + EVIL in [r[i] for r in rows[1:]]
    j = rows[0].index("Fecha de la visita")
    assert {r[j] for r in rows[1:]} == {"02/11/2026"}


def test_members_one_row_per_person(exported, homes, out):
    ws, uuids = exported
    res = ws.documents.export_data("members", "csv", out / "integrantes.csv", form_id="fsu")
    rows = _csv(out / "integrantes.csv")
    expected = sum(len(h.members) for h in homes[:4])
    assert res.rows == expected and len(rows) == expected + 1
    head = rows[0]
    assert head[:3] == ["Código de ficha", "Jefe de hogar / solicitante", "N° de orden"]
    mine = [dict(zip(head, r, strict=True)) for r in rows[1:] if r[0] == uuids[0]]
    assert [m["N° de orden"] for m in mine] == [str(i) for i in range(1, len(mine) + 1)]
    hh = homes[0]
    assert mine[0]["Parentesco con el jefe del hogar"] == "Jefe/jefa del hogar"
    assert mine[0]["Nombres"] == hh.head.nombres
    assert mine[0]["Sexo"] in {"Hombre", "Mujer"}
    assert mine[0]["Fecha de nacimiento"] == hh.head.birth.strftime("%d/%m/%Y")
    assert {m["Apellido paterno"] for m in mine} >= {hh.head.apellido_paterno}
    # s100 members have their own fields
    ws.documents.export_data("members", "xlsx", out / "s100.xlsx", form_id="s100")
    head = next(openpyxl.load_workbook(out / "s100.xlsx").active.values)
    assert "Apellidos" in head and "Nombres" in head


def test_cancelled_export_leaves_nothing(exported, out):
    ws, _ = exported
    before = len(ws.admin.audit_entries(action="export"))
    seen = []
    with pytest.raises(ExportCancelled):
        ws.documents.export_data(
            "answers", "xlsx", out / "x.xlsx", form_id="fsu",
            progress=lambda i, n: seen.append(i), cancelled=lambda: len(seen) >= 2,
        )
    assert list(out.iterdir()) == []
    assert len(ws.admin.audit_entries(action="export")) == before
    # an existing file is left as it was when the export is cancelled
    target = out / "x.csv"
    target.write_text("anterior")
    with pytest.raises(ExportCancelled):
        ws.documents.export_data("records", "csv", target, cancelled=lambda: True)
    assert target.read_text() == "anterior" and list(out.iterdir()) == [target]


def test_export_refusals(exported, out):
    ws, _ = exported
    from app.core.errors import ValidationError

    with pytest.raises(ValidationError):
        ws.documents.export_data("answers", "csv", out / "a.csv")  # which form?
    with pytest.raises(ValidationError):
        ws.documents.export_data("records", "pdf", out / "a.pdf")
    with pytest.raises(ValidationError):
        ws.documents.export_data("records", "csv", out / "no-existe" / "a.csv")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_forbidden_characters_are_removed_from_exported_cells(out, fmt):
    """The one text rule (app.core.text.xml_safe) applies to exports too: a scanner's
    0x1D or a pasted control character never breaks the file."""
    from app.workspace.exports import Column, Table, write_table

    table = Table("Prueba", [Column("a", "Texto")], [["a\x01b\x0bc"], ["12\x1d34"]])
    path = out / f"prueba.{fmt}"
    write_table(path, table, fmt)
    if fmt == "csv":
        rows = _csv(path)[1:]
    else:
        ws = openpyxl.load_workbook(path).active
        rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert rows == [["abc"], ["1234"]]
