"""Outbox delivery state and the relay's claim/report functions.

Revision ID: 0003
Revises: 0002
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0003_outbox_delivery", sha256="14e01df7863262e3560441d3a50d48f3fbd22903c8472a72b4b1a438d1910b74"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
