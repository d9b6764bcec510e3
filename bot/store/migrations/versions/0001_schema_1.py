"""Schema 1: the first release's tables (PRAGMA user_version 1 before Alembic).

The baseline. A new database is never built from it: it is created from the models and stamped
at the head revision; a database of the first release is stamped here and upgraded.

Revision ID: 0001
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: the schema-1 tables are already there."""
