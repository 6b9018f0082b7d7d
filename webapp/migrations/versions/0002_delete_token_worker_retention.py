"""Delete tokens, the worker that ran a job, and an index for retention.

Only additions (nullable columns, an index), so a report stored before the
upgrade is kept as it was; it simply has no delete token.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("worker", sa.String(255), nullable=True))
    op.add_column("reports", sa.Column("delete_token_hash", sa.String(64), nullable=True))
    op.create_index("ix_reports_created_at", "reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_created_at", table_name="reports")
    with op.batch_alter_table("reports") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("delete_token_hash")
        batch.drop_column("worker")
