"""squawk lints every revision's SQL: new revisions strictly, landed ones as .squawk.toml says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / ".squawk.toml"
SQUAWK = Path(sys.executable).parent / "squawk"  # squawk-cli, pinned in the dev extra


def squawk(root: Path) -> tuple[int, list[str]]:
    """Run squawk over ``root``'s db/migrations/*/up/*.sql; its exit code and findings."""
    files = sorted(p.relative_to(root).as_posix() for p in root.glob("db/migrations/*/up/*.sql"))
    assert files, f"no revision SQL under {root}"
    result = subprocess.run(
        [str(SQUAWK), "--config", str(CONFIG), "--reporter", "gcc", *files],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    findings = [line for line in result.stdout.splitlines() if ": warning: " in line]
    findings += [line for line in result.stdout.splitlines() if ": error: " in line]
    return result.returncode, findings or result.stderr.splitlines()


def test_every_revision_passes_squawk() -> None:
    code, findings = squawk(REPO)
    assert code == 0, "squawk found problems in the migrations:\n" + "\n".join(findings)


def test_squawk_flags_a_change_that_blocks_writes_in_a_new_revision(tmp_path: Path) -> None:
    up = tmp_path / "db" / "migrations" / "0099_example" / "up"
    up.mkdir(parents=True)
    (up / "01_example.sql").write_text(
        "create index outbox_created_idx on mentoring.outbox (created_at);\n"
        "alter table mentoring.outbox add constraint attempts_bounded check (attempts < 100);\n"
    )
    code, findings = squawk(tmp_path)
    assert code != 0
    rules = {line.split(": warning: ", 1)[1].split()[0] for line in findings}
    assert rules == {"require-concurrent-index-creation", "constraint-missing-not-valid"}


def test_squawk_flags_what_cannot_run_in_the_revisions_transaction(tmp_path: Path) -> None:
    up = tmp_path / "db" / "migrations" / "0099_example" / "up"
    up.mkdir(parents=True)
    (up / "01_example.sql").write_text(
        "alter table mentoring.outbox add column if not exists note text;\n"
        "create index concurrently if not exists outbox_note_idx on mentoring.outbox (note);\n"
    )
    code, findings = squawk(tmp_path)
    assert code != 0
    assert any("ban-concurrent-index-creation-in-transaction" in line for line in findings)
