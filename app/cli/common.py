"""What every command shares: password and user prompts, opening the workspace."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.core.errors import SieeError
from app.workspace import Workspace


def say(msg: str) -> None:
    print(msg, file=sys.stderr)


def password(
    prompt: str = "Contraseña: ", env: str = "SIEE_PASSWORD", confirm: bool = False
) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    pw = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repita la contraseña: ") != pw:
        raise SieeError("password confirmation mismatch", "Las contraseñas no coinciden.")
    return pw


def user() -> str:
    return os.environ.get("SIEE_USER") or input("Usuario: ").strip()


def open_workspace(args: argparse.Namespace, login: bool = True) -> Workspace:
    """The workspace of `--data`, IT's settings files applied, logged in (SIEE_USER /
    SIEE_PASSWORD or prompts) unless `login` is False. SieeError (Spanish) when the
    password is still one an administrator gave (it must be changed first)."""
    ws = Workspace.open(Path(args.data))
    ws.settings.apply_file()
    if login:
        name = user()
        ws.login(name, password())
        if ws.must_change_password:
            # The workspace refuses every operation anyway; say how to get out of it.
            ws.close()
            raise SieeError(
                "password change required",
                f"La contraseña de «{name}» es la que le dio el administrador: ingrese una "
                "vez al programa SIEE Campo con ella y elija una contraseña propia; luego "
                "repita la orden.",
            )
    return ws
