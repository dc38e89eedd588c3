"""The notification relay: delivers ``mentoring.outbox`` rows to webhooks and other sinks.

At-least-once: a row is marked delivered only after every sink accepted it, so a crash
between delivery and record repeats it (receivers deduplicate by ``webhook-id``).
Unordered across mentors; each payload carries the mentor's ``sequence`` for ordering.

    from pyproj_rpc.relay import Relay, RelayConfig, StdoutSink

    Relay(RelayConfig(database_url=url), [StdoutSink()]).run()
"""

from pyproj_rpc.relay.backoff import RetryPolicy, full_jitter, parse_retry_after
from pyproj_rpc.relay.config import RelayConfig, WebhookConfig, load_config_file, sinks_for
from pyproj_rpc.relay.messages import OutboxMessage, webhook_id
from pyproj_rpc.relay.metrics import RelayMetrics
from pyproj_rpc.relay.relay import JobContext, PeriodicJob, Relay, RetentionJob, RunSummary
from pyproj_rpc.relay.signing import InvalidSignature, WebhookSecret, verify, webhook_headers
from pyproj_rpc.relay.sinks import FunctionSink, Sink, SinkResult, StdoutSink, Verdict
from pyproj_rpc.relay.webhook import WebhookSink

__all__ = [
    "FunctionSink",
    "InvalidSignature",
    "JobContext",
    "OutboxMessage",
    "PeriodicJob",
    "Relay",
    "RelayConfig",
    "RelayMetrics",
    "RetentionJob",
    "RetryPolicy",
    "RunSummary",
    "Sink",
    "SinkResult",
    "StdoutSink",
    "Verdict",
    "WebhookConfig",
    "WebhookSecret",
    "WebhookSink",
    "full_jitter",
    "load_config_file",
    "parse_retry_after",
    "sinks_for",
    "verify",
    "webhook_headers",
    "webhook_id",
]
