"""Standard Webhooks signatures (https://www.standardwebhooks.com).

Each request carries ``webhook-id`` (stable across retries: the receiver's idempotency
key), ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">``, one per secret, separated by
spaces, so that a receiver can switch secrets without missing a request (rotation).
Secrets are written ``whsec_<base64 of the key bytes>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pyproj_rpc.errors import ConfigurationError

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SIGNATURE_VERSION = "v1"
RECOMMENDED_KEY_BYTES = 24  # the spec recommends 24 to 64 bytes
DEFAULT_TOLERANCE = 300  # seconds a receiver should accept between timestamp and now


@dataclass(frozen=True)
class WebhookSecret:
    """A signing key; its text form is ``whsec_`` and the key in base64."""

    key: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """Read ``whsec_<base64>``; refuses another prefix, bad base64 or an empty key."""
        if not text.startswith(SECRET_PREFIX):
            raise ConfigurationError("a webhook secret starts with whsec_ (then base64)")
        encoded = text[len(SECRET_PREFIX) :].strip()
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            raise ConfigurationError("a webhook secret is whsec_ followed by base64") from None
        if not key:
            raise ConfigurationError("a webhook secret may not be empty")
        return cls(key)

    @classmethod
    def generate(cls, size: int = 32) -> WebhookSecret:
        """A new random secret."""
        return cls(secrets.token_bytes(size))

    @property
    def weak(self) -> bool:
        """Shorter than the spec recommends."""
        return len(self.key) < RECOMMENDED_KEY_BYTES

    def __str__(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self.key).decode()

    def sign(self, webhook_id: str, timestamp: int, body: bytes) -> str:
        """``v1,<signature>`` of one request."""
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        digest = hmac.new(self.key, signed, hashlib.sha256).digest()
        return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(
    secrets_: Sequence[WebhookSecret], webhook_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one ``v1,`` signature per secret, space-separated."""
    if not secrets_:
        raise ConfigurationError("signing needs at least one secret")
    return " ".join(secret.sign(webhook_id, timestamp, body) for secret in secrets_)


def webhook_headers(
    secrets_: Sequence[WebhookSecret],
    webhook_id: str,
    body: bytes,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (timestamp: now)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header(secrets_, webhook_id, stamp, body),
    }


class InvalidSignature(Exception):
    """A request whose headers do not prove it came from a holder of the secret."""


def verify(
    secrets_: Iterable[WebhookSecret],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """For Python receivers: check a request, return its ``webhook-id``.

    Accepts when any ``v1`` signature matches any of ``secrets_`` (so that a receiver can
    hold the old and the new secret during a rotation) and the timestamp is within
    ``tolerance`` seconds of now (replay protection).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (webhook_id and stamp and signatures):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignature("webhook-timestamp is not Unix seconds") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise InvalidSignature("webhook-timestamp is too far from now")
    offered = [s.split(",", 1)[1] for s in signatures.split() if s.startswith("v1,")]
    for secret in secrets_:
        expected = secret.sign(webhook_id, timestamp, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return webhook_id
    raise InvalidSignature("no signature matches")
