"""`pyproj-rpc mentor ...` and `transitions`: each command, its --json, its exit codes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pyproj_rpc.cli import exit_codes, main
from pyproj_rpc.identity import Identity
from tests.conftest import Database
from tests.support import Mentor, World, call


@dataclass
class Scene:
    url: str
    coordinator: Identity
    active: Mentor
    paused: Mentor
    lapsed: Mentor
    expired: Mentor


@pytest.fixture
def scene(isolated_db: Database) -> Scene:
    with isolated_db.connect() as conn:
        world = World(conn)
        org = world.organization()
        coordinator = org.coordinator()
        team = (coordinator,)
        active = org.mentor(coordinators=team, name="Ada")
        paused = org.mentor(coordinators=team, status="paused", name="Ben")
        lapsed = org.mentor(coordinators=team, certified=False, name="Dan")
        expired = org.mentor(coordinators=team, certified=False, name="Eve")
        call(conn, Identity.service(), "auto_expire_for_certification", mentor_id=expired.id)
        today = world.today(org.id)
        world.certify(expired, today, today + timedelta(days=365))
        conn.commit()
    return Scene(isolated_db.url, coordinator, active, paused, lapsed, expired)


def run(scene: Scene, *args: Any) -> Result:
    return CliRunner().invoke(
        main, [str(a) for a in args] + ["--database-url", scene.url], catch_exceptions=False
    )


def as_coordinator(scene: Scene) -> list[str]:
    return ["--as", str(scene.coordinator.user_id), "--json"]


def ok_json(result: Result) -> Any:
    assert result.exit_code == exit_codes.OK, result.stderr
    return json.loads(result.stdout)


def test_status_shows_the_mentor_as_json_and_as_text(scene: Scene) -> None:
    data = ok_json(run(scene, "mentor", "status", scene.active.id, *as_coordinator(scene)))
    assert (data["display_name"], data["status"]) == ("Ada", "active")
    assert data["allowed_transitions"] == ["paused"]
    text = run(scene, "mentor", "status", scene.active.id, "--as", scene.coordinator.user_id)
    assert text.exit_code == 0
    assert "status: active" in text.stdout
    assert "you are: coordinator" in text.stdout


def test_pause_with_a_return_date_then_history_shows_it(scene: Scene) -> None:
    back = (date.today() + timedelta(days=30)).isoformat()
    pause = ["mentor", "pause", scene.active.id, "--reason", "exams", "--return-date", back]
    data = ok_json(run(scene, *pause, *as_coordinator(scene)))
    assert data["status"] == "paused"
    assert data["event"]["actor_kind"] == "coordinator"
    assert data["open_pause"]["expected_return_date"] == back
    history = ok_json(run(scene, "mentor", "history", scene.active.id, *as_coordinator(scene)))
    assert history["events"][0]["reason"] == "exams"


def test_a_return_date_beyond_a_year_is_a_usage_error(scene: Scene) -> None:
    result = run(
        scene,
        "mentor",
        "pause",
        scene.active.id,
        "--reason",
        "exams",
        "--return-date",
        "2099-01-01",
        "--as",
        scene.active.user_id,
    )
    assert result.exit_code == exit_codes.USAGE
    assert result.stderr.startswith("error: invalid_input: expected_return_date")
    assert "Traceback" not in result.stderr


def test_lift_by_the_coordinator(scene: Scene) -> None:
    data = ok_json(
        run(scene, "mentor", "lift", scene.paused.id, "--reason", "back", *as_coordinator(scene))
    )
    assert (data["previous_status"], data["status"]) == ("paused", "active")


def test_reactivate_a_recertified_mentor(scene: Scene) -> None:
    data = ok_json(run(scene, "mentor", "reactivate", scene.expired.id, *as_coordinator(scene)))
    assert (data["previous_status"], data["status"]) == ("expired_cert", "active")


def test_expire_as_the_service(scene: Scene) -> None:
    data = ok_json(run(scene, "mentor", "expire", scene.lapsed.id, "--service", "--json"))
    assert data["status"] == "expired_cert"


def test_paused_lists_the_coordinators_paused_mentors(scene: Scene) -> None:
    data = ok_json(run(scene, "mentor", "paused", *as_coordinator(scene)))
    assert [m["display_name"] for m in data] == ["Ben"]
    text = run(scene, "mentor", "paused", "--service")
    assert "Ben" in text.stdout


def test_a_refused_transition_exits_3_with_its_code_and_no_traceback(scene: Scene) -> None:
    result = run(scene, "mentor", "expire", scene.active.id, "--service")
    assert result.exit_code == exit_codes.REFUSED
    assert result.stderr.startswith("error: certification_valid: ")
    assert "details: " in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_mentor_another_user_cannot_see_is_not_found(scene: Scene) -> None:
    result = run(scene, "mentor", "status", scene.paused.id, "--as", scene.active.user_id)
    assert result.exit_code == exit_codes.REFUSED
    assert "mentor_not_found" in result.stderr


def test_saying_who_acts_is_required(scene: Scene) -> None:
    result = run(scene, "mentor", "status", scene.active.id)
    assert result.exit_code == exit_codes.USAGE
    assert "--as USER_ID or --service" in result.stderr


def test_a_bad_mentor_id_is_a_usage_error(scene: Scene) -> None:
    result = run(scene, "mentor", "status", "not-a-uuid", "--service")
    assert result.exit_code == exit_codes.USAGE


def test_an_unreachable_database_exits_4(scene: Scene) -> None:
    result = CliRunner().invoke(
        main,
        [
            "mentor",
            "status",
            str(scene.active.id),
            "--service",
            "--database-url",
            "postgresql://x@127.0.0.1:1/none",
        ],
    )
    assert result.exit_code == exit_codes.UNAVAILABLE
    assert result.stderr.startswith("error: cannot reach the database")


def test_transitions_renders_the_table_and_the_mermaid_diagram(scene: Scene) -> None:
    table = run(scene, "transitions")
    assert table.exit_code == 0
    assert "paused        active        mentor (own pause), coordinator, admin  valid" in (
        table.stdout
    )
    diagram = run(scene, "transitions", "--format", "mermaid")
    assert diagram.stdout.splitlines()[0] == "stateDiagram-v2"
    assert "    active --> expired_cert: admin, system; only once the certification lapsed" in (
        diagram.stdout
    )
