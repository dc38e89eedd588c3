"""Audit chain: each status event hashes the previous one of its mentor; guarded pauses.

Revision ID: 0009
Revises: 0008
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0009_audit_chain", sha256="f9c2ca88e01c16e720e9bf62bef90d445e24480ab3ce887fb47849a439af50ce"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
