"""Performance: policies, reads and the state machine cost what they return, not the roster.

Revision ID: 0006
Revises: 0005
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0006_performance", sha256="4d676bc824bdd16301985aff0cd7f848d517c97f3d91ddd1128bd7caafcb3017"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
