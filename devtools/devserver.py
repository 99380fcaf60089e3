"""The reference SIEE server (server/) as a local child process, for `make run`
(devtools/run.py) and the tests.

`LocalServer` starts `python -m server serve` on 127.0.0.1 with its own data
folder (default ./run-data/server), on one fixed port by default
(`DEFAULT_PORT`), so a laptop enrolled with it finds it again after a restart.
A small simulated "centre" posts one CSE result per case (expediente) the server
received, so a newcomer sees send → receipt → result without any setup.
Development and demonstration only: it lives outside the product package, and
the packaged program contains neither it nor the server."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from app.core.cases import FSU, S100, Route, route_of
from app.core.errors import SieeError
from app.forms import bundled_form
from server.service import Service
from server.settings import Settings

log = logging.getLogger("siee.devserver")

DEFAULT_DIR = Path("run-data") / "server"
DEFAULT_PORT = 8741  # `make run`'s server: one address across restarts
HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("pobre_extremo", "pobre", "no_pobre")


class PortBusy(RuntimeError):
    """Another program listens on the local server's port; `user_message` (Spanish)
    says what to do."""

    def __init__(self, port: int) -> None:
        super().__init__(f"port {port} on {HOST} is in use by another program")
        self.port = port
        self.user_message = (
            f"No se pudo iniciar el servidor SIEE local: otro programa ya usa la dirección "
            f"http://{HOST}:{port} de este equipo. El servidor local usa siempre esa "
            "dirección, para que el programa inscrito lo encuentre después de reiniciar. "
            "Cierre el otro programa (¿quedó abierto otro «make run»?) y vuelva a "
            f"intentarlo; o use otro puerto con «make run PORT=NÚMERO» (el programa "
            "deberá inscribirse de nuevo en esa dirección)."
        )


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on host:port. Binds the way the server does
    (SO_REUSEADDR), so connections of an earlier run left in TIME_WAIT do not count."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _service(data_dir: Path) -> Service:
    return Service(Settings(data_dir=Path(data_dir)))


def enroll_code(data_dir: Path, ule: str) -> str:
    """A one-time enrollment code of the local server for this ULE."""
    svc = _service(data_dir)
    try:
        return str(svc.create_enroll_code(ule)[0])
    finally:
        svc.close()


class LocalServer:
    """The reference server as a child process on 127.0.0.1.

    `port`: DEFAULT_PORT by default (a fixed address: `make run`); 0 for any free
    port (tests that run side by side). `start()` raises PortBusy when another
    program holds a fixed port, RuntimeError when the server does not come up."""

    def __init__(self, data_dir: Path = DEFAULT_DIR, centre_every_s: float | None = 15.0,
                 result_after_s: float = 20.0, port: int = DEFAULT_PORT) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = int(port)
        self.centre_every_s = centre_every_s
        self.result_after_s = result_after_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.signing_key = ""
        self._stop = threading.Event()
        self._centre: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> LocalServer:
        if self.port and not port_is_free(self.port):
            raise PortBusy(self.port)
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
             "--host", HOST, "--port", str(self.port), "--port-file", str(port_file),
             "--log-level", "warning"],
            cwd=str(REPO_ROOT), env=env, stdout=logf, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if self.port and not port_is_free(self.port):
                    raise PortBusy(self.port)  # taken between the check and the bind
                raise RuntimeError("the local server did not start; see "
                                   f"{self.data_dir / 'server.log'}")
            if port_file.exists() and port_file.read_text().strip():
                self.url = f"http://{HOST}:{int(port_file.read_text())}"
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

    def post_results(self, older_than_s: float = 0.0) -> int:
        """The centre's work, simulated: ONE CSE result per case (expediente), once the
        case is ready and its record was received at least `older_than_s` ago. The result
        goes on the case's FSU when it has one, else on the S100 of a request routed
        without visit (app/core/cases.py route_of); never on a visit or a desestimación,
        nor on a dropped case or one that already has its result. Returns how many
        results were posted."""
        svc = _service(self.data_dir)
        n = 0
        try:
            now = time.time()
            closed = {c["case_uuid"] for c in svc.cases.list()
                      if c["result_category"] or c["state"] == "desestimado"}
            latest: dict[str, dict] = {}
            for row in svc.list_records(limit=1_000_000):
                old = latest.get(row["uuid"])
                if old is None or old["revision"] < row["revision"]:
                    latest[row["uuid"]] = row
            members: dict[str, list[dict]] = {}
            for row in latest.values():
                members.setdefault(row.get("case_uuid") or row["uuid"], []).append(row)
            for case_uuid, rows in members.items():
                if case_uuid in closed or any(r["status"] == "result" for r in rows):
                    continue
                target = _result_target(svc, rows)
                if target is None:
                    continue
                received = _parse_iso(str(target.get("received_at") or ""))
                if received is None or now - received < older_than_s:
                    continue
                cat = CATEGORIES[int(case_uuid.replace("-", "")[:8], 16) % 3]
                today = date.today()
                svc.post_result(target["uuid"], target["revision"], cat, today.isoformat(),
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



def _result_target(svc: Service, rows: list[dict]) -> dict | None:
    """The record of a case that carries its result: its received FSU (the newest when
    there are several), else its received S100 when the request needs no visit; None
    while the case is not ready (an FSU-route request still without its FSU)."""
    fsus = [r for r in rows if r["form_id"] == FSU and r["status"] == "received"]
    if fsus:
        return max(fsus, key=lambda r: str(r.get("received_at") or ""))
    if any(r["form_id"] == FSU for r in rows):
        return None  # the FSU was returned: the result waits for its correction
    request = next((r for r in rows if r["form_id"] == S100 and r["status"] == "received"),
                   None)
    if request is None:
        return None
    answers = svc.records.get(request["uuid"], request["revision"])["answers"] or {}
    if isinstance(answers.get("answers"), dict):
        answers = answers["answers"]
    code = str(answers.get("/s100/solicitud/tipo_solicitud") or "")
    native = str(answers.get("/s100/domicilio/comunidad_indigena") or "") == "1"
    try:
        fd = bundled_form(S100)
        extra = next((c.extra for c in fd.choices.get("tipo_solicitud", []) if c.name == code),
                     None)
    except SieeError:
        extra = None
    if extra is None:
        return None  # an option this program does not know: no result invented
    return request if route_of(extra, native) != Route.FSU else None


def die_with_parent() -> None:
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
