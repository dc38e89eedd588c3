"""The consumer suites reuse the REST modules' fixtures: one committed database, one
REST server and one HTTP client per module, and a committed organization per test."""

from tests.integration.conftest import client, conn, database, org, server

__all__ = ["client", "conn", "database", "org", "server"]
