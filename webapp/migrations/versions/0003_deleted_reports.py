"""Tombstones of deleted reports: a deleted report's link answers 410 "deleted", an unknown one 404.

Only an addition (a new table), so every stored report is kept as it was.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_reports",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("deleted_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_deleted_reports_deleted_at", "deleted_reports", ["deleted_at"])


def downgrade() -> None:
    op.drop_table("deleted_reports")
