"""The exception hierarchy of pyproj-rpc.

Everything pyproj-rpc raises on purpose derives from :class:`PyprojRpcError`,
so callers can catch the project's errors without catching bugs.
"""

from __future__ import annotations


class PyprojRpcError(Exception):
    """Base class of every error pyproj-rpc raises on purpose."""


class ConfigurationError(PyprojRpcError):
    """The environment or the arguments do not describe a usable setup."""


class LocalClusterError(PyprojRpcError):
    """The local PostgreSQL cluster could not be found, started or stopped."""


class ServerBinariesNotFound(LocalClusterError):
    """No PostgreSQL server binaries were found on this machine."""


class MigrationError(PyprojRpcError):
    """A migration could not be loaded or applied."""


class LandedMigrationChanged(MigrationError):
    """The SQL of a landed revision no longer matches its recorded checksum."""
