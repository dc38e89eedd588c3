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
    "0003_outbox_delivery",
    sha256="24165980ad2b542d3ae6a0fc5d1da8b348c998bf642b99d7e0c1bf80de24ad97",
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
