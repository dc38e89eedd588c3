"""Security: no caller's code runs as the owner, and internal helpers leak nothing.

Revision ID: 0005
Revises: 0004
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0005_security", sha256="861de43312db55919d2b86c9efcfabe72b0ca400ca1197d1c88fd7398bdd62e5"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
