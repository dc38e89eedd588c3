"""Assignments by coordinator: index-only, one open-pause probe per assignment.

Revision ID: 0013
Revises: 0012
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0013_assignments_by_coordinator",
    sha256="460df5e665b37eab80ff7c5ee2a8f2efd5d8ccefa48d409d1e4a1332b321f38b",
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
