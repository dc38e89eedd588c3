"""``pyproj-rpc contract``: the checked-in contract with the consumers, and its changes."""

from __future__ import annotations

from pathlib import Path

import click

from pyproj_rpc import contract as contract_files
from pyproj_rpc import contract_diff
from pyproj_rpc.cli import exit_codes
from pyproj_rpc.cli.contract_typescript import typescript


@click.group()
def contract() -> None:
    """The API contract the consumers rely on: dump it, compare two versions."""


@contract.command()
@click.argument(
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=contract_files.DEFAULT_DIR,
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: print the differences and fail when DIRECTORY is stale.",
)
def dump(directory: Path, check: bool) -> None:
    """Write the contract into DIRECTORY (default: contract/) from a throwaway database
    migrated to head (a local cluster, started and removed here): the api functions,
    error codes, transitions, the REST OpenAPI document, result and webhook schemas."""
    current = contract_files.generate()
    if not check:
        contract_files.write(directory, current)
        click.echo(f"wrote {', '.join(sorted(current))} in {directory}")
        return
    recorded = contract_files.read(directory)
    if recorded != current:
        click.echo(contract_files.diff(recorded, current, str(directory)), nl=False)
        raise click.ClickException(
            f"{directory} differs from what the migrations build: run `{contract_files.REGENERATE}`"
        )
    click.echo(f"{directory}: matches the migrations")


@contract.command()
@click.argument("old", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("new", type=click.Path(path_type=Path, file_okay=False, exists=True))
def diff(old: Path, new: Path) -> None:
    """Classify each difference from the contract in OLD to the one in NEW as
    `compatible` or `breaking`, one line each. Exit status 0: nothing breaking;
    1: a consumer of OLD may break."""
    differences = contract_diff.compare(contract_diff.load(old), contract_diff.load(new))
    for difference in differences:
        click.echo(difference.line())
    breaking = sum(1 for d in differences if d.kind is contract_diff.Kind.BREAKING)
    if not differences:
        click.echo(f"no difference between {old} and {new}")
    elif breaking:
        click.echo(
            f"{breaking} breaking of {len(differences)} difference(s): consumers of {old} may "
            "break. Keep the old function beside a new one (fn_v2), or bump the version "
            "(the minor before 1.0) with a CHANGELOG.md entry and a new contract/released/."
        )
        raise SystemExit(exit_codes.FAILURE)
    else:
        click.echo(f"{len(differences)} compatible difference(s), nothing breaking")


contract.add_command(typescript)
