"""Claim once: a claim takes at most batch_size rows, whatever plan its UPDATE gets.

Revision ID: 0010
Revises: 0009
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0010_claim_once", sha256="37e9b54c4e4f360ee530deb57415f94998e6205cfd82fa69d0adb045c3ded653"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
