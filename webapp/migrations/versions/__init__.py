"""Alembic revisions, one file each; a package only so that it ships with flamedeck."""
