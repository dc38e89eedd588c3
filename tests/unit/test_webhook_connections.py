"""The webhook sink keeps a few keep-alive connections, however many rows it delivers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from pyproj_rpc.relay.messages import OutboxMessage
from pyproj_rpc.relay.signing import WebhookSecret
from pyproj_rpc.relay.sinks import Verdict
from pyproj_rpc.relay.webhook import WebhookSink

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


async def deliver_all(rows: int, max_connections: int) -> tuple[int, int, int]:
    """(rows accepted, connections opened, requests received) against a keep-alive receiver
    that answers each request after a short while."""
    connections = requests = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, requests
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
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
