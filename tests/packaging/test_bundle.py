"""Build the one-folder bundle with PyInstaller (packaging/siee-campo.spec) into a
temporary folder and run the built program: self-test, IT commands, settings file
beside the executable, and start-up to the log-in window (offscreen).

The build takes about half a minute on two cores; it runs once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.it.test_guide import guide_install_line

EXE_NAME = "siee-campo.exe" if sys.platform.startswith("win") else "siee-campo"
MAX_BUNDLE_MB = 150
PW = "clave-admin-123"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pyinstaller")
    t0 = time.perf_counter()
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(out / "dist"),
            "--workpath",
            str(out / "build"),
            str(ROOT / "packaging" / "siee-campo.spec"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    print(f"bundle built in {time.perf_counter() - t0:.0f} s")
    d = out / "dist" / "siee-campo"
    assert (d / EXE_NAME).is_file()
    return d


def run(
    bundle: Path,
    args: list[str],
    env_extra: dict | None = None,
    check: bool = True,
    timeout: float = 120,
):
    env = {**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": PW, "QT_QPA_PLATFORM": "offscreen"}
    env.update(env_extra or {})
    p = subprocess.run(  # program: siee-campo (the built bundle)
        [str(bundle / EXE_NAME), *args],
        cwd=bundle.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in p.stderr, p.stderr
    if check:
        assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def _size_mb(d: Path) -> float:
    return sum(f.stat().st_size for f in d.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def test_contents_and_size(bundle: Path) -> None:
    files = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    inside = "_internal/"
    for needed in (
        "app/forms/bundled/fsu.md",
        "app/forms/bundled/s100.md",
        "app/data/ubigeo_inei.csv",
        "siee-campo.toml.example",
    ):
        assert inside + needed in files, needed
    names = [f.rsplit("/", 1)[-1] for f in files]
    for unwanted in (
        "QtNetwork",
        "Qt6Network",
        "Qt6Qml",
        "Qt6Quick",
        "QtQml",
        "Qt6Pdf",
        "libqgtk3",
        "libcairo",
        "libcups",
        "libgnutls",
        "Qt6WlShell",
        "Qt6EglFS",
    ):
        assert not [n for n in names if unwanted in n], unwanted
    qm = sorted(n for n in names if n.endswith(".qm"))
    assert qm and all("_es" in n for n in qm), qm
    assert not [f for f in files if "/qml/" in f]
    size = _size_mb(bundle)
    print(f"bundle.size_mb: {size:.1f}")
    assert size <= MAX_BUNDLE_MB, size


def test_selftest_passes(bundle: Path) -> None:
    p = run(bundle, ["--selftest"])
    out = p.stdout
    for name in ("cifrado", "almacén", "catálogo", "formularios", "configuración",
                 "sin servidor", "interfaz"):
        assert f"[OK] {name}:" in out, out
    # the check that ran is the bundle's (server and devtools looked for, not found)
    assert "[OK] sin servidor: el servidor de referencia y las herramientas" in out, out
    assert "Autoverificación correcta." in out and "FALLA" not in out
    assert "(offscreen)" in out


def test_it_commands_in_the_bundle(bundle: Path, tmp_path: Path) -> None:
    d = tmp_path / "datos"
    p = run(bundle, ["init", "--data", str(d), "--admin", "admin", "--ule", "150101"])
    code = p.stdout.split("anótelo y guárdelo en lugar seguro):")[1].split()[0]
    run(bundle, ["demo-data", "--data", str(d), "--households", "2", "--seed", "3"])
    bak = tmp_path / "r.sieebak"
    run(bundle, ["backup", "--to", str(bak), "--data", str(d)])
    new = tmp_path / "nueva"
    p = run(bundle, ["restore", str(bak), "--data", str(new), "--recovery-code", code])
    assert "Restauradas 4 fichas" in p.stdout
    a = json.loads(run(bundle, ["records", "list", "--json", "--data", str(d)]).stdout)
    b = json.loads(run(bundle, ["records", "list", "--json", "--data", str(new)]).stdout)
    assert sorted(map(json.dumps, a)) == sorted(map(json.dumps, b)) and len(a) == 4
    bad = tmp_path / "bad.sieebak"
    bad.write_bytes(bak.read_bytes()[:-7])
    p = run(
        bundle,
        ["restore", str(bad), "--data", str(tmp_path / "x"), "--recovery-code", code],
        check=False,
    )
    assert p.returncode == 1 and "incompleta" in p.stderr

    # IT's settings file beside the executable is read (program folder).
    (bundle / "siee-campo.toml").write_text(
        'autolock_minutes = 3\nreview_required = false\nlocked = ["review_required"]\n', "utf-8"
    )
    try:
        rep = json.loads(run(bundle, ["doctor", "--json", "--data", str(d)]).stdout)
    finally:
        (bundle / "siee-campo.toml").unlink()
    assert rep["program"]["packaged"] is True
    assert rep["program"]["pyside6"].startswith("6.") and rep["program"]["pyxform"][0].isdigit()
    st = rep["settings"]
    assert st["effective"]["autolock_minutes"] == 3
    assert st["sources"]["autolock_minutes"] == "archivo de la carpeta del programa"
    assert st["sources"]["review_required"].startswith("fijada por TI")
    assert rep["database"]["integrity_check"] == "ok"
    assert sum(rep["database"]["records"].values()) == 4


def test_starts_to_the_login_window(bundle: Path, tmp_path: Path) -> None:
    d = tmp_path / "datos"
    run(bundle, ["init", "--data", str(d), "--admin", "admin"])
    t0 = time.perf_counter()
    p = run(bundle, ["--data", str(d)], env_extra={"SIEE_STARTUP_PROBE": "1"}, timeout=60)
    ms = (time.perf_counter() - t0) * 1000
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("SIEE_STARTUP_READY")]
    assert line, p.stdout + p.stderr
    assert "window=AppWindow" in line[0] and "iniciar sesión" in line[0]
    print(f"startup.bundle_ms: {ms:.0f}")
    # a new data folder opens the first-run wizard instead
    p = run(bundle, ["--data", str(tmp_path / "nueva")], env_extra={"SIEE_STARTUP_PROBE": "1"})
    assert "window=FirstRunWizard" in p.stdout


def test_linux_install_puts_siee_campo_on_path_with_a_launcher(bundle: Path,
                                                                tmp_path: Path) -> None:
    """Issue 17 item 8: the guide's `siee-campo install-linux` (also `make install`) into
    a temporary prefix: the command is on the PATH, the launcher is complete, and an
    update replaces the program folder without nesting it."""
    import configparser
    import shutil

    prefix = tmp_path / "usr-local"
    shared = tmp_path / "datos comunes"
    exe, *args = guide_install_line()  # the command docs/guia-it.md gives IT
    assert exe.endswith("siee-campo/siee-campo")
    for _ in range(2):  # the second time is an update over the first
        p = run(bundle, [*args, "--prefix", str(prefix), "--data", str(shared)])
        assert "Programa instalado en" in p.stdout
    program = prefix / "lib" / "siee-campo"
    assert (program / EXE_NAME).is_file() and (program / "_internal").is_dir()
    assert not (program / "siee-campo").is_dir() and not list(program.parent.glob(".siee*"))
    path = f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}"
    assert shutil.which("siee-campo", path=path) == str(prefix / "bin" / "siee-campo")
    v = subprocess.run(  # program: siee-campo (the installed one, found on the PATH)
        ["siee-campo", "--version"], env={**os.environ, "PATH": path}, capture_output=True,
        text=True, timeout=60)
    assert v.returncode == 0 and v.stdout.startswith("siee-campo ")

    desktop = prefix / "share" / "applications" / "siee-campo.desktop"
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # keys are case-sensitive
    cp.read(desktop, encoding="utf-8")
    e = cp["Desktop Entry"]
    for key in ("Type", "Name", "GenericName", "Comment", "Exec", "TryExec", "Icon",
                "Terminal", "Categories", "StartupWMClass"):
        assert e.get(key), key
    assert e["Type"] == "Application" and e["Terminal"] == "false"
    assert e["Categories"].endswith(";")
    assert e["Exec"] == f'{prefix / "bin" / "siee-campo"} --data "{shared}"'
    assert Path(e["TryExec"]).is_file() and Path(e["Icon"]).is_file()
    assert Path(e["Icon"]).read_text("utf-8").startswith("<svg")
    # the launcher's command line opens the window (offscreen here) on the shared folder
    p = subprocess.run(  # program: siee-campo (the installed one, as the launcher runs it)
        [str(prefix / "bin" / "siee-campo"), "--data", str(shared)],
        env={**os.environ, "SIEE_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=120)
    assert "window=FirstRunWizard" in p.stdout, p.stdout + p.stderr
