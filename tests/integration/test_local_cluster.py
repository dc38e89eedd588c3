"""The local cluster starts as an unprivileged user, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from pyproj_rpc.errors import LocalClusterError
from pyproj_rpc.localdb import LocalCluster
from pyproj_rpc.localdb.cluster import process_alive
from tests.support import eventually


def process_owner(pid: int) -> int:
    return os.stat(f"/proc/{pid}").st_uid


def test_the_server_never_runs_as_root_and_stop_removes_it_all() -> None:
    cluster = LocalCluster()
    info = cluster.start()
    assert cluster.state is not None
    pid, base_dir = cluster.state.pid, Path(cluster.state.base_dir)
    assert pid is not None
    try:
        assert process_owner(pid) != 0
        with psycopg.connect(info.url()) as conn:  # TCP, with the generated password
            assert conn.execute("select 1").fetchone() == (1,)
        with psycopg.connect(info.socket_url()) as conn:
            assert conn.execute("select current_user").fetchone() == ("postgres",)
    finally:
        cluster.stop()
    eventually(lambda: not process_alive(pid), "the server to exit")
    assert not base_dir.exists()


def test_tcp_connections_need_the_password() -> None:
    with LocalCluster() as cluster:
        wrong = cluster.info.url().replace(cluster.info.password, "wrong")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong)


def test_a_killed_owner_leaves_no_server_and_no_data_behind() -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from pyproj_rpc.localdb import LocalCluster\n"
            "c = LocalCluster(); c.start()\n"
            "print(c.state.pid, c.state.base_dir, flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    pid_text, base_dir = owner.stdout.readline().split()
    pid = int(pid_text)
    assert process_alive(pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    eventually(lambda: not process_alive(pid), "the reaper to stop the server")
    eventually(lambda: not Path(base_dir).exists(), "the reaper to remove the data dir")


def test_a_persistent_data_dir_keeps_its_data_across_restarts(shared_tmp: Path) -> None:
    data_dir = shared_tmp / "pgdata"
    with LocalCluster(data_dir=data_dir) as first:
        with psycopg.connect(first.info.socket_url(), autocommit=True) as conn:
            conn.execute("create table kept (v int); insert into kept values (42)")
        password = first.info.password
    assert (data_dir / "PG_VERSION").exists()
    with (
        LocalCluster(data_dir=data_dir) as second,
        psycopg.connect(second.info.url()) as conn,
    ):
        assert second.info.password == password
        assert conn.execute("select v from kept").fetchone() == (42,)
    assert (data_dir / "PG_VERSION").exists()


def test_two_clusters_run_side_by_side_on_different_ports() -> None:
    with LocalCluster() as a, LocalCluster() as b:
        assert a.info.port != b.info.port
        for cluster in (a, b):
            with psycopg.connect(cluster.info.socket_url()) as conn:
                assert conn.execute("select 1").fetchone() == (1,)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_a_data_dir_the_server_user_cannot_reach_is_refused_with_a_reason(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(LocalClusterError, match="cannot reach"):
        LocalCluster(data_dir=private / "pgdata").start()
    assert not (private / "pgdata").exists()
