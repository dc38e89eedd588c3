"""Sweeps: certification expiry over an index, and overdue-pause reminders.

Revision ID: 0004
Revises: 0003
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0004_sweeps", sha256="6dfed54d587d0e471a34d0edd4f9d395c72e332562f66c5b920b752e725a00c7"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
