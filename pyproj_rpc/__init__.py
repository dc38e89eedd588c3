"""pyproj-rpc: peer mentor pause management, owned by PostgreSQL, served to Supabase as RPC."""

from __future__ import annotations

__version__ = "0.1.0"
