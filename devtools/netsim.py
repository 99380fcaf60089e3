"""A bad network on loopback, for the sync tests and benchmark (not used by the program).

`NetProxy` is a TCP proxy between the client and a real server that can:
refuse connections (it stops listening), reset a connection in the middle of
the request or of the response, truncate a response, stall, and throttle the
link to a given rate. Faults are chosen per connection by `plan()`. "stall_upload"
stalls only the answer to a batch upload (PUT /v1/batches/…), so the requests a sync
makes before it on the same connection (health) go through."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable

FAULTS = ("refuse", "reset_request", "reset_response", "truncate", "stall")  # random plans
# besides those, a script may name "stall_upload" (see the module docstring)
_UPLOAD = b"PUT /v1/batches/"


class TokenBucket:
    """Shared link capacity in bytes per second (both directions draw from it)."""

    def __init__(self, rate: float, burst: int = 2048) -> None:
        self.rate = float(rate)
        self.burst = burst
        self.tokens = float(burst)
        self.t = time.monotonic()
        self.lock = threading.Lock()

    def take(self, n: int) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
                self.t = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                wait = (n - self.tokens) / self.rate
            time.sleep(min(wait, 0.05))


def _rst(sock: socket.socket) -> None:
    """Abort a connection with a TCP reset (also waking a thread blocked reading it)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class NetProxy:
    """TCP proxy on 127.0.0.1 to `upstream` (host, port); `upstream` may be changed
    (a restarted server on another port)."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        fault_rate: float = 0.0,
        weights: dict[str, float] | None = None,
        stall_s: float = 5.0,
        rate_bps: float | None = None,
        seed: int | None = None,
        port: int = 0,
        cut_span: tuple[int, int] = (700, 700),
        script: list[str | None] | None = None,
    ) -> None:
        self.upstream = upstream
        self.fault_rate = fault_rate
        self.weights = weights or {f: 1.0 for f in FAULTS}
        self.stall_s = stall_s
        self.cut_span = cut_span  # a fault strikes within this many bytes (up, down)
        self.script = list(script or [])  # faults of the first connections, in order
        self.bucket = TokenBucket(rate_bps, burst=1460) if rate_bps else None
        self.rng = random.Random(seed)
        self.faults: Counter[str] = Counter()
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._online = threading.Event()
        self._listener: socket.socket | None = None
        self._socks: set[socket.socket] = set()
        self.port = port
        self.plan: Callable[[], str | None] = self._random_plan
        self._open_listener()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control --------------------------------------------------------------------------
    def _open_listener(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        s.settimeout(0.1)
        self.port = s.getsockname()[1]
        self._listener = s
        self._online.set()

    def set_online(self, online: bool) -> None:
        """Offline: nothing listens on the port any more (connections are refused)."""
        if online and not self._online.is_set():
            self._open_listener()
        elif not online and self._online.is_set():
            self._online.clear()
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            self.drop_all()

    def drop_all(self) -> None:
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            _rst(s)

    def close(self) -> None:
        self._stop.set()
        self.set_online(False)
        self._thread.join(timeout=2)

    def __enter__(self) -> NetProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _random_plan(self) -> str | None:
        if self.script:
            return self.script.pop(0)
        if self.rng.random() >= self.fault_rate:
            return None
        kinds = list(self.weights)
        return self.rng.choices(kinds, [self.weights[k] for k in kinds])[0]

    # -- plumbing -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            lst = self._listener
            if lst is None or not self._online.is_set():
                time.sleep(0.02)
                continue
            try:
                client, _ = lst.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                fault = self.plan()
                span = self.cut_span[0 if fault == "reset_request" else 1]
                cut = self.rng.randint(0, span)
            if fault:
                self.faults[fault] += 1
            threading.Thread(target=self._serve, args=(client, fault, cut), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._socks.update(socks)

    def _untrack(self, *socks: socket.socket) -> None:
        with self._lock:
            for s in socks:
                self._socks.discard(s)

    def _serve(self, client: socket.socket, fault: str | None, cut: int) -> None:
        client.setblocking(True)
        if fault == "refuse":
            _rst(client)
            return
        try:
            up = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _rst(client)
            return
        up.settimeout(None)
        self._track(client, up)
        done = threading.Event()
        upload = threading.Event() if fault == "stall_upload" else None
        t1 = threading.Thread(
            target=self._pump, args=(client, up, "up", fault if fault == "reset_request"
                                     else None, cut, done, upload), daemon=True)
        t2 = threading.Thread(
            target=self._pump, args=(up, client, "down", fault if fault in (
                "reset_response", "truncate", "stall") else None, cut, done, upload),
            daemon=True)
        t1.start()
        t2.start()
        t1.join()
        t2.join()
        self._untrack(client, up)
        for s in (client, up):
            try:
                s.close()
            except OSError:
                pass

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str,
              fault: str | None, cut: int, done: threading.Event,
              upload: threading.Event | None = None) -> None:
        sent = 0
        try:
            while not done.is_set():
                try:
                    data = src.recv(16384)
                except OSError:
                    break
                if not data:
                    break
                if upload is not None:
                    if direction == "up" and _UPLOAD in data:
                        upload.set()  # the answers from here on belong to the upload
                    elif direction == "down" and upload.is_set():
                        fault, cut = "stall", sent
                if fault and sent + len(data) > cut:
                    head = data[: max(0, cut - sent)]
                    if head:
                        dst.sendall(head)
                    if fault == "stall":
                        # Hold the rest, then drop the connection.
                        self._stop.wait(self.stall_s)
                        _rst(dst)
                        _rst(src)
                    elif fault == "truncate":
                        try:
                            dst.shutdown(socket.SHUT_WR)  # a clean end, but too early
                        except OSError:
                            pass
                        time.sleep(0.05)
                        _rst(src)
                        _rst(dst)
                    else:
                        _rst(dst)
                        _rst(src)
                    done.set()
                    return
                for i in range(0, len(data), 1024):
                    chunk = data[i : i + 1024]
                    if self.bucket is not None:
                        self.bucket.take(len(chunk))
                    dst.sendall(chunk)
                sent += len(data)
                with self._lock:
                    if direction == "up":
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
        except OSError:
            pass
        finally:
            done.set()
            for s in (dst, src):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
