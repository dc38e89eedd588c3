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
    "0002_core", sha256="5d5c16c08f1e3a806107befcef0e0359e0289b68dc3be105e292429e34e0fc97"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
