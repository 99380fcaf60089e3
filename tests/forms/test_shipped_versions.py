"""Every form version a program shipped stays readable after an update.

app/forms/bundled/history keeps the versions earlier programs shipped; the form
library finds them, and `keep_shipped` copies every shipped version into a
laptop's forms store (real files in a temporary folder), so a version survives
even a later program that no longer ships it."""

from __future__ import annotations

import os
import stat

import pytest

import app.forms.library as library_mod
from app.core.errors import NotFound
from app.forms import list_bundled, load_form, shipped_form, shipped_versions
from app.forms.bundled import _settings, bundled_form, list_history
from app.forms.library import FormLibrary

OLD = "2026112702"


def test_history_holds_the_versions_laptops_in_the_field_used():
    held = {(f, v) for f, v, _ in list_history()}
    assert {("fsu", OLD), ("s100", OLD), ("fsu", "2026112701"), ("s100", "2026112701")} <= held


@pytest.mark.parametrize("entry", list_history(), ids=lambda e: e[2].name)
def test_each_history_file_is_the_version_its_name_says(entry):
    form_id, version, path = entry
    assert _settings(path.read_text("utf-8"))[0] == version
    fd = load_form(path)
    assert (fd.form_id, str(fd.version)) == (form_id, version)
    current = dict((f, v) for f, v, _t in list_bundled())[form_id]
    # A change of content takes a new, higher version; the replaced one goes to history.
    assert int(version) < int(current)


def test_shipped_versions_are_current_and_earlier_each_once():
    pairs = [(f, v) for f, v, _ in shipped_versions()]
    assert len(pairs) == len(set(pairs))
    assert {(f, str(v)) for f, v, _t in list_bundled()} <= set(pairs)
    assert shipped_form("fsu", OLD).version == OLD
    assert shipped_form("fsu", str(bundled_form("fsu").version)) is bundled_form("fsu")
    assert shipped_form("fsu", "1999") is None


def test_library_reads_earlier_versions_without_any_installed_file(tmp_path):
    lib = FormLibrary(tmp_path / "forms")
    assert str(lib.get("s100", OLD).version) == OLD
    assert not lib.is_bundled("s100", OLD)
    with pytest.raises(NotFound):
        lib.get("s100", "1999")


def test_keep_shipped_copies_every_shipped_version_once(tmp_path):
    lib = FormLibrary(tmp_path / "forms")
    written = lib.keep_shipped()
    assert {p.name for p in written} == {f"{f}-{v}.md" for f, v, _ in shipped_versions()}
    for form_id, version, source in shipped_versions():
        copy = lib.path(form_id, version)
        assert copy is not None and copy.read_bytes() == source.read_bytes()
        if os.name == "posix":
            assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not list((tmp_path / "forms").glob(".part-*"))
    assert lib.keep_shipped() == []  # nothing missing any more


def test_keep_shipped_never_replaces_a_version_already_held(tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    centre_copy = forms / f"fsu-{OLD}.xlsx"  # the centre sent that version as a workbook
    centre_copy.write_bytes(b"centre bytes")
    earlier = forms / f"s100-{OLD}.md"
    earlier.write_text("an earlier copy", "utf-8")
    written = FormLibrary(forms).keep_shipped()
    assert centre_copy.read_bytes() == b"centre bytes"
    assert earlier.read_text("utf-8") == "an earlier copy"
    assert not (forms / f"fsu-{OLD}.md").exists()
    assert forms / f"fsu-{OLD}.md" not in written


def test_a_version_copied_once_survives_a_program_that_no_longer_ships_it(tmp_path,
                                                                           monkeypatch):
    lib = FormLibrary(tmp_path / "forms")
    lib.keep_shipped()
    current = str(bundled_form("fsu").version)
    # The next program: it ships neither 2026112702 nor today's version any more.
    monkeypatch.setattr(library_mod, "shipped_form", lambda f, v: None)
    monkeypatch.setattr(library_mod, "list_bundled", lambda: [])
    for version in (OLD, current):
        assert str(lib.get("fsu", version).version) == version
    with pytest.raises(NotFound):
        FormLibrary(tmp_path / "other").get("fsu", OLD)  # a laptop that never copied it


def test_opening_a_workspace_keeps_the_shipped_versions(ws_factory, data_dir):
    ws_factory(create=True)
    assert {p.name for p in (data_dir / "forms").glob("*.md")} >= {
        f"{f}-{v}.md" for f, v, _ in shipped_versions()}


def test_a_forms_store_that_cannot_be_written_does_not_stop_the_opening(ws_factory, data_dir):
    ws = ws_factory(create=True)
    ws.close()
    for p in (data_dir / "forms").iterdir():
        p.unlink()
    (data_dir / "forms").rmdir()
    (data_dir / "forms").write_bytes(b"")  # a file where the folder should be
    ws = ws_factory()
    assert str(ws.forms.get("fsu", OLD).version) == OLD  # the package still has it
