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
    "0004_sweeps", sha256="83e2aae56937d3733b0e1eaceda008376b1dcf5233159a833800c8b2802c891f"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
