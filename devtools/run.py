"""`make run`: the program with a local reference server, the whole loop on one computer.

    python -m devtools.run [--data run-data/campo] [--server-data run-data/server]
                           [--port 8741] [--ule 150101] [--demo]

Starts the reference server (devserver.LocalServer) on http://127.0.0.1:PORT, a fixed
address, so a laptop enrolled with it finds it again after any restart, for every
user. Then it opens the program as its own process (`python -m app run`), handing it
the server's address and a fresh one-time enrollment code the way IT would
(`--server`, SIEE_ENROLL_CODE): on a new data folder the first-run wizard shows them
on its server page, and the program enrolls itself when the administrator first logs
in. An enrolled program ignores them. When the program ends, the server stops.

Exit status: the program's, or 1 when the server could not start (the reason, in
Spanish, on stderr)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.devserver import (
    DEFAULT_DIR,
    DEFAULT_PORT,
    LocalServer,
    PortBusy,
    die_with_parent,
    enroll_code,
)

DEFAULT_ULE = "150101"  # Lima: the district the wizard offers for the demo


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m devtools.run",
        description="SIEE Campo con un servidor SIEE local de prueba (desarrollo).")
    p.add_argument("--data", default="run-data/campo", help="carpeta de datos del programa")
    p.add_argument("--server-data", default=str(DEFAULT_DIR),
                   help="carpeta de datos del servidor local (por defecto: %(default)s)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help="puerto del servidor local en 127.0.0.1 (por defecto: %(default)s)")
    p.add_argument("--ule", default=DEFAULT_ULE,
                   help="ubigeo de la ULE del código de inscripción (por defecto: %(default)s)")
    p.add_argument("--demo", action="store_true", help="hogares de demostración")
    return p


def program_command(args: argparse.Namespace, url: str) -> list[str]:
    """The program's own command line, pointed at the local server."""
    cmd = [sys.executable, "-m", "app", "run", "--data", str(args.data),
           "--server", url, "--ule", str(args.ule)]
    return cmd + (["--demo"] if args.demo else [])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    srv = LocalServer(Path(args.server_data), port=args.port)
    try:
        srv.start()
    except PortBusy as e:
        print(e.user_message, file=sys.stderr)
        return 1
    except (RuntimeError, OSError) as e:
        print(f"No se pudo iniciar el servidor SIEE local: {e}", file=sys.stderr)
        return 1
    try:
        code = enroll_code(srv.data_dir, args.ule)
        print(f"Servidor SIEE local en {srv.url} (datos en {srv.data_dir}). Si el programa "
              "aún no está inscrito, se inscribe en él cuando ingresa un administrador "
              f"(código de inscripción {code}, ULE {args.ule}).", file=sys.stderr)
        env = {**os.environ, "SIEE_ENROLL_CODE": code}
        child = subprocess.Popen(program_command(args, srv.url), env=env,  # program: python
                                 preexec_fn=die_with_parent if _linux() else None)

        def _forward(signum: int, _frame: Any) -> None:
            child.send_signal(signum)

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _forward)
        return child.wait()
    finally:
        srv.stop()


def _linux() -> bool:
    return sys.platform.startswith("linux")


if __name__ == "__main__":
    sys.exit(main())
