"""Schema migrations (Alembic) and the ``flamedeck db`` command."""

from webapp.migrations.command import main
from webapp.migrations.schema import (
    SchemaNotCurrent, check_current, database_revision, head_revision, prepare_schema, upgrade,
)

__all__ = ["main", "SchemaNotCurrent", "check_current", "database_revision", "head_revision",
           "prepare_schema", "upgrade"]
