"""Core: the pause state machine, authorization, pause records, audit and notifications.

Revision ID: 0002
Revises: 0001
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0002_core", sha256="25e427ea2ce3be087d30c0cd1ec17c4156481c4cd318a498d0a1982f3f5d6c3a"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
