"""Issue 17 items 1, 5, 9: the self-test checks the shipped example settings file
with the program's own vocabulary, and checks the window on the platform the
program will really use (not only offscreen), failing in Spanish with the next step."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from app.selftest import CheckFailed, check_example, example_settings_path, window_platform
from app.workspace.settings import load_file_settings
from tests.conftest import ROOT


def selftest(env_changes: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    p = subprocess.run(  # program: python (siee-campo from source)
        [sys.executable, "-m", "app", "--selftest"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=240)
    assert "Traceback" not in p.stderr + p.stdout
    return p


def test_the_shipped_example_speaks_the_programs_vocabulary(tmp_path):
    path = example_settings_path()
    assert path == ROOT / "packaging" / "siee-campo.toml.example"
    assert "válido" in check_example(path)
    fs = load_file_settings([("programa", path)])
    assert not fs.errors and fs.locked == {"server_url", "ca_bundle"}
    # the example of issue 17: a word the program does not know fails the self-test
    bad = tmp_path / "siee-campo.toml.example"
    bad.write_text(path.read_text("utf-8").replace("locked =", "fijas ="), "utf-8")
    with pytest.raises(CheckFailed) as e:
        check_example(bad)
    assert "opción desconocida «fijas»" in str(e.value)


def test_platform_is_the_one_the_program_will_use():
    assert window_platform({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"
    if sys.platform.startswith("linux"):
        assert window_platform({}) == "xcb"
        assert window_platform({"DISPLAY": ":0"}) == "xcb"
        assert window_platform({"WAYLAND_DISPLAY": "wayland-0"}) == "wayland"


def test_selftest_offscreen_passes_and_names_the_platform():
    p = selftest({"QT_QPA_PLATFORM": "offscreen"})
    assert p.returncode == 0, p.stdout
    assert "[OK] interfaz: Qt 6" in p.stdout and "(offscreen)" in p.stdout
    assert "[OK] configuración:" in p.stdout and "siee-campo.toml.example válido" in p.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 display variables")
def test_selftest_without_a_display_fails_in_spanish_with_the_next_step():
    p = selftest({"QT_QPA_PLATFORM": None, "DISPLAY": None, "WAYLAND_DISPLAY": None})
    assert p.returncode == 1
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("[FALLA] interfaz:")]
    assert line, p.stdout
    assert "no hay una pantalla gráfica disponible" in line[0]
    assert "Ejecute la autoverificación desde el escritorio" in line[0]
    assert "Autoverificación correcta" not in p.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 display variables")
def test_selftest_on_a_platform_qt_cannot_load_fails_instead_of_aborting():
    # a display that does not exist: Qt aborts the probe child; the self-test reports it
    p = selftest({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":97", "WAYLAND_DISPLAY": None})
    assert p.returncode == 1
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("[FALLA] interfaz:")][0]
    assert ("no se pudo abrir la ventana del programa con la plataforma «xcb»" in line
            or "falta la biblioteca del sistema" in line), line
    assert "qt.qpa" not in p.stdout and "Error" not in line


def _toml_lines(text: str) -> dict[str, str]:
    """`key = value` lines of a TOML text, commented-out ones included (# key = value),
    without trailing comments: the options a file shows IT."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^#?\s*([a-z_]+)\s*=\s*(.+?)\s*(#.*)?$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_the_shipped_example_has_the_guides_options_and_host():
    """IT's day (issue 17): the guide's example and the bundle's example disagreed
    (siee.example.gob.pe vs siee.ejemplo.gob.pe, practice_ready_accuracy missing)."""
    from tests.it.test_guide import GUIDE, blocks

    (guide_toml,) = [b.body for b in blocks(GUIDE.read_text("utf-8")) if b.info == "toml"]
    guide = _toml_lines(guide_toml)
    shipped_text = example_settings_path().read_text("utf-8")
    shipped = _toml_lines(shipped_text)
    assert set(guide) == set(shipped), (sorted(guide), sorted(shipped))
    assert guide == shipped
    assert 'server_url = "https://siee.ejemplo.gob.pe"' in shipped_text
    # what stays commented in the shipped file is what needs a value of IT's own
    commented = {k for k in shipped if re.search(rf"^#\s*{k}\s*=", shipped_text, re.M)}
    assert commented == {"ca_bundle", "ule_ubigeo"}
    # right after its example, the guide says where the PEM goes and when to drop the line
    after = GUIDE.read_text("utf-8").split("```toml", 1)[1].split("```", 1)[1]
    after = " ".join(after.split("## 5.", 1)[0].split())
    assert "misma carpeta que `siee-campo.toml`" in after and "borre la línea `ca_bundle`" in after


def test_the_guides_example_copied_without_its_pem_says_what_to_do(tmp_path):
    """Copied as written, the guide's example names ca-siee.pem, which must be beside
    the .toml: the self-test fails saying so; with the PEM beside it, it passes."""
    from tests.it.test_guide import GUIDE, blocks

    (guide_toml,) = [b.body for b in blocks(GUIDE.read_text("utf-8")) if b.info == "toml"]
    conf = tmp_path / "xdg"
    machine = conf / "siee-campo" / "siee-campo.toml"
    machine.parent.mkdir(parents=True)
    machine.write_text(guide_toml, "utf-8")
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_DIRS": str(conf)}
    p = selftest(env)
    assert p.returncode == 1
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("[FALLA] configuración:")]
    assert line, p.stdout
    pem = machine.parent / "ca-siee.pem"
    assert f"ca_bundle: no existe el archivo {pem}: copie allí el certificado" in line[0]
    assert "borre la línea ca_bundle" in line[0] and "guía de TI, sección 4" in line[0]
    pem.write_text("", "utf-8")
    p = selftest(env)
    assert p.returncode == 0, p.stdout
    assert f"[OK] configuración: archivo de TI: {machine}" in p.stdout
