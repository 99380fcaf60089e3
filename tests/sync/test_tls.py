"""TLS is verified; a CA bundle (workspace setting ca_bundle) makes a private CA trusted;
a rate-limited server is a transient condition."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.sync.client import SizerConfig
from app.sync.model import NetworkError, ServerBusy, SyncError
from app.sync.transport import Transport
from server.testing import running_server
from tests.sync.conftest import ULE, add_queued, assert_exactly_once


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"status": "ok", "protocol_version": 1, "server_time": 1.0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a: object) -> None:
        pass


def _tls_server(cert: Path, key: Path) -> tuple[ThreadingHTTPServer, str]:
    """A TLS health endpoint on loopback with `cert` (its thread is a daemon; the caller
    shuts the server down); returns it and its https://localhost URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"https://localhost:{httpd.server_address[1]}"


def test_tls_is_verified_and_a_ca_bundle_is_honoured(tmp_path):
    cert, key = _self_signed(tmp_path)
    httpd, url = _tls_server(cert, key)
    try:
        with pytest.raises(SyncError) as e:
            Transport(url, connect_timeout=3).request("GET", "/v1/health", signed=False)
        assert "certificado" in e.value.user_message
        r = Transport(url, ca_bundle=str(cert), connect_timeout=3).request(
            "GET", "/v1/health", signed=False)
        assert r.json()["status"] == "ok"
    finally:
        httpd.shutdown()


def test_rate_limited_server_is_transient(ws):
    with running_server(log_level="warning", rate_per_minute=4) as srv:
        c = ws.centre.client(sizer=SizerConfig(start_bytes=2000, grow_below_s=0.0))
        c.enroll(srv.url, srv.admin.enroll_code(ULE))
        uuids = add_queued(ws, 30, seed=801)
        with pytest.raises(ServerBusy) as e:
            c.sync()
        assert e.value.transient and e.value.retry_after >= 1
        assert "Espere" in e.value.user_message
        st = ws.centre.status()
        assert 0 < st.delivered < 30 and st.delivered + st.pending + 8 * st.in_flight >= 30
        assert isinstance(e.value, SyncError) and not isinstance(e.value, NetworkError)
        delivered = [u for u, s in ws.db.execute("SELECT uuid, state FROM records")
                     if s == "DELIVERED"]
        assert_exactly_once(srv, ws, delivered)
        assert set(delivered) < set(uuids)


def test_environment_proxy_is_honoured_except_for_loopback(monkeypatch):
    import socket

    seen: list[bytes] = []
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    lst.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = lst.accept()
        except OSError:
            return
        with conn:
            seen.append(conn.recv(4096))
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    proxy = f"http://127.0.0.1:{lst.getsockname()[1]}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("https_proxy", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(SyncError):
        Transport("https://siee.example.pe", connect_timeout=3).request(
            "GET", "/v1/health", signed=False)
    th.join(5)
    lst.close()
    assert seen and seen[0].startswith(b"CONNECT siee.example.pe:443")
    # A server on this computer is reached directly, never through the proxy.
    assert not Transport("http://127.0.0.1:9").session.trust_env


def test_configured_ca_bundle_wins_over_the_environment_bundle(tmp_path, monkeypatch):
    """REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set by another program, or a proxy's setup)
    must not replace the laptop's ca_bundle: requests lets them override a Session's own
    `verify` whenever the session honours the environment, as it does for every server
    that is not on this computer (for the proxy variables)."""
    cert, key = _self_signed(tmp_path)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_cert, _ = _self_signed(other_dir)  # a valid bundle that does not trust `cert`
    httpd, url = _tls_server(cert, key)
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    try:
        for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
            monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
            monkeypatch.setenv(var, str(other_cert))
            t = Transport(url, ca_bundle=str(cert), connect_timeout=3)
            # as for a server on another machine: the environment (proxies) is honoured
            t.session.trust_env = True
            r = t.request("GET", "/v1/health", signed=False)
            assert r.json()["status"] == "ok", var
            assert t.health()["status"] == "ok", var
            # and the environment bundle is really one that does not trust this server
            plain = Transport(url, connect_timeout=3)
            plain.session.trust_env = True
            with pytest.raises(SyncError) as e:
                plain.request("GET", "/v1/health", signed=False)
            assert "certificado" in e.value.user_message
    finally:
        httpd.shutdown()
