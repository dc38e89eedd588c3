"""Who a request runs as: the verified Supabase JWT of its ``Authorization`` header.

As PostgREST: no header means ``anon``; a bearer token must carry a valid signature (HS256
with the project's JWT secret, or an asymmetric key of the project's JWKS, chosen by
``kid``), must not be expired, and must name our audience when it names one (Supabase's
``anon`` and ``service_role`` keys name none). Its ``role`` claim picks the database role,
``anon``, ``authenticated`` or ``service_role`` only, and every claim goes to
``request.jwt.claims``: a claim PostgreSQL text cannot hold (a NUL, a lone surrogate) is
refused as 400 ``invalid_input``.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from starlette.concurrency import run_in_threadpool

from pyproj_rpc.calls import storable_json
from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.identity import Identity

AUTHORIZATION = "Authorization"
HS256 = "HS256"
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MIN_SECRET_LENGTH = 32  # Supabase's minimum; shorter HMAC keys are guessable
CLOCK_SKEW_SECONDS = 30  # PostgREST's allowance
JWKS_CACHE_SECONDS = 300
JWKS_FETCH_TIMEOUT_SECONDS = 5

_UNSAFE_IN_HEADER = re.compile(r'[^\x20-\x7e]|["\\]')

# PostgREST's codes: the token could not be decoded or verified; its claims are invalid.
UNVERIFIED_TOKEN = "PGRST301"  # noqa: S105 (an error code)
INVALID_CLAIMS = "PGRST303"


class AuthenticationError(Exception):
    """A bearer token we refuse: 401 with PostgREST's body and a ``WWW-Authenticate``."""

    http_status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """PostgREST's error body."""
        return {"code": self.code, "message": self.message, "details": None, "hint": None}

    @property
    def headers(self) -> dict[str, str]:
        """RFC 6750's challenge, as PostgREST sends it."""
        description = _UNSAFE_IN_HEADER.sub("'", self.message)
        return {
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        }


class KeysUnavailable(Exception):
    """The JWKS URL could not be fetched: no token can be verified for now."""


@dataclass(frozen=True)
class JwtConfig:
    """How tokens are verified: an HS256 secret and/or a JWKS file or URL, and the audience."""

    secret: str | None = None
    jwks: str | None = None
    audience: str = "authenticated"

    def __post_init__(self) -> None:
        if not self.secret and not self.jwks:
            raise ConfigurationError(
                "no JWT key: pass --jwt-secret (or set PYPROJ_JWT_SECRET or "
                "SUPABASE_JWT_SECRET) and/or --jwks PATH_OR_URL (or set PYPROJ_JWKS)"
            )
        if self.secret is not None and len(self.secret) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"the JWT secret must be at least {MIN_SECRET_LENGTH} characters long"
            )


class TokenVerifier:
    """Turns an ``Authorization`` header into the :class:`Identity` the request runs as."""

    def __init__(self, config: JwtConfig) -> None:
        self.config = config
        self._file_keys: dict[str, jwt.PyJWK] | None = None
        self._jwks_client: jwt.PyJWKClient | None = None
        if config.jwks and config.jwks.startswith(("http://", "https://")):
            self._jwks_client = jwt.PyJWKClient(
                config.jwks,
                cache_jwk_set=True,
                lifespan=JWKS_CACHE_SECONDS,
                timeout=JWKS_FETCH_TIMEOUT_SECONDS,
            )
        elif config.jwks:
            self._file_keys = load_jwks_file(Path(config.jwks))

    async def identity(self, authorization: str | None) -> Identity:
        """The caller: ``anon`` without a header, else the verified token's identity.

        Raises :class:`AuthenticationError`, or
        :class:`~pyproj_rpc.api_errors.InvalidInput` for a claim PostgreSQL cannot hold.
        """
        if authorization is None:
            return Identity.anon()
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError(
                UNVERIFIED_TOKEN, "the Authorization header must be 'Bearer <JWT>'"
            )
        key, algorithm = await self._key_for(token)
        claims = self._verified_claims(token, key, algorithm)
        # Signed, yet unfit for request.jwt.claims (jsonb refuses \u0000): the request's fault.
        storable_json(claims, AUTHORIZATION, what="a claim of the token")
        try:
            return Identity.from_claims(claims)
        except ValueError as exc:
            raise AuthenticationError(INVALID_CLAIMS, f"JWT claims are invalid: {exc}") from None

    async def _key_for(self, token: str) -> tuple[Any, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise AuthenticationError(UNVERIFIED_TOKEN, "the JWT could not be decoded") from None
        algorithm = header.get("alg")
        if algorithm == HS256 and self.config.secret:
            return self.config.secret, HS256
        if algorithm in ASYMMETRIC_ALGORITHMS and (self._file_keys or self._jwks_client):
            jwk = await self._jwk(header.get("kid"))
            if jwk.algorithm_name != algorithm:
                raise AuthenticationError(
                    UNVERIFIED_TOKEN, "the JWT's algorithm does not match its key"
                )
            return jwk, algorithm
        raise AuthenticationError(UNVERIFIED_TOKEN, "the JWT's algorithm is not accepted here")

    async def _jwk(self, kid: Any) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise AuthenticationError(UNVERIFIED_TOKEN, "the JWT names no key (kid)")
        if self._file_keys is not None:
            jwk = self._file_keys.get(kid)
        else:
            assert self._jwks_client is not None
            jwk = await run_in_threadpool(_fetch_signing_key, self._jwks_client, kid)
        if jwk is None:
            raise AuthenticationError(UNVERIFIED_TOKEN, "no key matches the JWT's kid")
        return jwk

    def _verified_claims(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        """The signature first (PGRST301), then each claim (PGRST303) with what is wrong
        with it: a token signed with our key but a malformed claim is not a forgery."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[algorithm], options=SIGNATURE_ONLY
            )
        except jwt.InvalidTokenError:
            raise AuthenticationError(UNVERIFIED_TOKEN, "JWT signature is invalid") from None
        check_claims(claims, time.time())
        if not audience_matches(claims.get("aud"), self.config.audience):
            raise AuthenticationError(INVALID_CLAIMS, "JWT not in audience")
        return claims


# Claims are checked by check_claims, for messages that say which claim is wrong and how.
SIGNATURE_ONLY: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
}


def check_claims(claims: dict[str, Any], now: float) -> None:
    """``exp`` required and in the future, ``nbf``/``iat`` not in the future (with
    PostgREST's clock skew), each a number; ``sub``, when present, a string."""
    if "exp" not in claims:
        raise AuthenticationError(INVALID_CLAIMS, "JWT has no 'exp' claim")
    for name in ("exp", "nbf", "iat"):
        if name in claims and not is_number(claims[name]):
            raise AuthenticationError(
                INVALID_CLAIMS,
                f"JWT claim {name!r} must be a number of seconds since the epoch,"
                f" not {json_type(claims[name])}",
            )
    if claims["exp"] + CLOCK_SKEW_SECONDS <= now:
        raise AuthenticationError(INVALID_CLAIMS, "JWT expired")
    for name in ("nbf", "iat"):
        if name in claims and claims[name] - CLOCK_SKEW_SECONDS > now:
            raise AuthenticationError(INVALID_CLAIMS, "JWT is not valid yet")
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise AuthenticationError(
            INVALID_CLAIMS, f"JWT claim 'sub' must be a string, not {json_type(claims['sub'])}"
        )


def is_number(value: Any) -> bool:
    """A JSON number we can compare: Python's json reads NaN and Infinity too (an ``exp``
    of either would never expire), and integers too large for a float."""
    return isinstance(value, int | float) and not isinstance(value, bool) and finite(value)


def finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond a float's range
        return False


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return number_name(value)
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def number_name(value: float) -> str:
    if finite(value):
        return "a number"
    if isinstance(value, int):
        return "a number out of range"
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def audience_matches(aud: Any, audience: str) -> bool:
    """PostgREST's rule: a token without ``aud`` is accepted; one with it must name ours."""
    if aud is None:
        return True
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and audience in aud


def load_jwks_file(path: Path) -> dict[str, jwt.PyJWK]:
    """The asymmetric signing keys of a JWKS file, by ``kid``."""
    try:
        key_set = jwt.PyJWKSet.from_json(path.read_text())
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ConfigurationError(f"cannot read the JWKS file {path}: {exc}") from exc
    keys = {
        key.key_id: key
        for key in key_set.keys
        if key.key_id
        and key.algorithm_name in ASYMMETRIC_ALGORITHMS
        and key.public_key_use in ("sig", None)
    }
    if not keys:
        raise ConfigurationError(f"the JWKS file {path} has no asymmetric signing key with a kid")
    return keys


def _fetch_signing_key(client: jwt.PyJWKClient, kid: str) -> jwt.PyJWK | None:
    try:
        jwk = client.get_signing_key(kid)
    except jwt.PyJWKClientConnectionError as exc:
        raise KeysUnavailable(str(exc)) from exc
    except jwt.PyJWKClientError:
        return None
    return jwk if jwk.algorithm_name in ASYMMETRIC_ALGORITHMS else None
