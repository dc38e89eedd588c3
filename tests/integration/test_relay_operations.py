"""Running the relay: metrics and health, stdout, config files, the Python interface."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from pyproj_rpc.relay import (
    FunctionSink,
    JobContext,
    OutboxMessage,
    PeriodicJob,
    Relay,
    RelayConfig,
    Sink,
    SinkResult,
    WebhookSecret,
)
from pyproj_rpc.relay.relay import SweepJob
from tests.conftest import Database
from tests.relay_support import (
    FAST,
    Receiver,
    Relays,
    all_delivered,
    eventually,
    outbox_rows,
    pause_mentors,
    webhook_args,
)
from tests.support import World


def scrape(port: int) -> dict[str, float]:
    """The metrics page as name{labels} -> value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", trust_env=False).text
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_show_the_backlog_the_outcomes_and_the_latency(
    isolated_db: Database, relays: Relays
) -> None:
    url = isolated_db.url
    pause_mentors(url, 3)
    with Receiver() as receiver:
        relay = relays.start(
            url,
            *FAST,
            "--metrics-port",
            "0",
            *webhook_args(receiver, str(WebhookSecret.generate())),
        )
        port = relay.wait_for_event("metrics_listening")["port"]
        eventually(lambda: all_delivered(url), "every row")
        values = eventually(
            lambda: (v := scrape(port))["pyproj_relay_delivered_total"] == 3 and v, "counters"
        )
        assert values['pyproj_relay_delivery_seconds_count{outcome="delivered"}'] == 3
        assert values['pyproj_relay_delivery_seconds_bucket{outcome="delivered",le="+Inf"}'] == 3
        assert values["pyproj_relay_retried_total"] == 0
        assert values["pyproj_relay_dead_lettered_total"] == 0
        assert values["pyproj_relay_listener_up"] == 1
        eventually(lambda: scrape(port)["pyproj_relay_backlog"] == 0, "an empty backlog")

        health = httpx.get(f"http://127.0.0.1:{port}/healthz", trust_env=False)
        assert health.status_code == 200
        assert health.json()["listener"] == "listening"


def test_the_backlog_gauges_show_rows_nobody_can_deliver(
    isolated_db: Database, relays: Relays
) -> None:
    url = isolated_db.url
    pause_mentors(url, 2)
    # A receiver that refuses connections: every attempt fails, the rows stay pending.
    relay = relays.start(
        url,
        *FAST,
        "--backoff-base",
        "1h",
        "--backoff-cap",
        "1h",
        "--metrics-port",
        "0",
        "--webhook-url",
        "http://127.0.0.1:9/hooks",
        "--webhook-secret",
        str(WebhookSecret.generate()),
    )
    port = relay.wait_for_event("metrics_listening")["port"]
    values = eventually(
        lambda: (v := scrape(port))["pyproj_relay_retried_total"] == 2 and v, "two retries"
    )
    values = eventually(lambda: (v := scrape(port))["pyproj_relay_backlog"] == 2 and v, "gauges")
    assert values["pyproj_relay_oldest_pending_seconds"] > 0
    assert "Cannot connect to host 127.0.0.1:9" in relay.events("retry")[0]["error"]


def test_delivered_rows_past_the_retention_are_purged(
    isolated_db: Database, relays: Relays
) -> None:
    url = isolated_db.url
    old, recent = pause_mentors(url, 2)
    relay = relays.start(url, *FAST, "--stdout", "--retention", "7d")
    eventually(lambda: all_delivered(url), "both rows")
    with isolated_db.connect() as conn:
        conn.execute(
            "update mentoring.outbox set delivered_at = now() - interval '8 days' where id = %s",
            (old,),
        )
    relay.kill()  # retention runs at start, then hourly
    relay = relays.start(url, *FAST, "--stdout", "--retention", "7d")
    assert relay.wait_for_event("purged")["count"] == 1
    assert list(outbox_rows(url)) == [recent]


def test_stdout_prints_each_notification_as_a_json_line_and_once_exits(
    isolated_db: Database,
) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 3)
    result = subprocess.run(
        [sys.executable, "-m", "pyproj_rpc", "relay", "--database-url", url, "--stdout", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    rows = outbox_rows(url)
    assert [d["id"] for d in documents] == [f"msg_{i}" for i in ids]
    assert [d["data"] for d in documents] == [rows[i]["payload"] for i in ids]
    assert all_delivered(url)


def test_a_config_file_names_the_sinks_and_the_settings(
    isolated_db: Database, relays: Relays, tmp_path: Path
) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    with Receiver() as first, Receiver() as second:
        config = tmp_path / "relay.toml"
        config.write_text(
            f'batch_size = 5\npoll_interval = "200ms"\nretention = "off"\nstdout = true\n'
            f'[[webhooks]]\nurl = "{first.url}"\nsecrets = ["{WebhookSecret.generate()}"]\n'
            f'[[webhooks]]\nurl = "{second.url}"\nsecrets = ["{WebhookSecret.generate()}"]\n'
        )
        relay = relays.start(url, "--config", str(config))
        eventually(lambda: all_delivered(url), "the row")
        assert first.ids() == second.ids() == [f"msg_{only}"]
        assert json.loads(relay.stdout_lines()[0])["id"] == f"msg_{only}"
        assert relay.events("started")[0]["batch_size"] == 5


# -- the Python interface ---------------------------------------------------------------------


@contextmanager
def running(relay: Relay) -> Iterator[Relay]:
    """The relay in a thread, stopped (and joined) at the end whatever happens."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            relay.run()
        except BaseException as exc:  # reported by the test thread
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield relay
    finally:
        relay.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the relay did not stop"
    assert not failure, failure


class Collecting(Sink):
    """A custom sink: refuses the first attempt of each row, then keeps it."""

    name = "collecting"

    def __init__(self) -> None:
        self.kept: list[OutboxMessage] = []
        self.refused: set[int] = set()

    async def deliver(self, message: OutboxMessage) -> SinkResult:
        if message.id not in self.refused:
            self.refused.add(message.id)
            return SinkResult.retry("not yet")
        self.kept.append(message)
        return SinkResult.accepted()


class CountingRows(PeriodicJob):
    """A custom periodic job with its own connection."""

    name = "counting"
    interval = 0.05

    def __init__(self) -> None:
        self.counts: list[int] = []

    async def run(self, ctx: JobContext) -> None:
        async with ctx.connect() as conn:
            cursor = await conn.execute("select count(*) as n from mentoring.outbox")
            row: Any = await cursor.fetchone()
        self.counts.append(row["n"])


def fast_config(url: str) -> RelayConfig:
    return RelayConfig(
        database_url=url, poll_interval=0.2, backoff_base=0.05, backoff_cap=0.1, retention=None
    )


def test_a_custom_sink_and_a_periodic_job_plug_into_the_relay(isolated_db: Database) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 3)
    sink, job = Collecting(), CountingRows()
    with running(Relay(fast_config(url), [sink], jobs=[job])) as relay:
        eventually(lambda: all_delivered(url), "every row, on the second attempt")
        eventually(lambda: len(job.counts) >= 2, "the job, twice")
    assert sorted(m.id for m in sink.kept) == ids
    assert all(m.attempt == 2 for m in sink.kept)
    assert job.counts[-1] == 3
    assert (relay.summary.delivered, relay.summary.retried) == (3, 3)


def test_a_function_sink_that_raises_gets_the_row_again(isolated_db: Database) -> None:
    url = isolated_db.url
    [only] = pause_mentors(url, 1)
    seen: list[int] = []

    def flaky(message: OutboxMessage) -> None:
        seen.append(message.attempt)
        if message.attempt == 1:
            raise RuntimeError("the printer is on fire")

    with running(Relay(fast_config(url), [FunctionSink(flaky)])):
        eventually(lambda: all_delivered(url), "the row")
    assert seen == [1, 2]
    assert outbox_rows(url)[only]["last_error"] is None


def test_once_delivers_what_is_due_and_returns(isolated_db: Database) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 25)  # more than one batch
    got: list[int] = []
    summary = Relay(fast_config(url), [FunctionSink(lambda m: got.append(m.id))]).run(once=True)
    assert sorted(got) == ids
    assert (summary.delivered, summary.claimed) == (25, 25)


def test_a_relay_with_a_schedule_expires_lapsed_mentors_and_delivers_the_news(
    isolated_db: Database,
) -> None:
    url = isolated_db.url
    with psycopg.connect(url) as conn:
        org = World(conn).organization()
        coordinator = org.coordinator()
        mentor = org.mentor(certified=False, coordinators=(coordinator,))
        conn.commit()
    got: list[OutboxMessage] = []
    config = dataclasses.replace(fast_config(url), schedule=3600.0)
    with running(Relay(config, [FunctionSink(got.append)])):
        eventually(lambda: got, "the expiry notification")
    [news] = got
    assert (news.payload["to_status"], news.payload["actor"]["kind"]) == (
        "expired_cert",
        "system",
    )
    assert news.payload["mentor"]["id"] == str(mentor.id)


def test_only_one_of_two_scheduled_relays_sweeps_a_round(isolated_db: Database) -> None:
    url, holder_id = isolated_db.url, uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("select mentoring.take_sweeper_lease(%s, '1 hour')", (holder_id,))
        assert SweepJob.sweep(url).ran is False  # another relay holds the round
        holder.execute("select mentoring.release_sweeper_lease(%s)", (holder_id,))
    assert SweepJob.sweep(url).ran is True


def test_a_relay_stopping_gives_back_the_batch_it_claimed_ahead(isolated_db: Database) -> None:
    url = isolated_db.url
    ids = pause_mentors(url, 6)
    first_row_started, may_finish = threading.Event(), threading.Event()
    delivered: list[int] = []

    def deliver(message: OutboxMessage) -> None:
        first_row_started.set()
        may_finish.wait(timeout=30)
        delivered.append(message.id)

    config = dataclasses.replace(fast_config(url), batch_size=3, concurrency=1)
    with running(Relay(config, [FunctionSink(deliver)])) as relay:
        assert first_row_started.wait(timeout=30)
        eventually(
            lambda: sum(r["leased_until"] is not None for r in outbox_rows(url).values()) == 6,
            "the next batch claimed while the first is delivered",
        )
        relay.stop()
        may_finish.set()
    rows = outbox_rows(url)
    assert delivered == ids[:1]  # stopping: the row in flight finishes, no new one starts
    assert rows[ids[0]]["delivered_at"] is not None
    # the rest, claimed with the first batch or ahead of it, are free to claim at once
    assert all(rows[i]["claim_id"] is None and rows[i]["attempts"] == 0 for i in ids[1:])
    assert relay.summary.released == 5
