"""Schema 3 (user_version 3 before Alembic): the index the sender counts an hour's mail on one
budget with (issue 12).

Revision ID: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_budget", "outbox", ["cap_key", "state", "sent_at"])
