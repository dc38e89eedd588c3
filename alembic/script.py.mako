"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from pyproj_rpc.migrations import SqlRevision

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None

# SQL in db/migrations/<name>/; `pyproj-rpc db checksum <name>` prints the sha256.
sql = SqlRevision("${up_revision}_CHANGEME", sha256="")


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
