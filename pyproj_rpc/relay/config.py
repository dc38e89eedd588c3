"""The relay's settings: defaults, then a config file (JSON or TOML), then CLI options.

A config file uses the CLI option names (``-`` or ``_``), durations as text, and may list
several webhooks::

    batch_size = 20
    poll_interval = "5s"
    max_age = "24h"
    retention = "7d"        # or "off"
    metrics_port = 9464
    stdout = false

    [[webhooks]]
    url = "https://hooks.example.org/mentoring"
    secrets = ["whsec_...", "whsec_..."]   # several: rotation, each signs
    timeout = "5s"                          # default: the relay's timeout
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.relay.backoff import RetryPolicy
from pyproj_rpc.relay.durations import parse_duration, parse_optional_duration
from pyproj_rpc.relay.signing import WebhookSecret
from pyproj_rpc.relay.sinks import Sink, StdoutSink
from pyproj_rpc.relay.webhook import WebhookSink

# How much time a row's lease must still have before its delivery starts, beyond the
# sinks' timeout: a delivery never outlives the lease (no second relay claims it meanwhile).
LEASE_MARGIN = 2.0


@dataclass(frozen=True)
class WebhookConfig:
    """One webhook receiver."""

    url: str
    secrets: tuple[WebhookSecret, ...]
    timeout: float | None = None  # None: the relay's timeout


@dataclass(frozen=True)
class RelayConfig:
    """Everything a :class:`~pyproj_rpc.relay.Relay` needs besides its sinks. Times in seconds."""

    database_url: str = ""
    role: str | None = None  # SET ROLE after connecting (e.g. service_role)
    # Claims of 100 rows, 16 at once: a round trip per batch, not per row (5,000 rows/s
    # and more to a fast sink; docs/benchmarks.md).
    batch_size: int = 100
    concurrency: int = 16  # rows delivered at once (rows of one mentor: one after the other)
    poll_interval: float = 5.0  # claim at least this often, even without a wake-up
    lease: float | None = None  # None: long enough for every row of a batch to time out
    timeout: float = 10.0  # one delivery to one sink
    max_attempts: int = 10
    max_age: float | None = 86400.0
    backoff_base: float = 5.0
    backoff_cap: float = 3600.0
    retention: float | None = 7 * 86400.0  # purge delivered rows older than this
    retention_interval: float = 3600.0
    schedule: float | None = None  # run the scheduler's sweeps this often (None: not here)
    stats_interval: float = 15.0  # refresh of the backlog gauges
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    reconnect_base: float = 0.25
    reconnect_cap: float = 30.0
    connect_timeout: float = 10.0
    database_timeout: float = 5.0  # one database call: past it, the connection is dropped
    shutdown_timeout: float = 10.0  # from a stop signal to the exit, whatever the database does
    application_name: str = "pyproj-rpc-relay"
    stdout: bool = False
    webhooks: tuple[WebhookConfig, ...] = ()

    def __post_init__(self) -> None:
        for name in ("batch_size", "concurrency", "max_attempts"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1")
        for name in (
            "poll_interval",
            "timeout",
            "backoff_base",
            "backoff_cap",
            "database_timeout",
            "shutdown_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive")
        self.effective_lease(self.sink_timeout)

    @property
    def sink_timeout(self) -> float:
        """The longest a delivery to every configured webhook may take."""
        return max([self.timeout] + [w.timeout for w in self.webhooks if w.timeout])

    def effective_lease(self, sink_timeout: float) -> float:
        """The lease: as given (checked to outlast one delivery), else long enough for every
        row of a batch to time out, plus margins."""
        if self.lease is not None:
            if self.lease < sink_timeout + 2 * LEASE_MARGIN:
                raise ConfigurationError(
                    f"lease ({self.lease:g}s) must exceed the delivery timeout "
                    f"({sink_timeout:g}s) by at least {2 * LEASE_MARGIN:g}s"
                )
            return self.lease
        rounds = math.ceil(self.batch_size / self.concurrency)
        return rounds * (sink_timeout + LEASE_MARGIN) + 2 * LEASE_MARGIN

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.max_age, self.backoff_base, self.backoff_cap)

    def with_overrides(self, overrides: Mapping[str, Any]) -> RelayConfig:
        """A copy with these settings (already typed) replaced."""
        return replace(self, **dict(overrides))


DURATIONS = frozenset(
    {
        "poll_interval",
        "lease",
        "timeout",
        "backoff_base",
        "backoff_cap",
        "retention_interval",
        "stats_interval",
        "reconnect_base",
        "reconnect_cap",
        "connect_timeout",
        "database_timeout",
        "shutdown_timeout",
    }
)
OPTIONAL_DURATIONS = frozenset({"max_age", "retention", "schedule"})
INTEGERS = frozenset({"batch_size", "concurrency", "max_attempts", "metrics_port"})
STRINGS = frozenset({"database_url", "role", "metrics_host", "application_name"})


def settings_from_mapping(raw: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Typed settings from a config file's table; unknown keys are refused (typos)."""
    known = {f.name for f in fields(RelayConfig)}
    settings: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        what = f"{source}: {key}"
        if name not in known:
            raise ConfigurationError(f"{what}: unknown setting")
        if name in DURATIONS:
            settings[name] = parse_duration(value, what=what)
        elif name in OPTIONAL_DURATIONS:
            settings[name] = parse_optional_duration(value, what=what)
        elif name in INTEGERS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigurationError(f"{what}: expected an integer")
            settings[name] = value
        elif name in STRINGS:
            if not isinstance(value, str):
                raise ConfigurationError(f"{what}: expected a string")
            settings[name] = value
        elif name == "stdout":
            if not isinstance(value, bool):
                raise ConfigurationError(f"{what}: expected true or false")
            settings[name] = value
        elif name == "webhooks":
            settings[name] = tuple(_webhook(item, what) for item in _list(value, what))
        else:  # pragma: no cover - every field is in a group above
            raise ConfigurationError(f"{what}: cannot be set from a file")
    return settings


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigurationError(f"{what}: expected a list")
    return value


def _webhook(raw: Any, what: str) -> WebhookConfig:
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{what}: each webhook is a table with url and secrets")
    unknown = set(raw) - {"url", "secrets", "timeout"}
    if unknown:
        raise ConfigurationError(f"{what}: unknown webhook setting {sorted(unknown)[0]}")
    url = raw.get("url")
    if not isinstance(url, str):
        raise ConfigurationError(f"{what}: a webhook needs a url")
    secrets = raw.get("secrets", [])
    if isinstance(secrets, str):
        secrets = secrets.split()
    parsed = tuple(WebhookSecret.parse(s) for s in _list(secrets, f"{what}.secrets"))
    timeout = raw.get("timeout")
    return WebhookConfig(
        url, parsed, parse_duration(timeout, what=f"{what}.timeout") if timeout else None
    )


def load_config_file(path: Path) -> dict[str, Any]:
    """Typed settings from a ``.json`` or ``.toml`` file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            raw = json.loads(text)
        elif path.suffix.lower() == ".toml":
            raw = tomllib.loads(text)
        else:
            raise ConfigurationError(f"{path}: a config file is .json or .toml")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: expected a table of settings")
    return settings_from_mapping(raw, source=path.name)


def sinks_for(config: RelayConfig) -> list[Sink]:
    """The sinks a configuration names: each webhook, then stdout."""
    sinks: list[Sink] = [
        WebhookSink(
            webhook.url,
            webhook.secrets,
            timeout=webhook.timeout or config.timeout,
            max_connections=config.concurrency,
        )
        for webhook in config.webhooks
    ]
    if config.stdout:
        sinks.append(StdoutSink())
    return sinks


__all__ = [
    "RelayConfig",
    "WebhookConfig",
    "load_config_file",
    "settings_from_mapping",
    "sinks_for",
]
