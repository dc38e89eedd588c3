"""Status held back: get_current_status lists what the caller can take now, and why not.

Revision ID: 0011
Revises: 0010
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0011_status_held_back",
    sha256="50861d4e1c0c144c20964b0836fc789501b0fb749f090dae4f47c97416f7b357",
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
