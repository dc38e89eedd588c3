"""The state machine as the database holds it, rendered as a table or a Mermaid diagram."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import psycopg

from pyproj_rpc.queries import query
from pyproj_rpc.text import format_table

CERTIFICATION_NOTE = {
    "any": "",
    "valid": "needs a valid certification",
    "lapsed": "only once the certification lapsed",
}


@dataclass(frozen=True)
class Rule:
    """One row of ``mentoring.transitions``: who may move a mentor from one status to another."""

    from_status: str
    to_status: str
    actor_kind: str
    certification: str
    own_pause_only: bool
    description: str

    @property
    def actor_label(self) -> str:
        return f"{self.actor_kind} (own pause)" if self.own_pause_only else self.actor_kind


def load(conn: psycopg.Connection[Any]) -> list[Rule]:
    """Read the transitions table (as a role that may: the owner, service_role, a user)."""
    return [Rule(*row) for row in conn.execute(query("transition_rules")).fetchall()]


def _edges(rules: Iterable[Rule]) -> list[tuple[str, str, list[Rule]]]:
    key = lambda rule: (rule.from_status, rule.to_status)  # noqa: E731
    return [(source, target, list(group)) for (source, target), group in groupby(rules, key)]


def mermaid(rules: Iterable[Rule]) -> str:
    """A Mermaid state diagram: one arrow per transition, labelled with who may take it."""
    lines = ["stateDiagram-v2"]
    for source, target, group in _edges(rules):
        actors = ", ".join(rule.actor_label for rule in group)
        note = CERTIFICATION_NOTE[group[0].certification]
        label = f"{actors}; {note}" if note else actors
        lines.append(f"    {source} --> {target}: {label}")
    return "\n".join(lines)


def table(rules: Iterable[Rule]) -> str:
    """A plain-text table: from, to, who, certification."""
    rows = [
        (source, target, ", ".join(r.actor_label for r in group), group[0].certification)
        for source, target, group in _edges(rules)
    ]
    return format_table(("from", "to", "who", "certification"), rows)
