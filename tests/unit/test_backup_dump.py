"""What a PostgreSQL dump holds, read from pg_restore's listing and script before a restore."""

from __future__ import annotations

from bot.store.backup import dump_revision, dump_tables

LISTING = """;
; Archive created at 2026-11-29 12:00:00 UTC
;     dbname: cg_1
;     TOC Entries: 120
;     Format: CUSTOM
;
; Selected TOC Entries:
;
215; 1259 16390 TABLE public inbound cgbot
216; 1259 16391 SEQUENCE public inbound_id_seq cgbot
217; 1259 16400 TABLE public item cgbot
218; 1259 16410 TABLE public outbox
219; 1259 16420 TABLE public alembic_version cgbot
3380; 0 16390 TABLE DATA public inbound cgbot
3381; 0 16400 TABLE DATA public notes cgbot
3390; 2606 16500 CONSTRAINT public inbound inbound_pkey cgbot
"""


def test_the_tables_are_read_from_the_listing_not_their_data_or_other_entries() -> None:
    assert dump_tables(LISTING) == {"inbound", "item", "outbox", "alembic_version"}
    assert dump_tables("") == set()


def test_the_revision_is_the_row_of_alembic_version() -> None:
    script = (
        "SET statement_timeout = 0;\n"
        "COPY public.alembic_version (version_num) FROM stdin;\n0005\n\\.\n\n"
    )
    assert dump_revision(script) == "0005"
    empty = "COPY public.alembic_version (version_num) FROM stdin;\n\\.\n"
    assert dump_revision(empty) is None
    assert dump_revision("SET statement_timeout = 0;\n") is None
