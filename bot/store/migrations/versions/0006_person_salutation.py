"""How mail to a person opens ("Madame la Coprésidente"), from the configuration; empty for
the language's own opening.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("person", sa.Column("salutation", sa.String(), nullable=False, server_default=""))
