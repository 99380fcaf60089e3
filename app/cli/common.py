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
    SIEE_PASSWORD or prompts) unless `login` is False."""
    ws = Workspace.open(Path(args.data))
    ws.settings.apply_file()
    if login:
        ws.login(user(), password())
    return ws
