"""`siee-campo selftest`: checks crypto, the store, the bundled data, the forms,
IT's settings files and the shipped example, that the packaged program holds no
development part (the reference server, devtools/) and (optionally) that the window
can open on the platform the program will really use; prints a short report in
Spanish and returns 0 or 1.

Each check imports what it checks inside the check, on purpose: in a damaged
installation a missing part is reported as that check failing, instead of the
whole self-test failing to start (and Qt is loaded only for the GUI check)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _crypto() -> str:
    from app.store import crypto

    key = crypto.random_key()
    blob = crypto.seal(key, b"prueba" * 100, b"aad", compress=True)
    assert crypto.unseal(key, blob, b"aad") == b"prueba" * 100
    return "AES-256-GCM y scrypt disponibles"


def _store() -> str:
    from app.store.crypto import KdfParams
    from app.workspace import EngineHooks, Workspace

    class _NoForms(EngineHooks):
        def facts(self, form_id, version, answers):  # type: ignore[override]
            return {}, []

    with tempfile.TemporaryDirectory(prefix="siee-selftest-") as d:
        kdf = KdfParams(n=2**12)
        ws, _ = Workspace.create(Path(d), "admin", "selftest-1234", kdf=kdf, hooks=_NoForms())
        u = ws.new_record("fsu", "1", {"prueba": 1})
        ws.close()
        ws = Workspace.open(Path(d), kdf=kdf, hooks=_NoForms())
        ws.login("admin", "selftest-1234")
        assert ws.load_answers(u) == {"prueba": 1}
        assert ws.admin.audit_verify().ok
        ws.close()
    return "SQLite cifrado: escribir, reabrir, leer y bitácora OK"


def _catalog() -> str:
    from app.core.ubigeo import catalog

    n = len(catalog())
    assert n > 1800, n
    return f"catálogo de ubigeos INEI: {n} distritos"


def _forms() -> str:
    from app.forms import bundled_form, list_bundled

    names = []
    for form_id, version, _title in list_bundled():
        bundled_form(form_id)
        names.append(f"{form_id} v{version}")
    assert names
    return "formularios: " + ", ".join(names)


class CheckFailed(Exception):
    """A check's failure, already in Spanish (what happened and what to do next)."""


EXAMPLE_FILE = "siee-campo.toml.example"


def example_settings_path() -> Path:
    """The commented example of IT's settings file shipped with the program: beside
    the bundle's libraries (`_internal/`), or packaging/ in the repository."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / EXAMPLE_FILE
    return Path(__file__).resolve().parent.parent / "packaging" / EXAMPLE_FILE


def check_example(path: Path) -> str:
    """The shipped example must read without a single problem with the program's own
    vocabulary (issue 17: it once said «fijas» where the program knows «locked»)."""
    from app.workspace.settings import FileSettings, read_file

    if not path.is_file():
        raise CheckFailed(f"falta el archivo de ejemplo {path}; reinstale el programa.")
    fs = FileSettings()
    read_file(path, "programa", fs)
    if fs.errors:
        raise CheckFailed("el archivo de ejemplo tiene errores: " + " ".join(fs.errors))
    return f"ejemplo {path.name} válido ({len(fs.values)} opciones, fijas: {len(fs.locked)})"


def _settings() -> str:
    from app.workspace.settings import load_file_settings

    example = check_example(example_settings_path())
    fs = load_file_settings()
    if fs.errors:
        raise CheckFailed(" ".join(fs.errors) + " Corrija el archivo (ver la guía de TI, "
                          "sección 4) y repita la autoverificación.")
    if not fs.files:
        return f"sin archivo de configuración de TI (valores del equipo); {example}"
    return "archivo de TI: " + ", ".join(str(p) for p in fs.files) + f"; {example}"


# Top-level packages of the repository that must never ship in the program: the
# reference server and the development tools (local server, network simulator).
NOT_SHIPPED = ("server", "devtools")


def _no_dev_parts(frozen: bool | None = None) -> str:
    """In the packaged program (`frozen`, default: sys.frozen), NOT_SHIPPED must not
    be importable; AssertionError names the ones found. Run from source they are
    part of the repository, and the check says so."""
    if frozen is None:
        frozen = bool(getattr(sys, "frozen", False))
    if not frozen:
        return "programa sin empaquetar: el servidor se revisa solo en el paquete"
    found = [name for name in NOT_SHIPPED if importlib.util.find_spec(name) is not None]
    assert not found, "el paquete incluye " + ", ".join(found)
    return "el servidor de referencia y las herramientas de desarrollo no están incluidos"


# What the window needs on Linux when Qt cannot load its X11 platform (Qt names the
# library in English; IT gets the Debian package).
_QT_NEEDS = re.compile(r"(\S+) or (lib\S+) is needed to load the Qt xcb platform plugin")
NO_DISPLAY = (
    "no hay una pantalla gráfica disponible (la variable DISPLAY está vacía): el programa "
    "no podrá abrir su ventana así. Ejecute la autoverificación desde el escritorio de la "
    "sesión gráfica donde se usará el programa (no por SSH ni en una consola sin "
    "escritorio). Las órdenes de consola (init, users, backup, sync…) sí funcionan sin "
    "pantalla."
)


def window_platform(env: dict[str, str] | None = None) -> str:
    """The Qt platform `siee-campo run` will use: QT_QPA_PLATFORM when set, else the
    system's (xcb on Linux, where Qt 6 also runs on XWayland)."""
    env = os.environ if env is None else env
    chosen = (env.get("QT_QPA_PLATFORM") or "").split(":")[0].strip()
    if chosen:
        return chosen
    if sys.platform.startswith("linux"):
        return "wayland" if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY") else "xcb"
    return "windows" if sys.platform.startswith("win") else "cocoa"


def probe_command() -> list[str]:
    """This same program, asked to open a window and report (`selftest --qt-probe`)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "selftest", "--qt-probe"]
    return [sys.executable, "-m", "app", "selftest", "--qt-probe"]


def _probe_env() -> dict[str, str]:
    """From source, the child imports this same `app` package (not another copy that
    the Python path may hold)."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        here = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join([here] + ([env["PYTHONPATH"]]
                                                      if env.get("PYTHONPATH") else []))
    return env


def _qt(timeout: float = 60.0) -> str:
    """Open a window the way the program will, in a child process (Qt aborts the whole
    process when its platform cannot load); Spanish reason and next step on failure."""
    platform = window_platform()
    if platform == "xcb" and not os.environ.get("DISPLAY"):
        raise CheckFailed(NO_DISPLAY)
    try:
        p = subprocess.run(  # program: python siee-campo (this same program)
            probe_command(), capture_output=True, text=True, timeout=timeout, env=_probe_env())
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"la ventana no respondió en {timeout:.0f} s (plataforma "
                          f"{platform}). Repita la autoverificación; si vuelve a pasar, "
                          "envíe este texto a soporte.") from None
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("QT_PROBE_OK ")]
    if p.returncode == 0 and line:
        return line[0].removeprefix("QT_PROBE_OK ")
    needs = _QT_NEEDS.search(p.stderr)
    if needs:
        raise CheckFailed(
            f"falta la biblioteca del sistema {needs.group(2)}, que la ventana necesita en "
            f"Linux: instálela (Debian/Ubuntu: «sudo apt-get install {needs.group(2)}») y "
            "repita la autoverificación.")
    raise CheckFailed(
        f"no se pudo abrir la ventana del programa con la plataforma «{platform}» (código "
        f"{p.returncode}). Compruebe que está en el escritorio de la sesión gráfica y que "
        "el sistema tiene las bibliotecas de X11 (guía de TI, sección 2); si sigue igual, "
        "envíe este texto a soporte.")


def qt_probe() -> int:
    """The child side of `_qt`: open a window on the real platform, print one line."""
    from app.ui.shell.selftest_qt import check_qt

    print("QT_PROBE_OK " + check_qt(), flush=True)
    return 0


def run_selftest(gui: bool = False) -> int:
    checks: list[tuple[str, Callable[[], str]]] = [
        ("cifrado", _crypto),
        ("almacén", _store),
        ("catálogo", _catalog),
        ("formularios", _forms),
        ("configuración", _settings),
        ("sin servidor", _no_dev_parts),
    ]
    if gui:
        checks.append(("interfaz", _qt))
    failed = 0
    for name, fn in checks:
        t0 = time.perf_counter()
        try:
            detail = fn()
            ok = True
        except CheckFailed as e:
            detail, ok = str(e), False
            failed += 1
        except Exception as e:  # the report must name the failure, not crash
            detail = (f"error inesperado ({type(e).__name__}: {e}); envíe este texto a "
                      "soporte")
            ok = False
            failed += 1
        ms = (time.perf_counter() - t0) * 1000
        print(f"[{'OK' if ok else 'FALLA'}] {name}: {detail} ({ms:.0f} ms)")
    print("Autoverificación correcta." if not failed else f"{failed} verificación(es) fallaron.")
    return 0 if not failed else 1
