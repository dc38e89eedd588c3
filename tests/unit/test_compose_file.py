"""docker-compose.yml: the self-hosted stack, built on our image, as we document it.

No Docker engine runs here: the file is checked structurally, and with Debian's
docker-compose (`config --quiet`), which .ci/run installs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = ("db", "rest", "api", "relay")
OUR_SERVICES = ("migrate", "api", "relay")
VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[?-][^}]*)?\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def services() -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"]
    return found


def command_line(service: dict[str, Any]) -> str:
    return " ".join([*service.get("entrypoint", []), *service.get("command", [])])


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def login_of(url: str) -> str:
    """The user of a database URL (whose password is still a ${VARIABLE})."""
    found = re.match(r"^postgres(?:ql)?://([a-z_]+):", url)
    assert found is not None, url
    return found[1]


def test_no_service_but_the_one_shot_migration_logs_in_as_the_owner() -> None:
    found = services()
    logins = {
        "migrate": login_of(found["migrate"]["environment"]["DATABASE_URL"]),
        "rest": login_of(found["rest"]["environment"]["PGRST_DB_URI"]),
        "api": login_of(found["api"]["environment"]["DATABASE_URL"]),
        "relay": login_of(found["relay"]["environment"]["DATABASE_URL"]),
    }
    assert logins == {
        # The owner; in supabase/postgres, as on hosted Supabase, not a superuser.
        "migrate": "postgres",
        "rest": "authenticator",
        "api": "pyproj_api",
        "relay": "pyproj_relay",
    }
    assert found["migrate"]["restart"] == "no"
    text = (ROOT / "docker-compose.yml").read_text()
    assert "supabase_admin:" not in text  # the superuser's login appears in no URL


def test_the_database_is_supabase_postgres_pinned_with_pg_cron_and_a_named_volume() -> None:
    db = services()["db"]
    assert re.fullmatch(r"supabase/postgres:15\.\d+\.\d+\.\d+", db["image"]), db["image"]
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in compose()["volumes"]
    init = ROOT / "db/docker/99-pyproj-rpc.sql"
    assert f"./{init.relative_to(ROOT)}:/docker-entrypoint-initdb.d/migrations/" in " ".join(
        db["volumes"]
    )
    assert "create extension if not exists pg_cron" in init.read_text()


def test_the_migration_upgrades_then_creates_the_logins_then_schedules_the_sweeps() -> None:
    migrate = services()["migrate"]
    line = command_line(migrate)
    steps = ("pyproj-rpc db upgrade", "pyproj-rpc db logins", "pyproj-rpc schedule install")
    positions = [line.index(step) for step in steps]
    assert positions == sorted(positions), line
    assert migrate["entrypoint"] == ["/bin/sh", "-ec"]  # any failing step fails the service
    assert " && ".join(steps) in line
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_everything_else_waits_for_the_migration_to_complete() -> None:
    found = services()
    for name in ("rest", "api", "relay"):
        assert found[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }, name


def test_postgrest_exposes_only_the_api_schema_with_anon_as_the_anonymous_role() -> None:
    rest = services()["rest"]
    env = rest["environment"]
    assert re.fullmatch(r"postgrest/postgrest:v\d+\.\d+(\.\d+)?", rest["image"]), rest["image"]
    assert env["PGRST_DB_SCHEMAS"] == "api"
    assert env["PGRST_DB_ANON_ROLE"] == "anon"
    assert env["PGRST_JWT_AUD"] == "authenticated"


def test_the_api_and_the_relay_run_our_image_built_from_the_dockerfile() -> None:
    found = services()
    images = {found[name]["image"] for name in OUR_SERVICES}
    assert images == {"pyproj-rpc:0.1.0"}
    for name in OUR_SERVICES:
        assert found[name]["build"] == {"context": "."}, name
        assert found[name]["read_only"] is True, name
        assert found[name]["cap_drop"] == ["ALL"], name
    assert "pip install" not in (ROOT / "docker-compose.yml").read_text()
    assert command_line(found["api"]).startswith("api --host 0.0.0.0 --port 8000")


def test_the_relay_acts_as_mentoring_relay_and_leaves_the_sweeps_to_pg_cron() -> None:
    relay = services()["relay"]
    line = command_line(relay)
    assert line.startswith("relay --role mentoring_relay")
    assert "--schedule" not in line
    assert "--metrics-port 9464" in line
    assert relay["healthcheck"]["test"][-1] == "http://127.0.0.1:9464/healthz"


def test_every_long_running_service_has_a_health_check_and_a_restart_policy() -> None:
    found = services()
    for name in LONG_RUNNING:
        service = found[name]
        assert service["restart"] == "unless-stopped", name
        check = service["healthcheck"]
        assert check["test"][0] == "CMD", name
        assert not check.get("disable"), name
    assert found["migrate"]["healthcheck"] == {"disable": True}


def test_each_service_gets_only_its_own_secrets() -> None:
    found = services()
    used = {
        name: set(VARIABLE.findall(yaml.safe_dump(service.get("environment", {}))))
        for name, service in found.items()
    }
    assert used == {
        "db": {"POSTGRES_PASSWORD", "AUTHENTICATOR_PASSWORD"},
        "migrate": {"POSTGRES_PASSWORD", "PYPROJ_API_DB_PASSWORD", "PYPROJ_RELAY_DB_PASSWORD"},
        "rest": {"AUTHENTICATOR_PASSWORD", "JWT_SECRET"},
        "api": {"PYPROJ_API_DB_PASSWORD", "JWT_SECRET"},
        "relay": {"PYPROJ_RELAY_DB_PASSWORD"},
    }


def test_secrets_come_from_the_environment_and_are_required() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    variables = set(VARIABLE.findall(text))
    assert variables == {
        "POSTGRES_PASSWORD",
        "AUTHENTICATOR_PASSWORD",
        "PYPROJ_API_DB_PASSWORD",
        "PYPROJ_RELAY_DB_PASSWORD",
        "JWT_SECRET",
    }
    for secret in variables:
        assert f"${{{secret}:?" in text, secret
        assert f"${{{secret}:-" not in text, secret  # no default that could ship


def test_the_env_example_has_a_placeholder_for_every_variable_and_no_secret() -> None:
    example = env_example()
    variables = set(VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    assert set(example) == variables | {"COMPOSE_PROJECT_NAME"}
    for name in variables:
        assert example[name].startswith("change-me-"), name
    text = (ROOT / ".env.example").read_text()
    assert "openssl rand -hex 32" in text
    assert ".env" in (ROOT / ".gitignore").read_text().split()  # a real .env is never committed


def test_every_mounted_file_exists_in_the_repository() -> None:
    for service in services().values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), source


def test_ports_are_published_on_loopback_only() -> None:
    for service in services().values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_docker_compose_accepts_the_stack_with_the_example_settings(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (.ci/run installs Debian's, as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {key: value for key, value in os.environ.items() if key not in env_example()}
    checked = subprocess.run(
        [binary, "--env-file", ".env.example", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    # Without the secrets, compose refuses to start anything, and says which one is missing.
    nothing = tmp_path / "empty.env"
    nothing.write_text("")
    missing = subprocess.run(
        [binary, "--env-file", str(nothing), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert missing.returncode != 0
    assert "set " in missing.stderr
    assert "in .env" in missing.stderr
