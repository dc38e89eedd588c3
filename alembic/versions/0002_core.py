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
    "0002_core", sha256="9ee04ec4bc90509117c1318cdce1d07518cbdd206cef7f97ed649b72b9afef18"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
