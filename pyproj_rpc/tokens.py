"""Development tokens: JWTs shaped like Supabase's, signed with the project's JWT secret.

An access token as Supabase Auth issues it for a signed-in user (``role`` authenticated),
or a key like the project's service_role key. For local work and tests: the REST adapter
(and PostgREST) accept them when they share the secret. Never a substitute for Supabase
Auth in production.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from uuid import UUID

import jwt

from pyproj_rpc.errors import ConfigurationError
from pyproj_rpc.relay.durations import parse_duration

ROLES = ("authenticated", "service_role")
MIN_SECRET_LENGTH = 32  # Supabase's minimum, as the REST adapter requires
ISSUER = "pyproj-rpc"
BARE_NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")
SECRET_ENV = ("PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET")


def parse_ttl(text: str) -> int:
    """Whole seconds of a lifetime with a unit (``90s``, ``15m``, ``1h``, ``7d``)."""
    if BARE_NUMBER.match(text):
        raise ConfigurationError(f"--ttl: {text!r} needs a unit (e.g. 90s, 15m, 1h, 7d)")
    seconds = parse_duration(text, what="--ttl")
    if seconds < 1:
        raise ConfigurationError(f"--ttl: {text!r} is less than a second")
    return int(seconds)


def claims_for(
    role: str,
    *,
    user_id: UUID | None,
    email: str | None = None,
    ttl_seconds: int = 3600,
    now: int | None = None,
) -> dict[str, Any]:
    """The claims Supabase puts in a token for this role (and user)."""
    if role not in ROLES:
        raise ConfigurationError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    issued = int(time.time()) if now is None else now
    if role == "service_role":
        # As the project's service_role key: no user, no audience.
        claims: dict[str, Any] = {"iss": ISSUER, "role": role, "iat": issued}
        if user_id is not None:
            claims["sub"] = str(user_id)
        claims["exp"] = issued + ttl_seconds
        return claims
    if user_id is None:
        raise ConfigurationError("an authenticated token is for a user: pass --as USER_ID")
    return {
        "iss": ISSUER,
        "sub": str(user_id),
        "aud": "authenticated",
        "exp": issued + ttl_seconds,
        "iat": issued,
        "email": email or "",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": role,
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": issued}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }


def sign(claims: dict[str, Any], secret: str | None) -> str:
    """HS256 with the project's JWT secret, as Supabase signs with a shared secret."""
    if not secret:
        raise ConfigurationError(
            "no JWT secret: pass --jwt-secret or set PYPROJ_JWT_SECRET (or SUPABASE_JWT_SECRET), "
            "the same one `pyproj-rpc api` uses"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"the JWT secret must be at least {MIN_SECRET_LENGTH} characters long"
        )
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
