"""The webhook sink: Standard Webhooks over HTTP(S) with httpx.

One keep-alive connection per request in flight: ``max_connections`` httpx clients of one
connection each, lent out one request at a time. (A single client's pool of many
connections spent a third of the relay's time on its own bookkeeping: each request in
flight re-examined every connection at each change of the pool, with a poll() each.)

Only a 2xx answer accepts a row. 410 Gone rejects it for good (dead-lettered). Anything
else (3xx, 4xx, 429, 5xx, a timeout, a refused connection) is retried, no sooner than
the ``Retry-After`` the receiver sent. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from pyproj_rpc import __version__
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.relay.backoff import parse_retry_after
from pyproj_rpc.relay.messages import OutboxMessage
from pyproj_rpc.relay.signing import WebhookSecret, webhook_headers
from pyproj_rpc.relay.sinks import Sink, SinkResult

USER_AGENT = f"pyproj-rpc-relay/{__version__}"
ERROR_BODY_CHARS = 200


class WebhookSink(Sink):
    """POST each row's envelope to ``url``, signed with every secret in ``secrets``."""

    def __init__(
        self,
        url: str,
        secrets: Sequence[WebhookSecret],
        *,
        timeout: float = 10.0,
        max_connections: int = 10,
        headers: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"webhook URL {url!r} is not an http(s) URL")
        if not secrets:
            raise ConfigurationError(f"webhook {url}: give at least one whsec_ secret")
        self.url = url
        self.secrets = tuple(secrets)
        self.timeout = timeout
        self.max_connections = max_connections
        self.extra_headers = dict(headers or {})
        self.name = name or f"webhook:{parts.netloc}"
        self._clients: list[httpx.AsyncClient] = []
        self._idle: asyncio.Queue[httpx.AsyncClient] | None = None

    async def open(self) -> None:
        if self._idle is not None:
            return
        tls = httpx.create_ssl_context()  # one for all: loading the CA bundle takes ~20 ms
        self._clients = [
            httpx.AsyncClient(
                verify=tls,
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                follow_redirects=False,
                headers={"user-agent": USER_AGENT, **self.extra_headers},
            )
            for _ in range(max(1, self.max_connections))
        ]
        self._idle = asyncio.Queue()
        for client in self._clients:
            self._idle.put_nowait(client)

    async def close(self) -> None:
        clients, self._clients, self._idle = self._clients, [], None
        for client in clients:
            await client.aclose()

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        if self._idle is None:
            await self.open()
        idle = self._idle
        assert idle is not None
        body = message.body
        headers = {
            "content-type": "application/json",
            **webhook_headers(self.secrets, message.webhook_id, body),
        }
        client: httpx.AsyncClient | None = None
        try:
            # httpx times each phase; this bounds the whole exchange, the wait for a free
            # connection included.
            async with asyncio.timeout(self.timeout):
                client = await idle.get()
                response = await client.post(self.url, content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return SinkResult.retry(f"timeout after {self.timeout:g}s")
        except httpx.HTTPError as exc:
            return SinkResult.retry(f"{type(exc).__name__}: {exc}".rstrip(": "))
        finally:
            if client is not None:
                idle.put_nowait(client)
        return classify(response)


def classify(response: httpx.Response) -> SinkResult:
    """A receiver's answer as a sink result."""
    status = response.status_code
    if 200 <= status < 300:
        return SinkResult.accepted()
    text = " ".join(response.text[:ERROR_BODY_CHARS].split())
    error = f"HTTP {status}" + (f": {text}" if text else "")
    if status == 410:
        return SinkResult.rejected(error)
    return SinkResult.retry(error, parse_retry_after(response.headers.get("retry-after")))
