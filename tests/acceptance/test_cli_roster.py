"""`pyproj-rpc roster ...` and `pyproj-rpc token` as a user runs them: a subprocess each,
their output, their exit codes, and nothing changed by a refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest

from pyproj_rpc.cli import exit_codes
from pyproj_rpc.roster import Roster, connect, run_change
from tests.conftest import Database

EXAMPLE = Path(__file__).parents[2] / "examples" / "roster.csv"
SECRET = "a-development-secret-of-at-least-32-characters"
SETTINGS = ("DATABASE_URL", "PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET")


def pyproj(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run(
        [sys.executable, "-m", "pyproj_rpc", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def roster(database: Database, *args: str) -> subprocess.CompletedProcess[str]:
    return pyproj("roster", *args, "--database-url", database.url)


def changes(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """The --json outcomes of a roster write, by kind."""
    assert result.returncode == exit_codes.OK, result.stderr
    return {change["kind"]: change for change in json.loads(result.stdout)["changes"]}


def listing(database: Database) -> dict[str, Any]:
    """What the database holds, read in-process (`roster list` itself is tested once)."""
    with connect(database.url) as conn:
        return Roster(conn).listing()


def cli_listing(database: Database) -> dict[str, Any]:
    result = roster(database, "list", "--json")
    assert result.returncode == exit_codes.OK, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_an_organization_is_set_up_step_by_step_and_listed(isolated_db: Database) -> None:
    created = changes(
        roster(isolated_db, "org", "create", "Lakeside", "--time-zone", "Europe/Berlin", "--json")
    )
    assert created["organization"]["action"] == "created"
    coordinator = changes(
        roster(
            isolated_db,
            "staff",
            "add",
            "Lakeside",
            "--role",
            "coordinator",
            "--email",
            "riley@lakeside.example",
            "--create-user",
            "--json",
        )
    )
    assert coordinator["user"]["action"] == "created"
    mentor = changes(
        roster(
            isolated_db,
            "mentor",
            "add",
            "Lakeside",
            "Noor",
            "--email",
            "noor@lakeside.example",
            "--create-user",
            "--certified-from",
            "2026-01-01",
            "--certification",
            "Training",
            "--json",
        )
    )
    assert mentor["mentor"]["status"] == "active"
    mentor_id = mentor["mentor"]["id"]
    assigned = changes(roster(isolated_db, "assign", mentor_id, "riley@lakeside.example", "--json"))
    assert assigned["assignment"]["action"] == "created"
    text = roster(isolated_db, "list")
    assert text.returncode == exit_codes.OK, text.stderr
    assert "Lakeside" in text.stdout
    assert "riley@lakeside.example" in text.stdout
    (org,) = cli_listing(isolated_db)["organizations"]
    assert org["time_zone"] == "Europe/Berlin"
    assert [(s["email"], s["role"]) for s in org["staff"]] == [
        ("riley@lakeside.example", "coordinator")
    ]
    (noor,) = org["mentors"]
    assert noor["coordinators"][0]["email"] == "riley@lakeside.example"
    assert noor["certifications"][0]["name"] == "Training"
    assert noor["certified_through"] == "infinity"


def test_certifications_are_recorded_extended_and_ended_without_touching_the_status(
    isolated_db: Database,
) -> None:
    roster(isolated_db, "org", "create", "Lakeside")
    mentor = changes(roster(isolated_db, "mentor", "add", "Lakeside", "Pia", "--json"))
    assert mentor["mentor"]["status"] == "expired_cert"
    mentor_id = mentor["mentor"]["id"]
    recorded = changes(
        roster(
            isolated_db,
            "cert",
            "record",
            mentor_id,
            "--from",
            "2026-01-01",
            "--until",
            "2026-12-31",
            "--json",
        )
    )["certification"]
    assert "reactivates" in recorded["note"]
    extended = roster(isolated_db, "cert", "extend", recorded["id"], "--until", "2030-12-31")
    assert extended.returncode == exit_codes.OK, extended.stderr
    assert "updated certification Pia 2026-01-01 .. 2030-12-31" in extended.stdout
    ended = changes(roster(isolated_db, "cert", "end", recorded["id"], "--json"))["certification"]
    assert ended["action"] == "updated"
    assert cli_listing(isolated_db)["organizations"][0]["mentors"][0]["status"] == "expired_cert"


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (
            ("org", "create", "Lakeside", "--time-zone", "Mars/Olympus"),
            "invalid_input",
            exit_codes.USAGE,
        ),
        (("org", "create", " "), "invalid_input", exit_codes.USAGE),
        (
            ("staff", "add", "Lakeside", "--role", "boss", "--email", "a@b.example"),
            "invalid_input",
            exit_codes.USAGE,
        ),
        (
            ("staff", "add", "Nowhere", "--role", "admin", "--email", "a@b.example"),
            "organization_not_found",
            exit_codes.REFUSED,
        ),
        (
            ("staff", "add", "Lakeside", "--role", "admin", "--email", "a@b.example"),
            "user_not_found",
            exit_codes.REFUSED,
        ),
        (
            ("mentor", "add", "Lakeside", "Noor", "--certified-from", "soon"),
            "invalid_input",
            exit_codes.USAGE,
        ),
        (
            (
                "mentor",
                "add",
                "Lakeside",
                "Noor",
                "--certified-from",
                "2026-02-01",
                "--certified-until",
                "2026-01-01",
            ),
            "invalid_input",
            exit_codes.USAGE,
        ),
        (("assign", "not-a-uuid", "a@b.example"), "invalid_input", exit_codes.USAGE),
        (
            ("assign", "00000000-0000-0000-0000-000000000000", "a@b.example"),
            "mentor_not_found",
            exit_codes.REFUSED,
        ),
        (
            ("cert", "extend", "00000000-0000-0000-0000-000000000000", "--no-end"),
            "certification_not_found",
            exit_codes.REFUSED,
        ),
        (
            ("cert", "extend", "00000000-0000-0000-0000-000000000000"),
            "invalid_input",
            exit_codes.USAGE,
        ),
    ],
)
def test_bad_input_and_refusals_have_a_stable_code_an_exit_code_and_change_nothing(
    isolated_db: Database, args: tuple[str, ...], code: str, exit_code: int
) -> None:
    run_change(isolated_db.url, Roster.create_organization, "Lakeside", "UTC")
    before = listing(isolated_db)
    result = roster(isolated_db, *args)
    assert result.returncode == exit_code, result.stderr
    assert result.stderr.startswith(f"error: {code}: "), result.stderr
    assert "Traceback" not in result.stderr
    assert listing(isolated_db) == before


def test_with_json_a_refusal_is_json_too(isolated_db: Database) -> None:
    result = roster(isolated_db, "org", "create", "Lakeside", "--time-zone", "Nowhere", "--json")
    assert result.returncode == exit_codes.USAGE
    error = json.loads(result.stderr)["error"]
    assert (error["code"], error["details"]) == ("invalid_input", {"field": "time_zone"})
    assert result.stdout == ""


def test_importing_a_roster_twice_reports_created_then_unchanged(isolated_db: Database) -> None:
    first = roster(isolated_db, "import", str(EXAMPLE), "--create-users", "--json")
    assert first.returncode == exit_codes.OK, first.stderr
    report = json.loads(first.stdout)
    assert report["counts"] == {"created": 12}
    second = roster(isolated_db, "import", str(EXAMPLE))
    assert second.returncode == exit_codes.OK, second.stderr
    assert second.stdout.strip().endswith("12 rows: 12 unchanged")


PLANTED = """
create function public.{name}(daterange) returns date language plpgsql as $$
begin
  raise exception 'planted public.{name} ran as %', current_user;
end
$$;
"""


def test_roster_runs_no_function_another_role_planted_in_public(isolated_db: Database) -> None:
    # As on Supabase, where authenticated may create in public: a better match than
    # pg_catalog.lower(anyrange) for the owner's unqualified lower(daterange).
    first = roster(isolated_db, "import", str(EXAMPLE), "--create-users")
    assert first.returncode == exit_codes.OK, first.stderr
    before = cli_listing(isolated_db)
    with isolated_db.connect(autocommit=True) as conn:
        conn.execute("grant create on schema public to authenticated")
        conn.execute("set role authenticated")
        for name in ("lower", "upper"):
            conn.execute(PLANTED.format(name=name))
        conn.execute("reset role")
        with pytest.raises(psycopg.errors.RaiseException, match=r"planted public\.lower ran"):
            conn.execute("select lower(valid_during) from mentoring.certifications")

    again = roster(isolated_db, "import", str(EXAMPLE), "--json")
    assert again.returncode == exit_codes.OK, again.stderr
    assert json.loads(again.stdout)["counts"] == {"unchanged": 12}
    assert cli_listing(isolated_db) == before


def test_an_import_with_a_malformed_row_applies_nothing_and_exits_2(
    isolated_db: Database, tmp_path: Path
) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text(
        "kind,organization,time_zone,name,valid_from\n"
        "organization,Lakeside,UTC,,\n"
        "mentor,Lakeside,,Noor,31/12/2026\n"
    )
    result = roster(isolated_db, "import", str(bad))
    assert result.returncode == exit_codes.USAGE
    assert "row 2: invalid mentor Lakeside: Noor\n  invalid_input: valid_from" in result.stdout
    assert "nothing applied" in result.stdout
    assert listing(isolated_db) == {"organizations": []}


def test_an_import_with_refused_rows_reports_each_and_exits_3(isolated_db: Database) -> None:
    result = roster(isolated_db, "import", str(EXAMPLE), "--json")  # no --create-users
    assert result.returncode == exit_codes.REFUSED
    rows = json.loads(result.stdout)["rows"]
    refused = [row for row in rows if row["action"] == "refused"]
    assert {row["code"] for row in refused} == {"user_not_found"}
    assert [row["kind"] for row in rows if row["action"] == "created"] == [
        "organization",
        "mentor",
        "certification",
    ]


def test_an_unreadable_import_file_is_refused_before_any_database(tmp_path: Path) -> None:
    result = pyproj(
        "roster",
        "import",
        str(tmp_path / "missing.csv"),
        "--database-url",
        "postgresql://nowhere.invalid/x",
    )
    assert result.returncode == exit_codes.USAGE
    assert result.stderr.startswith("error: invalid_file: cannot read")


def test_a_token_is_signed_and_shaped_like_a_supabase_access_token() -> None:
    user = "5f0c3f8e-8a86-4a4f-9a4c-1b2f1f6f2a11"
    result = pyproj(
        "token",
        "--as",
        user,
        "--email",
        "ada@example.org",
        "--ttl",
        "15m",
        PYPROJ_JWT_SECRET=SECRET,
    )
    assert result.returncode == exit_codes.OK, result.stderr
    claims = jwt.decode(
        result.stdout.strip(), SECRET, algorithms=["HS256"], audience="authenticated"
    )
    assert claims["sub"] == user
    assert claims["role"] == "authenticated"
    assert claims["email"] == "ada@example.org"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 300
    assert {"iss", "phone", "app_metadata", "user_metadata", "session_id", "is_anonymous"} <= set(
        claims
    )
    assert jwt.get_unverified_header(result.stdout.strip())["alg"] == "HS256"


def test_a_service_role_token_needs_no_user_and_names_no_audience() -> None:
    result = pyproj("token", "--role", "service_role", "--json", SUPABASE_JWT_SECRET=SECRET)
    assert result.returncode == exit_codes.OK, result.stderr
    data = json.loads(result.stdout)
    claims = jwt.decode(data["access_token"], SECRET, algorithms=["HS256"])
    assert claims["role"] == "service_role"
    assert "aud" not in claims
    assert "sub" not in claims
    assert data["expires_in"] == 3600


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ("--as", "5f0c3f8e-8a86-4a4f-9a4c-1b2f1f6f2a11", "--ttl", "60"),
            {"PYPROJ_JWT_SECRET": SECRET},
            "needs a unit",
        ),
        (
            ("--as", "5f0c3f8e-8a86-4a4f-9a4c-1b2f1f6f2a11", "--ttl", "soon"),
            {"PYPROJ_JWT_SECRET": SECRET},
            "not a duration",
        ),
        (("--as", "5f0c3f8e-8a86-4a4f-9a4c-1b2f1f6f2a11"), {}, "no JWT secret"),
        (
            ("--as", "5f0c3f8e-8a86-4a4f-9a4c-1b2f1f6f2a11"),
            {"PYPROJ_JWT_SECRET": "short"},
            "at least 32",
        ),
        ((), {"PYPROJ_JWT_SECRET": SECRET}, "pass --as USER_ID"),
    ],
)
def test_a_token_request_that_cannot_be_honoured_exits_2_with_a_reason(
    args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    result = pyproj("token", *args, **env)
    assert result.returncode == exit_codes.USAGE
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["org", "create", b"caf\xe9"],
        ["staff", "add", b"caf\xe9", "--role", "admin", "--email", "a@b.example"],
        ["list", "--org", b"caf\xe9"],
    ],
)
def test_text_postgresql_cannot_hold_exits_2_without_a_traceback(
    isolated_db: Database, args: list[str | bytes]
) -> None:
    argv: list[str | bytes] = [sys.executable, "-m", "pyproj_rpc", "roster", *args]
    result = subprocess.run(
        [*argv, "--database-url", isolated_db.url],
        capture_output=True,
        env=os.environ | {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"},
        timeout=60,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == exit_codes.USAGE, stderr
    assert stderr.startswith("error: invalid_input: "), stderr
    assert "lone surrogate" in stderr
    assert listing(isolated_db) == {"organizations": []}
