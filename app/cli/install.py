"""`siee-campo install-linux`: install the packaged program on a Linux computer so
that `siee-campo` is on the PATH and the desktop menu has a complete launcher.

Layout under PREFIX (default /usr/local, whose bin/ is on every user's PATH):
    PREFIX/lib/siee-campo/                      the bundle (copied, never nested)
    PREFIX/bin/siee-campo                       a link to the program
    PREFIX/share/applications/siee-campo.desktop
    PREFIX/share/icons/hicolor/scalable/apps/siee-campo.svg
Installing again (an update) replaces the program folder as a whole, after the
new copy is complete; the data folders are never touched (they are elsewhere)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import SieeError, ValidationError

APP = "siee-campo"
ICON_IN_BUNDLE = Path("app") / "ui" / "icons" / "siee-campo.svg"


@dataclass(frozen=True)
class Installed:
    """What `install_linux` wrote."""

    program_dir: Path
    command: Path
    desktop_file: Path
    icon: Path


def bundle_dir() -> Path:
    """The packaged program's folder (the one holding the executable and `_internal`).
    SieeError when run from the source code: there is no bundle to install."""
    if not getattr(sys, "frozen", False):
        raise ValidationError(
            "install-linux from source",
            "Esta orden instala el programa empaquetado: ejecútela con el «siee-campo» de "
            "la carpeta entregada (créela con «make package»).")
    return Path(sys.executable).resolve().parent


def desktop_entry(command: Path, icon: Path, data: str | None = None) -> str:
    """A complete freedesktop.org launcher for the window (Spanish names)."""
    exec_line = _quote(str(command)) + (f" --data {_quote(data)}" if data else "")
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=SIEE Campo",
        "GenericName=Empadronamiento de hogares",
        "Comment=Solicitud S100 y Ficha Socioeconómica Única (FSU) de la ULE, sin conexión",
        f"TryExec={command}",
        f"Exec={exec_line}",
        f"Icon={icon}",
        "Terminal=false",
        "Categories=Office;",
        "Keywords=SISFOH;ULE;FSU;S100;empadronamiento;",
        f"StartupWMClass={APP}",
        "StartupNotify=true",
        "",
    ])


def _quote(arg: str) -> str:
    """An Exec argument, quoted as the desktop entry specification asks."""
    if not any(c in arg for c in ' \t"\'\\><~|&;$*?#()`'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace(
        "$", "\\$")
    return f'"{escaped}"'


# The settings file IT may leave in the program folder (app.workspace.settings.SETTINGS_FILE;
# the cli layer may not import the workspace's module constants at install time).
IT_SETTINGS_FILE = "siee-campo.toml"


def install_linux(source: Path, prefix: Path, data: str | None = None) -> Installed:
    """Copy the bundle `source` under `prefix` (see the module docstring) and write the
    command link, the launcher and the icon. OSError/SieeError (Spanish) on failure;
    an existing installation is replaced only once the new copy is complete, keeping
    IT's siee-campo.toml if one was left in the old program folder."""
    source, prefix = Path(source).resolve(), Path(prefix).absolute()
    if not (source / APP).is_file():
        raise SieeError(f"no bundle at {source}",
                        f"No se encontró el programa en {source}.")
    program = prefix / "lib" / APP
    if program == source or source in program.parents:
        raise SieeError("install onto itself",
                        "El programa ya está en esa carpeta: elija otro --prefix.")
    program.parent.mkdir(parents=True, exist_ok=True)
    fresh = program.parent / f".{APP}.nuevo"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(source, fresh, symlinks=True)
    # IT's settings file beside the program (docs/guia-it.md §4) survives an update: it
    # holds the locks, and losing it silently would unlock the server address.
    kept = program / IT_SETTINGS_FILE
    if kept.is_file() and not (fresh / IT_SETTINGS_FILE).exists():
        shutil.copy2(kept, fresh / IT_SETTINGS_FILE)
    old = program.parent / f".{APP}.anterior"
    shutil.rmtree(old, ignore_errors=True)
    if program.exists():
        os.replace(program, old)
    os.replace(fresh, program)
    shutil.rmtree(old, ignore_errors=True)

    command = prefix / "bin" / APP
    command.parent.mkdir(parents=True, exist_ok=True)
    if command.is_symlink() or command.exists():
        command.unlink()
    command.symlink_to(os.path.relpath(program / APP, command.parent))

    icon = prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP}.svg"
    icon.parent.mkdir(parents=True, exist_ok=True)
    shipped = program / "_internal" / ICON_IN_BUNDLE
    if shipped.is_file():
        shutil.copyfile(shipped, icon)
    desktop = prefix / "share" / "applications" / f"{APP}.desktop"
    desktop.parent.mkdir(parents=True, exist_ok=True)
    desktop.write_text(desktop_entry(command, icon, data), "utf-8")
    desktop.chmod(0o644)
    return Installed(program, command, desktop, icon)
