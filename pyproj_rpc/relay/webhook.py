"""The webhook sink: Standard Webhooks over HTTP(S) with aiohttp.

One ``aiohttp.ClientSession`` with at most ``max_connections`` keep-alive connections, one
request at a time on each. aiohttp rather than httpx: its C parser and plain connection
pool spend about a sixth of httpx's CPU per request (97 µs against 530 µs here), and the
relay delivering webhooks is CPU-bound (docs/benchmarks.md, "aiohttp").

Only a 2xx answer accepts a row. 410 Gone rejects it for good (dead-lettered). Anything
else (3xx, 4xx, 429, 5xx, a timeout, a refused connection) is retried, no sooner than
the ``Retry-After`` the receiver sent. Redirects are not followed. Server certificates
are checked against ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set, else certifi's CA
bundle (as httpx did); ``HTTP(S)_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` apply. Both are
read once, when the sink opens. Bodies are neither asked compressed nor decompressed.
"""

from __future__ import annotations

import os
import select
import ssl
import urllib.request
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import aiohttp
import certifi
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.tracing import Trace

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
        self._session: aiohttp.ClientSession | None = None
        self._proxy: str | None = None

    async def open(self) -> None:
        if self._session is not None:
            return
        self._proxy = proxy_for(self.url)
        self._session = aiohttp.ClientSession(
            connector=FreshConnector(limit=max(1, self.max_connections), ssl=tls_context()),
            # the whole exchange, the wait for a free connection included
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"user-agent": USER_AGENT, **self.extra_headers},
            skip_auto_headers=("accept-encoding",),
            auto_decompress=False,  # a 2xx body that does not decompress still accepts
            # not trust_env: it looks the proxy and .netrc up again in a thread per request
            trust_env=False,
        )

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        if self._session is None:
            await self.open()
        session = self._session
        assert session is not None
        body = message.body
        headers = {
            "content-type": "application/json",
            **webhook_headers(self.secrets, message.webhook_id, body),
        }
        try:
            async with session.post(
                self.url, data=body, headers=headers, allow_redirects=False, proxy=self._proxy
            ) as response:
                content = await response.read()  # read whole: the connection stays open
        except TimeoutError:
            return SinkResult.retry(f"timeout after {self.timeout:g}s")
        except aiohttp.ClientError as exc:
            return SinkResult.retry(f"{type(exc).__name__}: {exc}".rstrip(": "))
        text = content.decode("utf-8", "replace")
        return classify(response.status, text, response.headers.get("retry-after"))


class FreshConnector(aiohttp.TCPConnector):
    """Never reuses a kept-alive connection on which something arrived while it was idle
    (an answer to no request would be read as the next request's answer; or the peer's
    close): it is closed and another one taken."""

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        while True:
            connection = await super().connect(req, traces, timeout)
            if not received_while_idle(connection):
                return connection
            connection.close()


def received_while_idle(connection: Connection) -> bool:
    """Bytes (or an end of stream) arrived: buffered by aiohttp, or still in the socket."""
    protocol = connection.protocol
    if protocol is None:
        return False
    if protocol.should_close:
        return True
    transport = protocol.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def tls_context() -> ssl.SSLContext:
    """Trust ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set, else certifi's bundle."""
    if cafile := os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=cafile)
    if capath := os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``), unless ``NO_PROXY`` exempts its host."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def classify(status: int, text: str, retry_after: str | None) -> SinkResult:
    """A receiver's answer (its status, body and ``Retry-After``) as a sink result."""
    if 200 <= status < 300:
        return SinkResult.accepted()
    summary = " ".join(text[:ERROR_BODY_CHARS].split())
    error = f"HTTP {status}" + (f": {summary}" if summary else "")
    if status == 410:
        return SinkResult.rejected(error)
    return SinkResult.retry(error, parse_retry_after(retry_after))
