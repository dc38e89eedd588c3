"""Sign in first: definer helpers ask who calls before looking a mentor up.

Revision ID: 0012
Revises: 0011
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0012_sign_in_first",
    sha256="ce7ed9409875a8433e5bb6de441ead505d7c0296d7553b85f0412239a524a779",
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
