"""pyproj-rpc: peer mentor pause management, owned by PostgreSQL, served to Supabase as RPC.

The names below load on first use, so that ``import pyproj_rpc`` (and the command line's
start) does not import psycopg::

    from pyproj_rpc import PauseManagementClient, Identity
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "PauseManagementClient": "pyproj_rpc.client",
    "AsyncPauseManagementClient": "pyproj_rpc.client",
    "PauseManagementError": "pyproj_rpc.api_errors",
    "Identity": "pyproj_rpc.identity",
    "Role": "pyproj_rpc.identity",
    "PyprojRpcError": "pyproj_rpc.errors",
    "ConfigurationError": "pyproj_rpc.errors",
}

__all__ = [
    "AsyncPauseManagementClient",
    "ConfigurationError",
    "Identity",
    "PauseManagementClient",
    "PauseManagementError",
    "PyprojRpcError",
    "Role",
    "__version__",
]

if TYPE_CHECKING:
    from pyproj_rpc.api_errors import PauseManagementError
    from pyproj_rpc.client import AsyncPauseManagementClient, PauseManagementClient
    from pyproj_rpc.errors import ConfigurationError, PyprojRpcError
    from pyproj_rpc.identity import Identity, Role


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pyproj_rpc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
