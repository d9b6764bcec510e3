"""A delivery review names the outbox row it is about, so that the sender can close it when the
mail's fate turns out known after all: a second daemon that starts while the first is sending
reports the mail in hand as uncertain, and the first then learns it went (or did not).

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("review", sa.Column("outbox_id", sa.Integer(), nullable=True))
    op.create_index("ix_review_outbox_id", "review", ["outbox_id"])
