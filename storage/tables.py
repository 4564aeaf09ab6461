"""The feed and item tables on SQLAlchemy Core, for what runs without the ORM.

A poll (storage.feedrows) and the event list (storage.eventlist) read and write these without
sqlmodel, SQLAlchemy's ORM or the table classes, which cost a command's start-up more than its
queries (issue 14). They are the `feed` and `item` tables of `storage.models`, which Alembic
creates; tests/storage/test_eventlist.py holds them to the models column by column and checks
they have every column, so an INSERT cannot silently leave a new one out.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text

from storage.types import UTCDateTime

_CORE = MetaData()
FEEDS = Table(
    "feed",
    _CORE,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("site_url", Text),
    Column("language", String(16)),
    Column("enabled", Boolean),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_poll_at", UTCDateTime),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("consecutive_failures", Integer),
    Column("failing_since", UTCDateTime),
    Column("last_error", Text),
    Column("disabled_reason", Text),
    Column("created_at", UTCDateTime),
    Column("body_fingerprint", String(64)),
)
ITEMS = Table(
    "item",
    _CORE,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, nullable=False),
    Column("key", Text),
    Column("link", Text),
    Column("title", Text),
    Column("text", Text),
    Column("language", String(16)),
    Column("published_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime),
    Column("alertable", Boolean),
    Column("label", Boolean),
    Column("event_type", String(16)),
    Column("countries", String(64)),
    Column("confidence", Float),
    Column("evidence", Text),
    Column("event_id", Integer),
)
