"""The mentoring and api schemas.

Revision ID: 0001
Revises:
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0001_schemas", sha256="1ee5528f0e0e5883033348714c6daf6d043b5451b8c115a6643c2986ce848470"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
