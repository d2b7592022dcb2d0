"""Mutual TLS end to end: the dataflow and the producers reach the real broker through TLS.

The local broker (tansu 0.6.0) cannot serve TLS itself: its ``--cert`` and ``--key``
options are declared mutually exclusive, and with ``--cert`` alone it still serves
plaintext (checked). So the test puts a TLS-terminating proxy in front of it, which
requires a client certificate, and tells the broker to advertise the proxy's address:
every connection librdkafka makes, bootstrap and broker alike, is TLS with the project's
settings (``INVENTORY_KAFKA_SECURITY_PROTOCOL=SSL``, CA, client certificate and key).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.core.settings import Settings
from inventory.kafka.config import admin_config, kafka_connection
from inventory.kafka.local_broker import free_port, start_broker
from inventory.kafka.topics import ensure_topics


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def certificates(folder: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all by the CA."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=inventory-test-ca", "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "san.cnf",
                "-out", f"{name}.pem", cwd=folder)  # fmt: skip


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class TlsProxy:
    """Accepts TLS on ``port`` (client certificates required) and forwards to ``backend``."""

    def __init__(self, folder: Path, port: int, backend: int) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(folder / "server.pem", folder / "server.key")
        self.context.load_verify_locations(folder / "ca.pem")
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.server = socket.create_server(("127.0.0.1", port))
        self.backend = backend
        self.handshakes = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(raw,), daemon=True).start()

    def _connection(self, raw: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        self.handshakes += 1
        backend = socket.create_connection(("127.0.0.1", self.backend))
        threading.Thread(target=_pump, args=(client, backend), daemon=True).start()
        _pump(backend, client)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[str, Path, TlsProxy]]:
    certificates(tmp_path)
    backend, front = free_port(), free_port()
    proc = start_broker(backend, detach=False, advertised=f"127.0.0.1:{front}")
    proxy = TlsProxy(tmp_path, front, backend)
    try:
        yield f"127.0.0.1:{front}", tmp_path, proxy
    finally:
        proxy.close()
        proc.terminate()
        proc.wait(10)


def test_the_flow_runs_over_mutual_tls(
    tls_broker: tuple[str, Path, TlsProxy], make_settings: Any, ch: Any
) -> None:
    brokers, certs, proxy = tls_broker
    settings: Settings = make_settings(
        clickhouse_database=ch.database,  # the schema the ch fixture applied
        kafka_brokers=brokers,
        kafka_security_protocol="SSL",
        kafka_ssl_ca_location=certs / "ca.pem",
        kafka_ssl_certificate_location=certs / "client.pem",
        kafka_ssl_key_location=certs / "client.key",
    )
    ensure_topics(settings, brokers)
    messages = list(EventGenerator(GeneratorConfig(seed=4, skus=20)).messages(2000))
    publish_to_kafka(messages, kafka_connection(settings, brokers), settings.events_topic)
    run_inventory(settings, brokers, exit_at_end=True)
    assert ch.query("SELECT count() FROM events FINAL").result_rows == [(2000,)]
    assert proxy.handshakes > 0

    # without the client certificate the proxy refuses the handshake: nothing is plaintext
    plain = make_settings(kafka_brokers=brokers, kafka_ssl_ca_location=certs / "ca.pem")
    with pytest.raises(Exception, match=r"transport|Timed out|SSL"):
        admin = AdminClient(
            {**admin_config(kafka_connection(plain, brokers)), "security.protocol": "SSL"}
        )
        admin.list_topics(timeout=5)
