"""A database ready for use: given, or a throwaway local cluster migrated to head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from pyproj_rpc import migrations
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb import LocalCluster


def require_head(url: str) -> None:
    """Refuse a database that is not migrated to the newest revision."""
    current = migrations.current(url).split(" ")[0].strip()
    head = migrations.head_revision()
    if current != head:
        raise ConfigurationError(
            f"the database is at revision {current or 'base'}, not {head}: "
            "run `pyproj-rpc db upgrade` first"
        )


def bootstrap_and_upgrade(url: str) -> list[str]:
    """The Supabase compatibility objects where missing, then every migration."""
    with psycopg.connect(url, autocommit=True) as conn:
        created = migrations.apply_supabase_compat(conn)
    migrations.upgrade(url)
    return created


@contextmanager
def ready_database(url: str | None) -> Iterator[str]:
    """``url`` checked to be at head; or, without one, a migrated throwaway cluster."""
    if url:
        require_head(url)
        yield url
        return
    with LocalCluster() as cluster:
        local_url = cluster.info.socket_url()
        bootstrap_and_upgrade(local_url)
        yield local_url
