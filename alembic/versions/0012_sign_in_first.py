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
    sha256="a9e601b9906bda88d7e7675454797b724cad5460be18a73b24298bf8e3773851",
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
