"""The IT settings file: reading, checking, precedence against the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import NotAllowed, ValidationError
from app.workspace import DEFAULT_SETTINGS
from app.workspace.settings import load_file_settings, merge, sources


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_reads_checks_and_reports_in_spanish(tmp_path: Path) -> None:
    ca = write(tmp_path / "prog" / "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    prog = write(
        tmp_path / "prog" / "siee-campo.toml",
        'server_url = "https://siee.midis.gob.pe/"\nca_bundle = "ca.pem"\n'
        'ule_ubigeo = "080108"\nautolock_minutes = 5\nreview_required = false\n'
        'color = "azul"\nlocked = ["server_url", "nada"]\n',
    )
    fs = load_file_settings([("programa", prog)])
    assert fs.values == {
        "server_url": "https://siee.midis.gob.pe",
        "ca_bundle": str(ca),
        "ule_ubigeo": "080108",
        "autolock_minutes": 5,
        "review_required": False,
    }
    assert fs.locked == {"server_url"} and fs.files == [prog]
    assert any("opción desconocida «color»" in e for e in fs.errors)
    assert any("nada" in e for e in fs.errors)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('server_url = "http://siee.gob.pe"', "solo se permite 127.0.0.1"),
        ('server_url = "ftp://x"', "https://"),
        ('ule_ubigeo = "999999"', "no existe en el catálogo"),
        ("autolock_minutes = -1", "entre 0 y"),
        ("autolock_minutes = true", "número entero"),
        ('review_required = "si"', "true o false"),
        ('ca_bundle = "no-existe.pem"', "no existe el archivo"),
        ("server_url = [", "no es un archivo TOML válido"),
    ],
)
def test_bad_values_are_ignored_with_a_reason(tmp_path: Path, line: str, fragment: str) -> None:
    f = write(tmp_path / "siee-campo.toml", line + "\n")
    fs = load_file_settings([("equipo", f)])
    assert fs.values == {}
    assert len(fs.errors) == 1 and fragment in fs.errors[0], fs.errors


def test_http_to_loopback_is_allowed(tmp_path: Path) -> None:
    f = write(tmp_path / "s.toml", 'server_url = "http://127.0.0.1:8080"\n')
    assert load_file_settings([("equipo", f)]).values["server_url"] == "http://127.0.0.1:8080"


def test_machine_file_wins_over_program_folder(tmp_path: Path) -> None:
    prog = write(tmp_path / "p.toml", "autolock_minutes = 5\nreview_required = false\n")
    mach = write(tmp_path / "m.toml", "autolock_minutes = 20\n")
    fs = load_file_settings([("programa", prog), ("equipo", mach)])
    assert fs.values == {"autolock_minutes": 20, "review_required": False}
    assert fs.origin == {"autolock_minutes": "equipo", "review_required": "programa"}


def test_merge_precedence(tmp_path: Path) -> None:
    d = DEFAULT_SETTINGS
    f = write(tmp_path / "m.toml", "autolock_minutes = 5\nreview_required = false\n")
    fs = load_file_settings([("equipo", f)])
    # 1. untouched workspace: the file applies
    new, changed = merge(dict(d), {}, fs, d)
    assert new["autolock_minutes"] == 5 and new["review_required"] is False
    assert changed == ["autolock_minutes", "review_required"]
    applied = dict(fs.values)
    # 2. a local change is kept, the file's other value still follows the file
    stored = {**new, "autolock_minutes": 30}
    f.write_text("autolock_minutes = 7\nreview_required = true\n", "utf-8")
    fs2 = load_file_settings([("equipo", f)])
    new2, _ = merge(stored, applied, fs2, d)
    assert new2["autolock_minutes"] == 30 and new2["review_required"] is True
    assert sources(new2, fs2, d)["autolock_minutes"] == "este equipo"
    assert sources(new2, fs2, d)["review_required"] == "archivo del equipo"
    # 3. locked: IT wins over the local change
    f.write_text('autolock_minutes = 7\nlocked = ["autolock_minutes"]\n', "utf-8")
    fs3 = load_file_settings([("equipo", f)])
    new3, changed3 = merge(new2, fs2.values, fs3, d)
    assert new3["autolock_minutes"] == 7 and changed3 == ["autolock_minutes"]
    assert sources(new3, fs3, d)["autolock_minutes"].startswith("fijada por TI")
    # 4. a value set at setup (not the default) is a local decision
    new4, _ = merge(
        {**d, "ule_ubigeo": "150101"},
        {},
        load_file_settings([("equipo", write(tmp_path / "u.toml", 'ule_ubigeo = "080108"\n'))]),
        d,
    )
    assert new4["ule_ubigeo"] == "150101"


def test_workspace_applies_file_and_screen_respects_locks(ws_factory, tmp_path: Path) -> None:
    ws = ws_factory(create=True)
    f = write(
        tmp_path / "m.toml",
        'server_url = "https://siee.gob.pe"\nautolock_minutes = 3\nlocked = ["server_url"]\n',
    )
    fs = load_file_settings([("equipo", f)])
    assert ws.settings.apply_file(fs) == ["autolock_minutes", "server_url"]
    assert ws.settings.values()["autolock_minutes"] == 3
    assert ws.settings.apply_file(fs) == []  # idempotent
    assert "settings" in [e.action for e in ws.admin.audit_entries()]

    ws.settings.file = lambda: fs  # type: ignore[method-assign]
    view = {row["key"]: row for row in ws.settings.view()}
    assert view["server_url"]["locked"] and view["server_url"]["value"] == "https://siee.gob.pe"
    assert view["ule_ubigeo"]["source"] == "este equipo"  # set at creation
    with pytest.raises(NotAllowed) as e:
        ws.settings.save(server_url="https://otro.gob.pe")
    assert "TI fijó" in e.value.user_message
    with pytest.raises(ValidationError) as e2:
        ws.settings.save(autolock_minutes=-4)
    assert "Bloqueo por inactividad" in e2.value.user_message
    ws.settings.save(autolock_minutes=15)
    assert ws.settings.apply_file(fs) == []  # the local change stays
    assert ws.settings.values()["autolock_minutes"] == 15
    assert {r["key"]: r["source"] for r in ws.settings.view()}["autolock_minutes"] == "este equipo"
