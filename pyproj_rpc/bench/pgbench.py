"""Running pgbench: throughput from its summary, latency percentiles from its per-transaction log.

Always ``-n -M prepared`` (no vacuum, prepared statements, as PostgREST), ``-c C -j C``,
and ``-l`` into a private directory: each log line's third field is the transaction's
latency in microseconds (``failed`` or ``skipped`` for the others).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj_rpc.bench.cluster import client_connection
from pyproj_rpc.bench.stats import percentile
from pyproj_rpc.errors import PyprojRpcError
from pyproj_rpc.resources import sql_file

TPS_LINE = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
PROCESSED_LINE = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
FAILED_LINE = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
ABORTED = "Run was aborted"
LOG_PREFIX = "x"
STDERR_LINES = 30
RUN_TIMEOUT_MARGIN = 300.0  # seconds on top of what a run should take


class PgbenchFailed(PyprojRpcError):
    """pgbench did not finish its run (a client aborted, a bad script, no server)."""


@dataclass(frozen=True)
class Workload:
    """What pgbench runs: one of its built-in scripts (``-b``) or one of ``db/bench/``."""

    name: str
    builtin: bool
    # triggers and foreign keys off from the connection's start (PGOPTIONS): a SET of
    # session_replication_role in each transaction would reset every cached plan
    triggers_off: bool = False

    @classmethod
    def pgbench_builtin(cls, name: str) -> Workload:
        return cls(name, builtin=True)

    @classmethod
    def script(cls, name: str, *, triggers_off: bool = False) -> Workload:
        return cls(name, builtin=False, triggers_off=triggers_off)

    @property
    def label(self) -> str:
        return f"pgbench -b {self.name}" if self.builtin else f"db/bench/{self.name}"

    def args(self) -> list[str]:
        if self.builtin:
            return ["-b", self.name]
        return ["-f", str(sql_file("bench", self.name))]  # looked up when run, not at import

    def environment(self) -> dict[str, str]:
        return {"PGOPTIONS": "-c session_replication_role=replica"} if self.triggers_off else {}


@dataclass(frozen=True)
class PgbenchResult:
    """One pgbench run: throughput and latency percentiles (microseconds)."""

    tps: float
    transactions: int
    failures: int
    p50_us: float
    p99_us: float

    def summary(self) -> dict[str, Any]:
        return {
            "tps": round(self.tps, 1),
            "transactions": self.transactions,
            "failures": self.failures,
            "p50_ms": round(self.p50_us / 1000, 3),
            "p99_ms": round(self.p99_us / 1000, 3),
        }


@dataclass(frozen=True)
class Pgbench:
    """pgbench against one database."""

    program: Path
    url: str

    def initialize(self, scale: int = 1) -> None:
        """pgbench's own tables (``-i -s scale``), for its built-in scripts."""
        self._run(["-i", "-s", str(scale), "-q"], timeout=RUN_TIMEOUT_MARGIN)

    def run(
        self,
        workload: Workload,
        clients: int,
        *,
        seconds: int | None = None,
        transactions: int | None = None,
        variables: Mapping[str, str | int] | None = None,
        expected_seconds: float = 0.0,
    ) -> PgbenchResult:
        """Run ``workload`` for ``seconds`` (-T) or ``transactions`` per client (-t)."""
        if (seconds is None) == (transactions is None):
            raise ValueError("give seconds or transactions, not both")
        length = ["-T", str(seconds)] if seconds is not None else ["-t", str(transactions)]
        defines = [f"-D{name}={value}" for name, value in (variables or {}).items()]
        with tempfile.TemporaryDirectory(prefix="pyproj-bench-") as logs:
            stdout = self._run(
                [
                    "-n",
                    "-M",
                    "prepared",
                    "-c",
                    str(clients),
                    "-j",
                    str(clients),
                    *length,
                    *defines,
                    "-l",
                    "--log-prefix",
                    str(Path(logs) / LOG_PREFIX),
                    *workload.args(),
                ],
                timeout=(seconds or expected_seconds) + RUN_TIMEOUT_MARGIN,
                environment=workload.environment(),
            )
            latencies = read_latencies(Path(logs))
        return parse_result(stdout, latencies, workload)

    def _run(
        self, args: list[str], timeout: float, environment: Mapping[str, str] | None = None
    ) -> str:
        url, env = client_connection(self.url)
        env.update(environment or {})
        try:
            result = subprocess.run(
                [str(self.program), *args, url],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PgbenchFailed(
                f"pgbench {' '.join(args)} did not finish in {timeout:.0f} s"
            ) from exc
        if result.returncode != 0 or ABORTED in result.stdout + result.stderr:
            raise PgbenchFailed(
                f"pgbench {' '.join(args)} failed (exit {result.returncode}):\n"
                + "\n".join(result.stderr.strip().splitlines()[:STDERR_LINES])
            )
        return result.stdout


def read_latencies(log_dir: Path) -> list[int]:
    """Latencies (µs) of the transactions that completed, from every log file of a run."""
    latencies: list[int] = []
    for path in sorted(log_dir.glob(f"{LOG_PREFIX}.*")):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and fields[2].isdigit():
                latencies.append(int(fields[2]))
    return latencies


def parse_result(stdout: str, latencies: list[int], workload: Workload) -> PgbenchResult:
    tps = TPS_LINE.search(stdout)
    processed = PROCESSED_LINE.search(stdout)
    if tps is None or processed is None or not latencies:
        raise PgbenchFailed(f"no figures in pgbench's output for {workload.label}:\n{stdout}")
    failed = FAILED_LINE.search(stdout)
    return PgbenchResult(
        tps=float(tps.group(1)),
        transactions=int(processed.group(1)),
        failures=int(failed.group(1)) if failed else 0,
        p50_us=percentile(latencies, 0.50),
        p99_us=percentile(latencies, 0.99),
    )
