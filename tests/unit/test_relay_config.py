"""Relay settings: durations, config files, and how command-line options override them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyproj_rpc.cli.relay import build_config
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.relay import RelayConfig, WebhookSecret
from pyproj_rpc.relay.durations import parse_duration, parse_optional_duration

URL = "postgresql://relay@db.example/postgres"
SECRET = str(WebhookSecret(b"k" * 32))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("50ms", 0.05),
        ("5s", 5.0),
        ("10m", 600.0),
        ("24h", 86400.0),
        ("7d", 604800.0),
        ("1h30m", 5400.0),
        (3, 3.0),  # from code or a file's number: seconds
    ],
)
def test_durations_read_as_people_write_them(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 parsecs", "m5", "-1s", "0s", "1h 30m"])
def test_a_malformed_or_non_positive_duration_is_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"duration|positive"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["7", "2.5", "15"])
def test_a_duration_written_without_a_unit_is_refused_with_the_units_to_choose(
    text: str,
) -> None:
    with pytest.raises(ConfigurationError, match=rf"needs a unit: {text}s, {text}m"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["off", "none", "never", "0", 0])
def test_an_optional_duration_can_be_turned_off(text: str | int) -> None:
    assert parse_optional_duration(text) is None


def config(tmp_path: Path, text: str, suffix: str = ".toml", **cli: object) -> RelayConfig:
    path = tmp_path / f"relay{suffix}"
    path.write_text(text)
    return build_config(
        database_url=URL,
        config_file=path,
        webhook_urls=tuple(cli.pop("webhook_urls", ())),  # type: ignore[arg-type]
        webhook_secrets=tuple(cli.pop("webhook_secrets", ())),  # type: ignore[arg-type]
        to_stdout=bool(cli.pop("to_stdout", False)),
        options=dict(cli),
    )


def test_a_toml_file_sets_the_relay_and_its_webhooks(tmp_path: Path) -> None:
    loaded = config(
        tmp_path,
        f"""
        batch-size = 5
        poll_interval = "2s"
        max_age = "off"
        retention = "3d"
        metrics_port = 9464
        [[webhooks]]
        url = "https://hooks.example.org/a"
        secrets = ["{SECRET}"]
        timeout = "3s"
        [[webhooks]]
        url = "https://hooks.example.org/b"
        secrets = "{SECRET} {SECRET}"
        """,
    )
    assert (loaded.batch_size, loaded.poll_interval, loaded.max_age) == (5, 2.0, None)
    assert (loaded.retention, loaded.metrics_port) == (3 * 86400.0, 9464)
    assert [(w.url, len(w.secrets), w.timeout) for w in loaded.webhooks] == [
        ("https://hooks.example.org/a", 1, 3.0),
        ("https://hooks.example.org/b", 2, None),
    ]
    assert loaded.database_url == URL


def test_options_given_on_the_command_line_win_over_the_file(tmp_path: Path) -> None:
    loaded = config(
        tmp_path,
        '{"batch_size": 5, "stdout": true, "retention": "3d"}',
        ".json",
        batch_size=9,
        retention=None,
        webhook_urls=("https://hooks.example.org/c",),
        webhook_secrets=(SECRET,),
    )
    assert (loaded.batch_size, loaded.stdout, loaded.retention) == (9, True, 3 * 86400.0)
    assert [w.url for w in loaded.webhooks] == ["https://hooks.example.org/c"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("batch_sise = 5\nstdout = true", "batch_sise: unknown setting"),
        ('stdout = "yes"', "expected true or false"),
        ('poll_interval = "soon"\nstdout = true', "not a duration"),
        ('[[webhooks]]\nurl = "https://x.example"\nsecrets = ["nope"]', "whsec_"),
        ("batch_size = 5", "say where notifications go"),
        ("stdout = true\n[nested", "relay.toml"),
    ],
)
def test_a_bad_config_file_is_refused_with_the_setting_named(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        config(tmp_path, text)


def test_a_webhook_needs_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="needs at least one --webhook-secret"):
        config(tmp_path, "", webhook_urls=("https://hooks.example.org/c",))


def test_the_default_lease_outlasts_a_batch_of_timeouts_and_a_short_lease_is_refused() -> None:
    relay = RelayConfig(database_url=URL, batch_size=20, concurrency=4, timeout=10.0)
    assert relay.effective_lease(10.0) >= 5 * 10.0
    with pytest.raises(ConfigurationError, match="must exceed the delivery timeout"):
        RelayConfig(database_url=URL, timeout=10.0, lease=11.0)
