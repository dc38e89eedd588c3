"""The webhook sink's connections: a few keep-alive ones however many rows it delivers,
never one with an answer to no request, TLS checked against the CAs the environment
names or certifi's, and the proxy the environment names."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pyproj_rpc.relay.messages import OutboxMessage
from pyproj_rpc.relay.signing import WebhookSecret
from pyproj_rpc.relay.sinks import SinkResult, Verdict
from pyproj_rpc.relay.webhook import WebhookSink, proxy_for

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


def message(number: int) -> OutboxMessage:
    now = datetime.now(UTC)
    return OutboxMessage(
        id=number,
        event_id=number,
        recipient_id=uuid.uuid4(),
        kind="status_changed",
        payload={"mentor": {"id": str(uuid.uuid4())}, "sequence": 1},
        created_at=now,
        attempt=1,
        claim_id=uuid.uuid4(),
        leased_until=now,
    )


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request, read whole: its head."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head


async def deliver_all(rows: int, max_connections: int) -> tuple[int, int, int]:
    """(rows accepted, connections opened, requests received) against a keep-alive receiver
    that answers each request after a short while."""
    connections = requests = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, requests
        connections += 1
        try:
            while True:
                await read_request(reader)
                requests += 1
                await asyncio.sleep(0.002)
                writer.write(NO_CONTENT)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink = WebhookSink(
        f"http://127.0.0.1:{port}/hook",
        [WebhookSecret.generate()],
        max_connections=max_connections,
    )
    try:
        results = await asyncio.gather(*(sink.deliver(message(n)) for n in range(rows)))
        results += [await sink.deliver(message(rows + n)) for n in range(rows)]
    finally:
        await sink.close()
        server.close()
        await server.wait_closed()
    accepted = sum(1 for result in results if result.verdict is Verdict.ACCEPTED)
    return accepted, connections, requests


def test_concurrent_deliveries_share_at_most_max_connections_keep_alive_connections() -> None:
    accepted, connections, requests = asyncio.run(deliver_all(rows=60, max_connections=4))
    assert accepted == requests == 120
    assert 1 <= connections <= 4


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server TLS context whose certificate (CN=127.0.0.1) no CA signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


async def deliver_once(url: str, server: asyncio.Server) -> SinkResult:
    sink = WebhookSink(url, [WebhookSecret.generate()], timeout=5)
    try:
        return await sink.deliver(message(1))
    finally:
        await sink.close()
        server.close()
        await server.wait_closed()


def test_a_receiver_whose_certificate_no_trusted_ca_signed_gets_nothing(tmp_path: Path) -> None:
    requests: list[bytes] = []

    async def run() -> SinkResult:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                requests.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(NO_CONTENT)
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=self_signed(tmp_path))
        port = server.sockets[0].getsockname()[1]
        return await deliver_once(f"https://127.0.0.1:{port}/hook", server)

    result = asyncio.run(run())
    assert result.verdict is Verdict.RETRY
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert requests == []


def test_webhooks_go_through_the_proxy_the_environment_names_unless_no_proxy_exempts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = "http://hooks.example.invalid/mentoring"  # .invalid never resolves

    async def run() -> tuple[SinkResult, list[bytes]]:
        request_lines: list[bytes] = []

        async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await read_request(reader)
            request_lines.append(head.split(b"\r\n")[0])
            writer.write(NO_CONTENT)
            writer.close()

        server = await asyncio.start_server(proxy, "127.0.0.1", 0)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        return await deliver_once(target, server), request_lines

    for name in ("NO_PROXY", "no_proxy", "http_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    result, request_lines = asyncio.run(run())
    assert result.verdict is Verdict.ACCEPTED
    assert request_lines == [f"POST {target} HTTP/1.1".encode()]

    monkeypatch.setenv("NO_PROXY", "localhost,.example.invalid")
    assert proxy_for(target) is None
    assert proxy_for("http://elsewhere.example/hook") == os.environ["HTTP_PROXY"]


async def verdicts(
    answer: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    rows: int,
    *,
    scheme: str = "http",
    tls: ssl.SSLContext | None = None,
    pause: float = 0.0,
) -> list[Verdict]:
    """The verdicts of ``rows`` deliveries, one after the other on one connection at most."""
    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    sink = WebhookSink(
        f"{scheme}://127.0.0.1:{port}/hook", [WebhookSecret.generate()], max_connections=1
    )
    try:
        results = []
        for number in range(rows):
            results.append((await sink.deliver(message(number))).verdict)
            await asyncio.sleep(pause)
        return results
    finally:
        await sink.close()
        server.close()
        await server.wait_closed()


def test_an_answer_that_came_while_the_connection_was_idle_is_never_taken_for_the_next_one() -> (
    None
):
    answered: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """204 to the first request, then a 200 to no request; 503 to every later one."""
        with contextlib.suppress(Exception):
            while True:
                await read_request(reader)
                answered.append(1)
                if len(answered) > 1:
                    writer.write(b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n")
                    continue
                writer.write(NO_CONTENT)
                await asyncio.sleep(0.1)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        writer.close()

    assert asyncio.run(verdicts(answer, 2, pause=0.3)) == [Verdict.ACCEPTED, Verdict.RETRY]


def test_a_ca_named_by_ssl_cert_file_is_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await read_request(reader)
            writer.write(NO_CONTENT)
            await writer.drain()
        writer.close()

    assert asyncio.run(verdicts(answer, 1, scheme="https", tls=tls)) == [Verdict.ACCEPTED]


def test_a_2xx_whose_body_does_not_decompress_accepts_the_row_and_asks_no_compression() -> None:
    heads: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                heads.append(await read_request(reader))
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 4\r\n\r\nnope"
                )
        writer.close()

    assert asyncio.run(verdicts(answer, 2)) == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert not any(b"accept-encoding" in head.lower() for head in heads)
