"""The indexes that keep a catch-up linear (issue 12): the sender's next due mail is read in
queue order from an index instead of sorting every pending row for each claim, and the first
mail of an item to a person (the thread a new mail joins) is found without reading the item's
whole history.

Revision ID: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_queue", "outbox", ["state", "priority", "id"])
    op.create_index("ix_outbox_thread", "outbox", ["item_id", "person_id", "id"])
