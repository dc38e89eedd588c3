"""Who a REST request runs as: Supabase JWTs, verified as PostgREST verifies them.

HS256 tokens signed with the project's secret, and asymmetric tokens (RS256, ES256) whose
key is found by ``kid`` in a JWKS file or URL. Anything else, an expired token, a token
for another audience or naming another role: 401 with PostgREST's body and a
``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.localdb.cluster import free_port
from pyproj_rpc.rest import JwtConfig, TokenVerifier
from tests.conftest import Database
from tests.rest_support import (
    PREFIX,
    SECRET,
    RestServer,
    mint,
    serve,
    token_for,
)
from tests.support import Mentor, Organization, World

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key: Any, kid: str, algorithm: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(
        jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(private_key.public_key())
    )
    return jwk | {"kid": kid, "alg": algorithm, "use": "sig"}


JWKS = {"keys": [public_jwk(RSA_KEY, "rsa-1", "RS256"), public_jwk(EC_KEY, "ec-1", "ES256")]}


@pytest.fixture(scope="module")
def scene(database: Database) -> tuple[Organization, Mentor]:
    with database.connect() as conn:
        org = World(conn).organization()
        mentor = org.mentor()
        conn.commit()
    return org, mentor


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(JWKS))
    return path


@pytest.fixture(scope="module")
def server(database: Database, jwks_file: Path) -> Iterator[RestServer]:
    """HS256 with the test secret, and the JWKS file's RSA and EC keys."""
    config = JwtConfig(secret=SECRET, jwks=str(jwks_file))
    with serve(database.url, jwt=config) as server:
        yield server


def status_of(client: httpx.Client, mentor: Mentor, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.get(f"{PREFIX}/{mentor.id}/status", headers=headers)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def assert_refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- accepted ---------------------------------------------------------------------------


def test_a_users_token_runs_as_that_user(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    org, mentor = scene
    response = status_of(client, mentor, bearer(token_for(mentor.identity)))
    assert response.status_code == 200
    assert response.json()["callerKind"] == "mentor"
    assert status_of(client, mentor, bearer(token_for(org.admin))).json()["callerKind"] == "admin"


def test_the_service_role_key_without_an_audience_runs_as_the_system(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    service_key = mint({"role": "service_role", "iss": "supabase"})
    response = status_of(client, mentor, bearer(service_key))
    assert response.status_code == 200
    assert response.json()["callerKind"] == "system"


def test_a_token_naming_our_audience_among_others_is_accepted(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    claims = mentor.identity.claims() | {"aud": ["dashboard", "authenticated"]}
    assert status_of(client, mentor, bearer(mint(claims))).status_code == 200


@pytest.mark.parametrize(
    ("key", "kid", "algorithm"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")]
)
def test_an_asymmetric_token_is_verified_with_its_jwks_key(
    client: httpx.Client, scene: tuple[Organization, Mentor], key: Any, kid: str, algorithm: str
) -> None:
    _, mentor = scene
    token = token_for(mentor.identity, key=key, algorithm=algorithm, kid=kid)
    response = status_of(client, mentor, bearer(token))
    assert response.status_code == 200
    assert response.json()["callerKind"] == "mentor"


# -- refused ----------------------------------------------------------------------------


def test_no_token_is_anon_who_may_call_nothing(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    assert_refused(status_of(client, mentor, None), "unauthenticated")
    anon_key = mint({"role": "anon", "iss": "supabase"})
    assert_refused(status_of(client, mentor, bearer(anon_key)), "unauthenticated")


def test_an_expired_token_is_401(client: httpx.Client, scene: tuple[Organization, Mentor]) -> None:
    _, mentor = scene
    expired = mint(mentor.identity.claims() | {"exp": int(time.time()) - 3600})
    response = status_of(client, mentor, bearer(expired))
    assert_refused(response, "PGRST303")
    assert response.json()["message"] == "JWT expired"


@pytest.mark.parametrize(
    ("claim", "value", "message"),
    [
        ("sub", None, "JWT claim 'sub' must be a string, not null"),
        ("sub", 42, "JWT claim 'sub' must be a string, not a number"),
        ("exp", "tomorrow", "JWT claim 'exp' must be a number of seconds since the epoch"),
        ("iat", "now", "JWT claim 'iat' must be a number of seconds since the epoch"),
        (
            "exp",
            float("inf"),
            "JWT claim 'exp' must be a number of seconds since the epoch, not Infinity",
        ),
        (
            "exp",
            float("nan"),
            "JWT claim 'exp' must be a number of seconds since the epoch, not NaN",
        ),
        (
            "nbf",
            float("-inf"),
            "JWT claim 'nbf' must be a number of seconds since the epoch, not -Infinity",
        ),
        (
            "exp",
            10**400,
            "JWT claim 'exp' must be a number of seconds since the epoch,"
            " not a number out of range",
        ),
    ],
    ids=[
        "sub null",
        "sub a number",
        "exp a string",
        "iat a string",
        "exp Infinity",
        "exp NaN",
        "nbf -Infinity",
        "exp beyond a float",
    ],
)
def test_a_correctly_signed_token_with_a_malformed_claim_says_which_claim(
    client: httpx.Client, scene: tuple[Organization, Mentor], claim: str, value: Any, message: str
) -> None:
    _, mentor = scene
    token = mint(mentor.identity.claims() | {claim: value})
    response = status_of(client, mentor, bearer(token))
    assert_refused(response, "PGRST303")
    assert response.json()["message"].startswith(message)


def test_a_token_signed_with_another_secret_is_401(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    forged = token_for(mentor.identity, key="another-secret-of-at-least-32-characters!")
    assert_refused(status_of(client, mentor, bearer(forged)), "PGRST301")


def test_a_token_for_another_audience_is_401(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    other = mint(mentor.identity.claims() | {"aud": "another-project"})
    response = status_of(client, mentor, bearer(other))
    assert_refused(response, "PGRST303")
    assert response.json()["message"] == "JWT not in audience"


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "postgres"},
        {"role": "supabase_admin"},
        {"role": "authenticated"},
        {"role": "authenticated", "sub": "admin"},
    ],
    ids=["a database superuser", "another role", "no user", "a user id that is not a UUID"],
)
def test_a_token_naming_another_role_or_no_user_is_401(
    client: httpx.Client, scene: tuple[Organization, Mentor], claims: dict[str, Any]
) -> None:
    _, mentor = scene
    assert_refused(status_of(client, mentor, bearer(mint(claims))), "PGRST303")


def test_a_token_without_an_expiry_is_401(
    client: httpx.Client, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    forever = mint(mentor.identity.claims(), expires_in=None)
    assert_refused(status_of(client, mentor, bearer(forever)), "PGRST303")


def unsigned(claims: dict[str, Any]) -> str:
    return jwt.encode(claims | {"exp": int(time.time()) + 60}, key=None, algorithm="none")


def rsa_public_pem() -> bytes:
    return RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    "make_header",
    [
        lambda identity: f"Basic {token_for(identity)}",
        lambda identity: "Bearer",
        lambda identity: "Bearer not.a.jwt",
        lambda identity: bearer(unsigned(identity.claims())),
        lambda identity: bearer(token_for(identity, key=RSA_KEY, algorithm="RS256", kid="unknown")),
        lambda identity: bearer(token_for(identity, key=RSA_KEY, algorithm="RS256")),
        lambda identity: bearer(token_for(identity, key=EC_KEY, algorithm="ES256", kid="rsa-1")),
    ],
    ids=[
        "another scheme",
        "a bearer without a token",
        "not a JWT",
        "an unsigned token (alg none)",
        "a key id the JWKS does not have",
        "no key id",
        "a key id of a key of another type",
    ],
)
def test_a_malformed_or_unverifiable_authorization_is_401(
    client: httpx.Client, scene: tuple[Organization, Mentor], make_header: Any
) -> None:
    _, mentor = scene
    assert_refused(status_of(client, mentor, make_header(mentor.identity)), "PGRST301")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_an_rsa_public_key_used_as_an_hmac_secret_is_401(
    database: Database, scene: tuple[Organization, Mentor], jwks_file: Path
) -> None:
    """Algorithm confusion: HS256 "signed" with the public key that everyone knows.

    The API trusts only the JWKS here (no HS256 secret), so nothing but the algorithm
    pinned to the key can refuse the token."""
    _, mentor = scene
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    payload = mentor.identity.claims() | {"exp": int(time.time()) + 60}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(rsa_public_pem(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(signature)}"
    with (
        serve(database.url, jwt=JwtConfig(jwks=str(jwks_file))) as server,
        server.client() as client,
    ):
        assert_refused(status_of(client, mentor, bearer(token)), "PGRST301")


# -- a JWKS URL, and the configuration --------------------------------------------------


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """A JWKS served over HTTP on a loopback port, as Supabase serves its keys."""
    body = json.dumps(JWKS).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/auth/v1/.well-known/jwks.json"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_keys_from_a_jwks_url_verify_tokens_and_hs256_is_then_refused(
    database: Database, scene: tuple[Organization, Mentor], jwks_url: str
) -> None:
    _, mentor = scene
    with serve(database.url, jwt=JwtConfig(jwks=jwks_url)) as server, server.client() as client:
        signed = token_for(mentor.identity, key=EC_KEY, algorithm="ES256", kid="ec-1")
        assert status_of(client, mentor, bearer(signed)).status_code == 200
        hs256 = token_for(mentor.identity)
        assert_refused(status_of(client, mentor, bearer(hs256)), "PGRST301")


def test_while_the_jwks_url_cannot_be_fetched_the_api_answers_503_not_401(
    database: Database, scene: tuple[Organization, Mentor]
) -> None:
    _, mentor = scene
    nowhere = f"http://127.0.0.1:{free_port()}/auth/v1/.well-known/jwks.json"
    with serve(database.url, jwt=JwtConfig(jwks=nowhere)) as server, server.client() as client:
        signed = token_for(mentor.identity, key=EC_KEY, algorithm="ES256", kid="ec-1")
        response = status_of(client, mentor, bearer(signed))
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "no JWT key"),
        ({"secret": "short"}, "at least 32 characters"),
    ],
)
def test_a_configuration_that_cannot_verify_tokens_is_refused(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        JwtConfig(**config)


def test_a_jwks_file_without_usable_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}))
    with pytest.raises(ConfigurationError, match="no asymmetric signing key"):
        TokenVerifier(JwtConfig(jwks=str(path)))


def test_the_tokens_user_is_the_actor_the_database_records(
    client: httpx.Client, database: Database
) -> None:
    with database.connect() as conn:
        org = World(conn).organization()
        mentor = org.mentor()
        conn.commit()
    claims = mentor.identity.claims() | {"email": "m@example.org", "session_id": str(uuid.uuid4())}
    response = client.post(
        f"{PREFIX}/{mentor.id}/activate",
        json={"reason": "exams"},
        headers={"Authorization": bearer(mint(claims))},
    )
    event = response.json()["event"]
    assert (event["actorUserId"], event["actorKind"], event["databaseRole"]) == (
        str(mentor.user_id),
        "mentor",
        "authenticated",
    )
