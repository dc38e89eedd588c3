"""The Dockerfile: a slim, non-root image of the installed wheel, and nothing else.

No Docker engine runs here: the file is linted with hadolint (pinned in the dev extra)
and its stages are read as text. tests/acceptance/test_wheel_install.py proves what
the image runs: the wheel, installed with the same constraints, outside the checkout.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = re.compile(r"^python:3\.11(\.\d+)?-slim-bookworm$")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    found = []
    for text in joined:
        keyword, _, arguments = text.partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return found


def stages() -> dict[str, list[Instruction]]:
    """Each stage's instructions, by stage name."""
    by_name: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for instruction in instructions():
        if instruction.keyword == "FROM":
            name = instruction.arguments.split(" AS ")[-1]
            current = by_name.setdefault(name, [])
        current.append(instruction)
    return by_name


def of(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.arguments for i in stage if i.keyword == keyword]


def test_the_image_is_built_in_two_stages_from_one_pinned_slim_python() -> None:
    froms = [i.arguments for i in instructions() if i.keyword == "FROM"]
    assert [f.split(" AS ")[1] for f in froms] == ["build", "runtime"]
    bases = {f.split(" AS ")[0] for f in froms}
    assert len(bases) == 1  # the environment's interpreter is the same file in both
    assert BASE_IMAGE.match(bases.pop())


def test_the_final_image_holds_the_installed_environment_and_no_source_or_compiler() -> None:
    runtime = stages()["runtime"]
    copies = of(runtime, "COPY")
    assert copies == [
        "--from=build /opt/pyproj-rpc /opt/pyproj-rpc",
        "--chmod=0755 deploy/docker/healthcheck.py /usr/local/bin/pyproj-rpc-healthcheck",
    ]
    assert of(runtime, "ADD") == []
    for command in of(runtime, "RUN"):
        assert not re.search(r"apt-get|apk |pip |gcc|build-essential", command), command
    build = " ".join(of(stages()["build"], "RUN"))
    assert "python -m venv --without-pip /opt/pyproj-rpc" in build  # no pip in the image


def test_the_image_runs_as_an_unprivileged_user_of_its_own() -> None:
    runtime = stages()["runtime"]
    assert of(runtime, "USER") == ["10001:10001"]
    [create] = of(runtime, "RUN")
    assert "--uid 10001" in create
    assert "--gid 10001" in create
    assert "--shell /usr/sbin/nologin" in create


def test_pyproj_rpc_is_the_entry_point_and_the_rest_adapter_the_default_command() -> None:
    runtime = stages()["runtime"]
    assert of(runtime, "ENTRYPOINT") == ['["pyproj-rpc"]']
    assert of(runtime, "CMD") == ['["api", "--host", "0.0.0.0", "--port", "8000"]']
    assert any("PATH=/opt/pyproj-rpc/bin:$PATH" in env for env in of(runtime, "ENV"))


def test_the_image_checks_its_own_health() -> None:
    [check] = of(stages()["runtime"], "HEALTHCHECK")
    assert check.endswith('CMD ["pyproj-rpc-healthcheck"]')
    assert any(
        "PYPROJ_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz" in env
        for env in of(stages()["runtime"], "ENV")
    )


def test_the_wheel_is_built_with_the_pinned_backend_and_installed_with_pinned_versions() -> None:
    build = stages()["build"]
    runs = " ".join(of(build, "RUN"))
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "dev"
    ]
    [hatchling] = [requirement for requirement in dev if requirement.startswith("hatchling")]
    assert f"pip install --no-cache-dir {hatchling}" in runs
    assert "--no-build-isolation" in runs
    assert "--constraint constraints.txt /dist/pyproj_rpc-*.whl" in runs
    assert "deploy/docker/constraints.txt ./constraints.txt" in of(build, "COPY")


def test_hadolint_finds_nothing_to_fix() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    linted = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context (the last match wins)."""
    parents = [str(Path(*Path(path).parts[: n + 1])) for n in range(len(Path(path).parts))]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.removeprefix("!").rstrip("/")
        if any(fnmatch.fnmatchcase(candidate, bare) for candidate in parents):
            result = not negated
    return result


def test_the_build_context_holds_what_the_dockerfile_copies_and_never_secrets() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for instruction in instructions()
        if instruction.keyword == "COPY" and "--from=" not in instruction.arguments
        for source in instruction.arguments.split()[:-1]
        if not source.startswith("--")
    ]
    assert copied
    for source in copied:
        assert not ignored(source, patterns), source
    for inside in ("pyproj_rpc/cli/db.py", "db/queries/logins.sql", "alembic/env.py"):
        assert not ignored(inside, patterns), inside
    for secret_or_noise in (
        ".env",
        ".env.example",
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "pyproj_rpc/__pycache__/cli.cpython-311.pyc",
        "docker-compose.yml",
        "deploy/kubernetes/secret-database.yaml",
    ):
        assert ignored(secret_or_noise, patterns), secret_or_noise
