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
    "0002_core", sha256="78d7969db7ff317330e43c1de67295f896d3c01e20cbee9bb30a76945913864f"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
