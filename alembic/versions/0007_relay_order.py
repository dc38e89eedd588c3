"""Relay order: one mentor's notifications are claimed in order, held behind undelivered ones.

Revision ID: 0007
Revises: 0006
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0007_relay_order", sha256="158c7cbe39e2d0991380255654084d2dce34b2629d01b12768e10136e467dcac"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
