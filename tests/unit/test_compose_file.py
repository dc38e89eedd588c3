"""docker-compose.yml wires PostgreSQL, our migrations and PostgREST the way we document.

No Docker engine runs here, so the file is checked structurally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_postgrest_exposes_only_the_api_schema_with_anon_as_the_anonymous_role() -> None:
    rest = compose()["services"]["rest"]["environment"]
    assert rest["PGRST_DB_SCHEMAS"] == "api"
    assert rest["PGRST_DB_ANON_ROLE"] == "anon"
    assert rest["PGRST_DB_URI"].startswith("postgres://authenticator:")
    assert rest["PGRST_JWT_AUD"] == "authenticated"


def test_postgrest_starts_after_the_migrations_which_start_after_a_healthy_database() -> None:
    services = compose()["services"]
    assert services["rest"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"}
    }
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pyproj-rpc db upgrade" in " ".join(services["migrate"]["command"])


def test_every_mounted_file_exists_in_the_repository() -> None:
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), source


def test_ports_are_published_on_loopback_only() -> None:
    for service in compose()["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_secrets_come_from_the_environment_and_are_required() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "AUTHENTICATOR_PASSWORD", "JWT_SECRET"):
        assert f"${{{secret}:?" in text, secret


def test_the_api_and_the_relay_start_after_the_migrations() -> None:
    services = compose()["services"]
    for name, command in (("api", "pyproj-rpc api"), ("relay", "pyproj-rpc relay")):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
        assert command in " ".join(services[name]["command"])
    assert "--schedule" in " ".join(services["relay"]["command"])
