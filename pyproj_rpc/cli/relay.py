"""``pyproj-rpc relay``: deliver the outbox to webhooks and/or stdout, until stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pyproj_rpc.cli.app import database_url_option
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.relay import Relay, RelayConfig, WebhookConfig, WebhookSecret, sinks_for
from pyproj_rpc.relay import logs as relay_logs
from pyproj_rpc.relay.config import load_config_file
from pyproj_rpc.relay.durations import parse_duration, parse_optional_duration
from pyproj_rpc.settings import resolve_database_url

SECRETS_ENV = "PYPROJ_RELAY_WEBHOOK_SECRETS"
WEAK_HINT = "Standard Webhooks recommends secrets of 24 to 64 random bytes"


F = TypeVar("F", bound=Callable[..., Any])


class Off:
    """An optional duration turned off on the command line (None means "not given")."""


OFF = Off()


def _duration(optional: bool) -> Any:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        what = f"--{(param.name or 'duration').replace('_', '-')}"
        try:
            if optional:
                seconds = parse_optional_duration(value, what=what)
                return OFF if seconds is None else seconds
            return parse_duration(value, what=what)
        except ConfigurationError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    return convert


def duration_option(*names: str, optional: bool = False, **kwargs: Any) -> Callable[[F], F]:
    """An option taking ``500ms``, ``5s``, ``10m``, ``24h``, ``7d`` (``off`` if optional)."""
    return click.option(
        *names,
        metavar="DURATION" + ("|off" if optional else ""),
        callback=_duration(optional),
        **kwargs,
    )


@click.command()
@database_url_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Settings and sinks from a .toml or .json file; options given here win.",
)
@click.option(
    "--webhook-url", "webhook_urls", multiple=True, help="POST each notification here (repeat)."
)
@click.option(
    "--webhook-secret",
    "webhook_secrets",
    multiple=True,
    envvar=SECRETS_ENV,
    help=f"whsec_... signing secret for --webhook-url; repeat to rotate (each signs). "
    f"Also ${SECRETS_ENV}, space-separated.",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print each notification as JSON lines.")
@click.option("--batch-size", type=click.IntRange(1, 1000), help="Rows per claim. [default: 100]")
@click.option(
    "--concurrency", type=click.IntRange(1, 256), help="Rows delivered at once. [default: 16]"
)
@duration_option("--poll-interval", help="Claim at least this often. [default: 5s]")
@duration_option(
    "--lease",
    help="How long a claim is ours. [default: enough for a batch to time out]",
)
@duration_option("--timeout", help="One webhook request, in all. [default: 10s]")
@duration_option(
    "--database-timeout",
    help="One database call; past it the connection is dropped and made again. [default: 5s]",
)
@duration_option(
    "--shutdown-timeout",
    help="From SIGTERM to the exit, even if the database hangs: rows in flight that have not"
    " finished by then are left to their lease. [default: 10s]",
)
@click.option(
    "--max-attempts", type=click.IntRange(1), help="Dead-letter after this many. [default: 10]"
)
@duration_option(
    "--max-age", optional=True, help="Dead-letter failing rows this old. [default: 24h]"
)
@duration_option("--backoff-base", help="First retry within this. [default: 5s]")
@duration_option("--backoff-cap", help="Longest wait between tries. [default: 1h]")
@duration_option(
    "--retention",
    optional=True,
    help="Purge delivered rows older than this; `off` keeps them. [default: 7d]",
)
@duration_option(
    "--schedule",
    optional=True,
    help="Also run the scheduler's sweeps this often (e.g. 15m), one relay at a time."
    " [default: off]",
)
@duration_option("--stats-interval", help="Refresh of the backlog metrics. [default: 15s]")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve /metrics and /healthz on this port (0: any free port).",
)
@click.option("--metrics-host", help="Address for --metrics-port. [default: 127.0.0.1]")
@click.option(
    "--role", help="SET ROLE after connecting (e.g. service_role). [default: the login role]"
)
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Least severe log records written (one JSON object a line, on stderr).",
)
def relay(
    *,
    database_url: str | None,
    config_file: Path | None,
    webhook_urls: tuple[str, ...],
    webhook_secrets: tuple[str, ...],
    to_stdout: bool,
    once: bool,
    log_level: str,
    **options: Any,
) -> None:
    """Deliver coordinator notifications from the outbox, at least once.

    Listens for wake-ups on a dedicated connection (use a direct or session-pooled URL:
    LISTEN does not work through PgBouncer's transaction pooling), claims due rows in
    batches and records each outcome. SIGTERM or Ctrl-C stop it cleanly (exit 0).
    """
    config = build_config(
        database_url=database_url,
        config_file=config_file,
        webhook_urls=webhook_urls,
        webhook_secrets=webhook_secrets,
        to_stdout=to_stdout,
        options=options,
    )
    if once and config.schedule is not None:
        raise ConfigurationError(
            "--once delivers what is due and exits; it runs no scheduled sweep: run the"
            " sweeps once with `pyproj-rpc expire-certifications` and `pyproj-rpc"
            " remind-overdue`, or add --schedule off"
        )
    relay_logs.configure(log_level)
    sinks = sinks_for(config)
    for webhook in config.webhooks:
        if any(secret.weak for secret in webhook.secrets):
            relay_logs.event(logging.WARNING, "weak_secret", url=webhook.url, hint=WEAK_HINT)
    # What is loaded by now lives as long as the process: full collections skip it (they
    # paused deliveries for 20-75 ms every 10-20 s, see docs/benchmarks.md).
    gc.freeze()
    asyncio.run(Relay(config, sinks).serve(once=once, handle_signals=True))


def build_config(
    *,
    database_url: str | None,
    config_file: Path | None,
    webhook_urls: tuple[str, ...],
    webhook_secrets: tuple[str, ...],
    to_stdout: bool,
    options: dict[str, Any],
) -> RelayConfig:
    """Defaults, then the config file, then the options given on the command line."""
    settings: dict[str, Any] = load_config_file(config_file) if config_file else {}
    given = {
        name: None if value is OFF else value
        for name, value in options.items()
        if value is not None
    }
    settings.update(given)
    secrets = tuple(WebhookSecret.parse(text) for text in webhook_secrets)
    if webhook_urls and not secrets:
        raise ConfigurationError(
            f"--webhook-url needs at least one --webhook-secret whsec_... (or ${SECRETS_ENV})"
        )
    settings["webhooks"] = tuple(settings.get("webhooks", ())) + tuple(
        WebhookConfig(url, secrets) for url in webhook_urls
    )
    settings["stdout"] = to_stdout or settings.get("stdout", False)
    if not settings["webhooks"] and not settings["stdout"]:
        raise ConfigurationError("say where notifications go: --webhook-url, --stdout or --config")
    settings["database_url"] = resolve_database_url(database_url or settings.get("database_url"))
    return RelayConfig(**settings)
