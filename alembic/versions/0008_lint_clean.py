"""Lint clean: `supabase db lint --level warning` reports nothing for api and mentoring.

Revision ID: 0008
Revises: 0007
"""

from pyproj_rpc.migrations import SqlRevision

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

sql = SqlRevision(
    "0008_lint_clean", sha256="8e983bcf363557ef14a6fdc7c63ecc285b58076c859c81c6abd3439ce8d196d1"
)


def upgrade() -> None:
    sql.upgrade()


def downgrade() -> None:
    sql.downgrade()
