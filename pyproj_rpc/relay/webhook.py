"""The webhook sink: Standard Webhooks over HTTP(S) with httpx, one client per sink.

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
        self._client: httpx.AsyncClient | None = None

    async def open(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            ),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT, **self.extra_headers},
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        if self._client is None:
            await self.open()
        assert self._client is not None
        body = message.body
        headers = {
            "content-type": "application/json",
            **webhook_headers(self.secrets, message.webhook_id, body),
        }
        try:
            # httpx times each phase; this bounds the whole exchange.
            async with asyncio.timeout(self.timeout):
                response = await self._client.post(self.url, content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return SinkResult.retry(f"timeout after {self.timeout:g}s")
        except httpx.HTTPError as exc:
            return SinkResult.retry(f"{type(exc).__name__}: {exc}".rstrip(": "))
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
