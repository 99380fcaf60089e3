"""`python -m app run --local-server`: the whole loop on one computer.

Starts the reference SIEE server (server/) on 127.0.0.1 with its own data folder
(default ./run-data/server), opens the program, and enrolls it against that
server when an administrator logs in (the first-run wizard's account is one):
records approved in the window are sent, and a small "centre" posts a CSE
result for each record the server received, so a newcomer sees send → receipt →
result without any setup. Development and demonstration only: the packaged
program does not include the server."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger("siee.devserver")

ENV_SERVER = "SIEE_DEV_SERVER"
ENV_KEY = "SIEE_DEV_SERVER_KEY"
ENV_DATA = "SIEE_DEV_SERVER_DATA"
DEFAULT_DIR = Path("run-data") / "server"
REPO_ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("pobre_extremo", "pobre", "no_pobre")


def _service(data_dir: Path) -> Any:
    from server.service import Service
    from server.settings import Settings

    return Service(Settings(data_dir=Path(data_dir)))


def enroll_code(data_dir: Path, ule: str) -> str:
    """A one-time enrollment code of the local server for this ULE."""
    svc = _service(data_dir)
    try:
        return str(svc.create_enroll_code(ule)[0])
    finally:
        svc.close()


class LocalServer:
    """The reference server as a child process on 127.0.0.1 (any free port)."""

    def __init__(self, data_dir: Path = DEFAULT_DIR, centre_every_s: float | None = 15.0,
                 result_after_s: float = 20.0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.centre_every_s = centre_every_s
        self.result_after_s = result_after_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.signing_key = ""
        self._stop = threading.Event()
        self._centre: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> LocalServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        svc = _service(self.data_dir)  # keys and tables exist before the server starts
        self.signing_key = svc.keys.signing_public
        svc.close()
        port_file = self.data_dir / "server.port"
        port_file.unlink(missing_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        logf = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - child's stdout
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--data", str(self.data_dir),
             "--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
             "--log-level", "warning"],
            cwd=str(REPO_ROOT), env=env, stdout=logf, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the local server did not start; see "
                                   f"{self.data_dir / 'server.log'}")
            if port_file.exists() and port_file.read_text().strip():
                self.url = f"http://127.0.0.1:{int(port_file.read_text())}"
                try:
                    with urllib.request.urlopen(self.url + "/v1/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the local server did not answer in time")
        if self.centre_every_s:
            self._centre = threading.Thread(target=self._centre_loop, daemon=True,
                                            name="siee-dev-centre")
            self._centre.start()
        log.info("local server at %s (data %s)", self.url, self.data_dir)
        return self

    def environment(self) -> dict[str, str]:
        """What the window reads to enroll itself against this server."""
        return {ENV_SERVER: self.url, ENV_KEY: self.signing_key, ENV_DATA: str(self.data_dir)}

    def post_results(self, older_than_s: float = 0.0) -> int:
        """The centre's work, simulated: a CSE result for every record received (and not
        returned) at least `older_than_s` ago."""
        svc = _service(self.data_dir)
        n = 0
        try:
            now = time.time()
            for row in svc.list_records(status="received", limit=500):
                received = _parse_iso(str(row.get("received_at") or ""))
                if received is None or now - received < older_than_s:
                    continue
                cat = CATEGORIES[int(row["uuid"].replace("-", "")[:8], 16) % 3]
                today = date.today()
                svc.post_result(row["uuid"], row["revision"], cat, today.isoformat(),
                                (today + timedelta(days=3 * 365)).isoformat())
                n += 1
        finally:
            svc.close()
        return n

    def _centre_loop(self) -> None:
        assert self.centre_every_s is not None
        while not self._stop.wait(self.centre_every_s):
            try:
                self.post_results(self.result_after_s)
            except Exception:  # noqa: BLE001 - a demo helper must not stop the program
                log.exception("simulated centre failed")

    def stop(self) -> None:
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._centre is not None:
            self._centre.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """Linux: the server child gets SIGTERM when the program ends, even if killed."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PDEATHSIG
    except (OSError, AttributeError):
        pass


def _parse_iso(text: str) -> float | None:
    from datetime import UTC, datetime

    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def run_with_local_server(args: Any, run_gui: Callable[[Any], int]) -> int:
    """`app run --local-server`: start the server, open the window, stop the server."""
    srv = LocalServer(Path(getattr(args, "server_data", None) or DEFAULT_DIR))
    try:
        srv.start()
    except (RuntimeError, OSError) as e:
        print(f"No se pudo iniciar el servidor local: {e}", file=sys.stderr)
        return 1
    print(f"Servidor SIEE local en {srv.url} (datos en {srv.data_dir}). El programa se "
          "inscribe en él cuando ingresa un administrador.", file=sys.stderr)
    os.environ.update(srv.environment())
    import signal

    def _terminated(signum: int, _frame: Any) -> None:
        srv.stop()
        os._exit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, _terminated)
    except (ValueError, OSError):  # not the main thread
        pass
    try:
        return int(run_gui(args) or 0)
    finally:
        srv.stop()
        for k in srv.environment():
            os.environ.pop(k, None)
