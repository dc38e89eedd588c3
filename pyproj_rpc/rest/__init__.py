"""The REST adapter: /api/v1/pause-management over the RPC contract (``pyproj-rpc api``)."""

from pyproj_rpc.rest.app import create_app
from pyproj_rpc.rest.auth import JwtConfig, TokenVerifier
from pyproj_rpc.rest.settings import RestSettings

__all__ = ["JwtConfig", "RestSettings", "TokenVerifier", "create_app"]
