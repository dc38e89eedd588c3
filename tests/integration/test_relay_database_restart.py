"""PostgreSQL restarts under a running relay: it reconnects, re-listens and rescans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pyproj_rpc.localdb import LocalCluster
from pyproj_rpc.provision import bootstrap_and_upgrade
from pyproj_rpc.relay import WebhookSecret
from tests.relay_support import (
    FAST,
    Receiver,
    all_delivered,
    eventually,
    pause_mentors,
    relays_in,
    webhook_args,
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A server of its own: restarting the session's would disturb every other test."""
    with LocalCluster() as own:
        bootstrap_and_upgrade(own.info.socket_url())
        yield own


def test_a_restarted_local_cluster_keeps_its_port_and_its_data(cluster: LocalCluster) -> None:
    url, port = cluster.info.socket_url(), cluster.info.port
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table if not exists kept (v int); insert into kept values (7)")
    with psycopg.connect(cluster.info.url(), autocommit=True) as before:
        old_pid = cluster.state.pid if cluster.state else None
        cluster.restart()
        with pytest.raises(psycopg.OperationalError):
            before.execute("select 1")  # clients see the restart
    assert cluster.info.port == port
    assert cluster.state is not None
    assert cluster.state.pid != old_pid
    with psycopg.connect(cluster.info.url()) as after:
        assert after.execute("select v from kept").fetchone() == (7,)
        after.execute("drop table kept")
        after.commit()


def test_the_relay_reconnects_after_a_restart_and_delivers_everything(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    url = cluster.info.url()
    secret = str(WebhookSecret.generate())
    with Receiver() as receiver, relays_in(tmp_path) as relays:
        before = pause_mentors(url, 3)
        # A long poll interval: delivery after the restart comes from reconnecting.
        relay = relays.start(url, *FAST, "--poll-interval", "1h", *webhook_args(receiver, secret))
        eventually(lambda: all_delivered(url), "the rows written before")
        cluster.restart()
        after = pause_mentors(url, 3)  # most likely before the relay is back
        eventually(lambda: all_delivered(url), "the rows written after the restart")
        assert relay.wait_for_event("listening", count=2)["reconnected"] is True
        assert relay.events("database_connected")[-1]["reconnected"] is True
        assert set(receiver.ids()) == {f"msg_{i}" for i in before + after}


def test_a_crash_of_the_server_loses_no_notification(cluster: LocalCluster, tmp_path: Path) -> None:
    """An immediate shutdown right after deliveries (no checkpoint, as after a power cut):
    every row arrives, those whose delivery was not yet recorded perhaps twice."""
    url = cluster.info.url()
    secret = str(WebhookSecret.generate())
    with Receiver() as receiver, relays_in(tmp_path) as relays:
        relay = relays.start(url, *FAST, *webhook_args(receiver, secret))
        before = pause_mentors(url, 5)
        eventually(lambda: len(set(receiver.ids())) >= 5, "the rows written before")
        cluster.restart(crash=True)  # at once: the last marks may not be recorded yet
        after = pause_mentors(url, 3)
        eventually(lambda: all_delivered(url), "every row, after the crash")
        assert relay.events("database_connected")[-1]["reconnected"] is True
        assert set(receiver.ids()) == {f"msg_{i}" for i in before + after}


def test_notifications_sent_while_the_relay_is_cut_off_are_found_by_a_rescan(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    owner_url, role = cluster.info.socket_url(), "relay_cut_off"
    with psycopg.connect(owner_url, autocommit=True) as owner:
        owner.execute(f"create role {role} login noinherit")
        owner.execute(f"grant service_role to {role}")
    relay_url = owner_url.replace("postgresql://postgres@", f"postgresql://{role}@")
    secret = str(WebhookSecret.generate())
    try:
        with Receiver() as receiver, relays_in(tmp_path) as relays:
            relay = relays.start(
                relay_url,
                *FAST,
                "--poll-interval",
                "1h",
                "--role",
                "service_role",
                *webhook_args(receiver, secret),
            )
            relay.wait_for_event("listening")
            with psycopg.connect(owner_url, autocommit=True) as owner:
                owner.execute(f"alter role {role} nologin")
                owner.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                    (role,),
                )
            relay.wait_for_event("listener_unavailable")
            missed = pause_mentors(owner_url, 2)  # nobody listens: these wake-ups are lost
            with psycopg.connect(owner_url, autocommit=True) as owner:
                owner.execute(f"alter role {role} login")
            eventually(lambda: all_delivered(owner_url), "the rows notified while cut off")
            assert set(receiver.ids()) >= {f"msg_{i}" for i in missed}
    finally:
        with psycopg.connect(owner_url, autocommit=True) as owner:
            owner.execute(f"drop role {role}")
