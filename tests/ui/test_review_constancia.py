"""The household's constancia: a real PDF from Qt's writer, read back with pypdf
(a PyPI library, so the tests need no system PDF tool), with the household's names
and the CSE result."""

from __future__ import annotations

import unicodedata

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog

from app.core.errors import ValidationError
from app.demo import households
from app.ui.review.constancia import constancia_html, write_constancia_pdf
from app.ui.review.review_view import ReviewWindow
from tests.review.conftest import PASSWORDS, Team
from tests.review.helpers import post_result


def pdf_text(path) -> str:
    """Every page's text, whitespace collapsed to single spaces."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    # NFKC: the PDF's font sets «fi» as one ligature glyph
    return " ".join(unicodedata.normalize("NFKC", text).split())


@pytest.fixture
def household(ws_factory, clock):
    ws = ws_factory(create=True)
    team = Team(ws, clock)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    hh = households(1, seed=21)[0]
    team.as_("emp")
    uuid = team.fsu(hh)
    return team, hh, uuid


def test_pdf_with_names_and_result(household, tmp_path, qapp):
    team, hh, uuid = household
    ws = team.as_("emp")
    before = ws.documents.constancia(uuid)
    out = tmp_path / "pdf"
    out.mkdir()
    path = write_constancia_pdf(before, out / "constancia.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert "Constancia de empadronamiento" in text
    assert "Municipalidad Provincial de Lima" in text
    for m in hh.members:
        assert m.nombres in text and m.apellido_paterno in text
    assert hh.head.dni in text
    assert "aún no ha sido comunicada" in text  # no result yet
    assert list(out.iterdir()) == [path]  # no partial file left beside it

    ws = team.as_("sup")
    ws.review.approve(uuid)
    post_result(ws, uuid, "pobre_extremo", "2026-11-25", "2029-11-25")
    after = ws.documents.constancia(uuid)
    path = write_constancia_pdf(after, tmp_path / "con-resultado.pdf")
    text = pdf_text(path)
    assert "Clasificación socioeconómica (CSE) del hogar, comunicada por el SIEE:" in text
    assert "Pobre extremo" in text
    # one consistent statement: nothing on the page says it is not the classification
    assert "no es la clasificación" not in text
    assert "transcribe el resultado que el SIEE comunicó" in text
    assert "Vigente hasta: 25/11/2029" in text and "25/11/2026" in text
    assert hh.head.nombres in text
    assert "Rosa Quispe (sup)" in text  # who issued it


def test_html_escapes_what_people_typed(household, qapp):
    team, _hh, uuid = household
    data = team.as_("emp").documents.constancia(uuid)
    data.head_name = "<b>Quispe</b> & Cía"
    html = constancia_html(data)
    assert "&lt;b&gt;Quispe&lt;/b&gt; &amp; Cía" in html and "<b>Quispe</b>" not in html


def test_forbidden_characters_never_reach_the_constancia(household, qapp):
    team, _hh, uuid = household
    data = team.as_("emp").documents.constancia(uuid)
    data.head_name = "Quispe\x01\x0b Mamani\x1d"
    html = constancia_html(data)
    assert "Quispe Mamani" in html
    assert not any(c in html for c in "\x01\x0b\x1d")


def test_missing_folder_is_refused(household, tmp_path, qapp):
    team, _hh, uuid = household
    with pytest.raises(ValidationError):
        write_constancia_pdf(team.as_("emp").documents.constancia(uuid), tmp_path / "no" / "c.pdf")


def test_saved_from_the_review_window(household, tmp_path, qtbot, monkeypatch):
    team, hh, uuid = household
    ws = team.as_("sup")
    target = tmp_path / "desde-revision"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    w = ReviewWindow(ws, uuid)
    qtbot.addWidget(w)
    assert w.pdf_btn.isEnabled()
    w.save_constancia()
    pdf = tmp_path / "desde-revision.pdf"
    assert pdf.exists() and hh.head.nombres in pdf_text(pdf)
    assert ws.history(uuid)[0].action == "constancia"


def test_printed_page_has_the_same_content(household, tmp_path, qapp):
    """What «Imprimir» sends to a printer, captured as the printer's PDF output."""
    from PySide6.QtGui import QPageSize
    from PySide6.QtPrintSupport import QPrinter

    from app.ui.common.pdf import print_document
    from app.ui.review.constancia import _document

    team, hh, uuid = household
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setOutputFileName(str(tmp_path / "impresa.pdf"))
    print_document(_document(team.as_("emp").documents.constancia(uuid)), printer)
    del printer
    text = pdf_text(tmp_path / "impresa.pdf")
    assert "Constancia de empadronamiento" in text and hh.head.nombres in text


def test_the_cse_result_shows_in_the_list_and_in_the_opened_record(household, shell, qtbot):
    team, _hh, uuid = household
    ws = team.as_("sup")
    ws.review.approve(uuid)
    post_result(ws, uuid, "no_pobre", "2026-11-25", "2029-11-25")
    ws.logout()
    win = shell()
    win.start()
    win.login_page.user.setCurrentText("sup")
    win.login_page.password.setText(PASSWORDS["sup"])
    win.login_page.submit()
    page = win.records_page
    page.reload()
    qtbot.waitUntil(
        lambda: any(r.meta.uuid == uuid for r in page.model.rows) and page.load_job.done,
        timeout=5000,
    )
    row = next(r for r in page.model.rows if r.meta.uuid == uuid)
    shown = row.cells()[6]
    assert shown == "CSE: No pobre · del 25/11/2026 · vigente hasta 25/11/2029"
    w = win.open_record(uuid)
    assert "Resultado del SIEE — CSE: No pobre" in w.banner.text()
    assert "vigente hasta 25/11/2029" in w.banner.text()
    assert w.banner.objectName() == "ok"  # good news, not a red read-only warning
    w.close()
