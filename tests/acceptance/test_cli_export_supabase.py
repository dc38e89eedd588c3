"""`pyproj-rpc db export-supabase DIR`: the files a Supabase project checks in.

Applying them with the real Supabase CLI is tests/integration/test_supabase_export.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from alembic.script import ScriptDirectory

from pyproj_rpc import migrations
from tests.support import cli


def export(home: Path, directory: Path) -> subprocess.CompletedProcess[str]:
    result = cli(home, "db", "export-supabase", str(directory))
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def revisions_base_first() -> list[str]:
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def test_two_exports_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    export(tmp_path, first)
    export(tmp_path, second)
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_file_names_sort_in_revision_order_one_per_revision(tmp_path: Path) -> None:
    directory = tmp_path / "supabase" / "migrations"
    out = export(tmp_path, directory).stdout
    names = sorted(path.name for path in directory.iterdir())
    revisions = revisions_base_first()
    assert [name.split("_pyproj_rpc_")[1].removesuffix(".sql") for name in names] == revisions
    timestamps = [name.split("_")[0] for name in names]
    assert all(len(stamp) == 14 and stamp.isdigit() for stamp in timestamps)
    assert names[0] == "20260101000001_pyproj_rpc_0001.sql"
    assert out.splitlines() == [f"wrote {directory / name}" for name in names]


def test_each_file_moves_alembic_from_the_previous_revision_to_its_own(tmp_path: Path) -> None:
    directory = tmp_path / "out"
    export(tmp_path, directory)
    previous = "null"
    for path in sorted(directory.iterdir()):
        revision = path.name.split("_pyproj_rpc_")[1].removesuffix(".sql")
        text = path.read_text()
        assert f"if recorded is distinct from {previous} then" in text
        last_line = text.rstrip().splitlines()[-1]
        assert last_line.startswith("insert into pyproj_rpc.alembic_version (version_num)")
        assert last_line.endswith(f" values ('{revision}');")
        assert f"-- db/migrations/{revision}_" in text  # the revision's own SQL files
        previous = f"'{revision}'"


def test_export_keeps_the_projects_own_migrations(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    own = directory / "20270101120000_our_own_table.sql"
    own.write_text("create table public.notes (id bigint);\n")
    export(tmp_path, directory)
    assert own.read_text() == "create table public.notes (id bigint);\n"
    assert len(list(directory.iterdir())) == len(revisions_base_first()) + 1
