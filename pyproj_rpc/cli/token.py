"""``pyproj-rpc token``: a development JWT, shaped like Supabase's, for curl and clients."""

from __future__ import annotations

import json
from uuid import UUID

import click

from pyproj_rpc import tokens


@click.command("token")
@click.option(
    "--as",
    "as_user",
    type=click.UUID,
    metavar="USER_ID",
    help="The signed-in user (auth.users id): the token's sub. Needed for authenticated.",
)
@click.option(
    "--role",
    type=click.Choice(["authenticated", "service_role"]),
    default="authenticated",
    show_default=True,
    help="The database role the token selects.",
)
@click.option(
    "--ttl",
    default="1h",
    show_default=True,
    help="Lifetime, with a unit: 90s, 15m, 1h, 7d.",
)
@click.option("--email", help="The email claim (Supabase sets the user's; default empty).")
@click.option(
    "--jwt-secret",
    envvar=["PYPROJ_JWT_SECRET", "SUPABASE_JWT_SECRET"],
    help="The secret the API verifies with (at least 32 characters). "
    "Default: $PYPROJ_JWT_SECRET, else $SUPABASE_JWT_SECRET.",
)
@click.option("--json", "as_json", is_flag=True, help="The token, its expiry and its claims.")
def token(
    *,
    as_user: UUID | None,
    role: str,
    ttl: str,
    email: str | None,
    jwt_secret: str | None,
    as_json: bool,
) -> None:
    """Print a JWT signed with the project's JWT secret, for development.

    Shaped like a Supabase access token (iss, sub, aud, role, exp, iat, email, phone,
    app_metadata, user_metadata, aal, amr, session_id, is_anonymous), or like the
    service_role key with --role service_role. Use it as `Authorization: Bearer ...`
    against `pyproj-rpc api` or PostgREST.
    """
    claims = tokens.claims_for(
        role, user_id=as_user, email=email, ttl_seconds=tokens.parse_ttl(ttl)
    )
    signed = tokens.sign(claims, jwt_secret)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "access_token": signed,
                    "token_type": "bearer",
                    "expires_in": claims["exp"] - claims["iat"],
                    "expires_at": claims["exp"],
                    "claims": claims,
                },
                indent=2,
            )
        )
    else:
        click.echo(signed)
