"""Schema 2 (user_version 2 before Alembic): standing responses kept as rows; deadlines that
belong to no item; ballot options into the item's data; the hash-chained register (it starts
empty: schema 1 kept no register); files kept with replies.

Only SQLite databases were ever at schema 1, so this step is written for SQLite, with the
tables as they were at schema 2 (not as the models may say later).

Revision ID: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    """CREATE TABLE blob (
    sha256 VARCHAR NOT NULL, size INTEGER NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (sha256))""",
    """CREATE TABLE registerentry (
    id INTEGER NOT NULL, at DATETIME NOT NULL, event VARCHAR NOT NULL, item_id INTEGER,
    person_id INTEGER, detail JSON NOT NULL, message_sha256 VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL, PRIMARY KEY (id),
    FOREIGN KEY(item_id) REFERENCES item (id), FOREIGN KEY(person_id) REFERENCES person (id))""",
    """CREATE TABLE responsefile (
    id INTEGER NOT NULL, response_id INTEGER NOT NULL, item_id INTEGER NOT NULL,
    name VARCHAR NOT NULL, content_type VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    size INTEGER NOT NULL, PRIMARY KEY (id),
    FOREIGN KEY(response_id) REFERENCES response (id), FOREIGN KEY(item_id) REFERENCES item (id),
    FOREIGN KEY(sha256) REFERENCES blob (sha256))""",
    "CREATE INDEX ix_responsefile_response_id ON responsefile (response_id)",
    "CREATE INDEX ix_responsefile_item_id ON responsefile (item_id)",
    """CREATE TABLE standing (
    item_id INTEGER NOT NULL, person_id INTEGER NOT NULL, latest_id INTEGER NOT NULL,
    counted_id INTEGER, unclear_in_a_row INTEGER DEFAULT '0' NOT NULL,
    PRIMARY KEY (item_id, person_id),
    FOREIGN KEY(item_id) REFERENCES item (id), FOREIGN KEY(person_id) REFERENCES person (id),
    FOREIGN KEY(latest_id) REFERENCES response (id),
    FOREIGN KEY(counted_id) REFERENCES response (id))""",
)

DEADLINE = (
    "ALTER TABLE deadline RENAME TO deadline_v1",
    "DROP INDEX IF EXISTS ix_deadline_item_id",
    "DROP INDEX IF EXISTS ix_deadline_due_at",
    """CREATE TABLE deadline (
    id INTEGER NOT NULL, item_id INTEGER, workflow VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    due_at DATETIME NOT NULL, done_at DATETIME, PRIMARY KEY (id),
    UNIQUE (item_id, workflow, kind, due_at), FOREIGN KEY(item_id) REFERENCES item (id))""",
    "CREATE INDEX ix_deadline_item_id ON deadline (item_id)",
    "CREATE INDEX ix_deadline_due_at ON deadline (due_at)",
    "INSERT INTO deadline (id, item_id, workflow, kind, due_at, done_at) "
    "SELECT d.id, d.item_id, i.kind, d.kind, d.due_at, d.done_at "
    "FROM deadline_v1 d JOIN item i ON i.id = d.item_id",
    "DROP TABLE deadline_v1",
)

COLUMNS = (
    "INSERT INTO standing (item_id, person_id, latest_id, counted_id) "
    "SELECT item_id, person_id, max(id), max(CASE WHEN status = 'counted' THEN id END) "
    "FROM response GROUP BY item_id, person_id",
    "UPDATE item SET data = json_set(data, '$.options', json(options)) "
    "WHERE options IS NOT NULL AND options != '[]'",
    "ALTER TABLE item DROP COLUMN options",
    "ALTER TABLE inbound ADD COLUMN arrived_at DATETIME",
    "ALTER TABLE item ADD COLUMN key VARCHAR",
    "CREATE UNIQUE INDEX ix_item_key ON item (key)",
    "ALTER TABLE review ADD COLUMN notify BOOLEAN NOT NULL DEFAULT 0",
    "ALTER TABLE review ADD COLUMN notified_at DATETIME",
    "ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE outbox ADD COLUMN cap_key VARCHAR NOT NULL DEFAULT ''",
    "UPDATE outbox SET cap_key = COALESCE(json_extract(recipients, '$[0]'), '')",
)


def upgrade() -> None:
    for statement in (*TABLES, *DEADLINE, *COLUMNS):
        op.execute(statement)
