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
    sha256="d306514e343dd16db080ec1d853dd4df2e51c546669c88bbb29867e5133dde98",
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
