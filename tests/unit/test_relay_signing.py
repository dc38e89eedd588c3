"""Webhook signatures, checked against the standardwebhooks package and the spec itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.relay.messages import OutboxMessage
from pyproj_rpc.relay.signing import InvalidSignature, WebhookSecret, verify, webhook_headers

BODY = b'{"id":"msg_1","data":{"reason":"caf\xc3\xa9"}}'


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """The spec, written out: base64(HMAC-SHA256(base64decode(secret), id.ts.body))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_the_signature_matches_the_specs_published_example() -> None:
    # The example of the Standard Webhooks specification and its reference libraries.
    secret = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_standardwebhooks_library_verifies_our_requests() -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers([secret], "msg_42", BODY)
    assert Webhook(str(secret)).verify(BODY, headers) == json.loads(BODY)


def test_the_signature_follows_the_spec_byte_for_byte() -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers([secret], "msg_7", BODY, timestamp=1_700_000_000)
    assert headers["webhook-signature"] == spec_signature(str(secret), "msg_7", "1700000000", BODY)


def test_with_two_secrets_a_receiver_holding_either_one_verifies() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    headers = webhook_headers([old, new], "msg_9", BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(str(secret)).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(str(WebhookSecret.generate())).verify(BODY, headers)


def test_a_tampered_body_or_id_fails_verification() -> None:
    secret = WebhookSecret.generate()
    headers = webhook_headers([secret], "msg_1", BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(str(secret)).verify(BODY.replace(b"1", b"2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(str(secret)).verify(BODY, {**headers, "webhook-id": "msg_2"})


def test_our_verify_helper_accepts_the_librarys_signatures_and_checks_the_time() -> None:
    secret = WebhookSecret.generate()
    now = int(time.time())
    library = Webhook(str(secret)).sign("msg_5", datetime.fromtimestamp(now, UTC), BODY.decode())
    headers = {"webhook-id": "msg_5", "webhook-timestamp": str(now), "webhook-signature": library}
    assert verify([WebhookSecret.generate(), secret], headers, BODY) == "msg_5"
    with pytest.raises(InvalidSignature, match="too far"):
        verify([secret], headers, BODY, now=now + 3600)
    with pytest.raises(InvalidSignature, match="no signature"):
        verify([WebhookSecret.generate()], headers, BODY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with whsec_"),
        ("whsec_not base64!", "base64"),
        ("whsec_", "empty"),
    ],
)
def test_a_malformed_secret_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        WebhookSecret.parse(text)


def test_a_secret_round_trips_through_its_text_and_hides_in_repr() -> None:
    secret = WebhookSecret.generate()
    assert WebhookSecret.parse(str(secret)) == secret
    assert str(secret.key) not in repr(secret)
    assert WebhookSecret(b"short").weak


def test_the_body_is_the_envelope_and_the_same_on_every_attempt() -> None:
    payload = {"kind": "status_changed", "sequence": 3, "mentor": {"id": "m1"}, "reason": "café"}
    created = datetime(2025, 1, 31, 9, 12, 3, 120000, tzinfo=UTC)

    def attempt(number: int) -> OutboxMessage:
        return OutboxMessage(
            42, 7, uuid4(), "status_changed", payload, created, number, uuid4(), created
        )

    first, second = attempt(1), attempt(2)
    assert first.body == second.body
    assert first.webhook_id == second.webhook_id == "msg_42"
    assert json.loads(first.body) == {
        "id": "msg_42",
        "type": "mentoring.status_changed",
        "timestamp": "2025-01-31T09:12:03.120000Z",
        "data": payload,
    }
