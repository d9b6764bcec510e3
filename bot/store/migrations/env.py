"""Alembic's entry point for cgbot: always run from bot.store.db.migrate, on the connection (and
inside the transaction) it passes, so that a failed step leaves the database as it was."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from bot.store import models  # noqa: F401  (the tables the metadata describes)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run cgbot's migrations through bot.store.db.migrate, not alembic itself")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
