"""The relay under faults an operator meets: a database that hangs, a relay frozen past
its lease. It always stops when told, reports a hanging database, and counts only what
the database says it did."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from pyproj_rpc.localdb import LocalCluster
from pyproj_rpc.provision import bootstrap_and_upgrade
from tests.conftest import Database
from tests.relay_support import (
    FAST,
    Receiver,
    Relays,
    Reply,
    all_delivered,
    eventually,
    pause_mentors,
    webhook_args,
)


def server_processes(cluster: LocalCluster) -> list[int]:
    """The postmaster and every process it started."""
    assert cluster.state is not None
    assert cluster.state.pid is not None
    postmaster = cluster.state.pid
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [postmaster, *(int(pid) for pid in children)]


@contextmanager
def frozen(cluster: LocalCluster) -> Iterator[None]:
    """The server up but not answering (SIGSTOP), until the block ends (SIGCONT)."""
    stopped = server_processes(cluster)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def own_cluster() -> Iterator[LocalCluster]:
    """A server of this test's own, so that freezing it stops nobody else."""
    with LocalCluster() as cluster:
        bootstrap_and_upgrade(cluster.info.socket_url())
        yield cluster


def health(port: int) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, trust_env=False).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.slow
def test_a_relay_told_to_stop_while_the_database_hangs_exits_within_its_shutdown_timeout(
    own_cluster: LocalCluster, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = own_cluster.info.socket_url()
    pause_mentors(url, 4)
    receiver.answer(Reply(hold=True))  # a delivery in flight when the server freezes
    relay = relays.start(
        url,
        *FAST,
        "--concurrency",
        "1",
        "--metrics-port",
        "0",
        "--database-timeout",
        "1s",
        "--shutdown-timeout",
        "3s",
        *webhook_args(receiver, secret),
    )
    port = relay.wait_for_event("metrics_listening")["port"]
    eventually(receiver.received, "a delivery in flight")
    assert health(port) == 200
    with frozen(own_cluster):
        eventually(lambda: health(port) == 503, "healthz to report the hanging database", 10)
        receiver.release()  # the delivery ends; recording it finds no answer
        started = time.monotonic()
        relay.send(signal.SIGTERM)
        assert relay.wait(timeout=15) == 0
        took = time.monotonic() - started
    # 3 s of shutdown timeout, 1 s per database call, a second of slack for the process
    assert took < 8, took
    assert relay.events("stopped")


@pytest.mark.slow
def test_a_relay_frozen_past_its_lease_counts_as_released_only_rows_it_still_held(
    isolated_db: Database, receiver: Receiver, relays: Relays, secret: str
) -> None:
    url = isolated_db.url
    pause_mentors(url, 3)
    receiver.answer(Reply(hold=True))  # the frozen relay's first delivery
    args = [*FAST, "--batch-size", "3", "--concurrency", "1", "--timeout", "1s", "--lease", "6s"]
    frozen_relay = relays.start(url, *args, *webhook_args(receiver, secret))
    eventually(receiver.received, "the first relay's delivery, held")
    frozen_relay.send(signal.SIGSTOP)
    try:
        time.sleep(6.5)  # past its lease: another relay takes its rows
        relays.start(url, *args, *webhook_args(receiver, secret))
        eventually(lambda: all_delivered(url), "every row, by the other relay")
    finally:
        receiver.release()
        frozen_relay.send(signal.SIGCONT)
    frozen_relay.send(signal.SIGTERM)
    assert frozen_relay.wait() == 0
    assert frozen_relay.events("released") == []
    assert frozen_relay.events("stopped")[0]["released"] == 0
    assert len(frozen_relay.events("stale_claim")) >= 2


def test_healthz_reports_how_long_ago_the_database_last_answered(
    isolated_db: Database, relays: Relays, receiver: Receiver, secret: str
) -> None:
    relay = relays.start(
        isolated_db.url, *FAST, "--metrics-port", "0", *webhook_args(receiver, secret)
    )
    port = relay.wait_for_event("metrics_listening")["port"]
    document = eventually(
        lambda: (
            (r := httpx.get(f"http://127.0.0.1:{port}/healthz", trust_env=False)).status_code == 200
            and r.json()
        ),
        "a healthy relay",
    )
    assert 0 <= document["last_answer_seconds_ago"] < 3
