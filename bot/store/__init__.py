"""Persistence: SQLModel tables on SQLite and the functions that read and write them."""
