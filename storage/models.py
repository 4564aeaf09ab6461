"""The tables. Every datetime is timezone-aware UTC (see storage.types.UTCDateTime).

The schema is created by Alembic migrations (storage/migrations), never by create_all at
run time, so that a database made by an older version can be upgraded in place.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Feed(SQLModel, table=True):
    """A news feed polled by the scheduler, with its caching headers and health."""

    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    title: str = Field(default="", sa_type=Text)
    site_url: str | None = Field(default=None, sa_type=Text)
    language: str | None = Field(default=None, max_length=16)
    enabled: bool = Field(default=True)
    # Caching headers stored verbatim, and only from 2xx answers (RFC 9110 §13.1).
    etag: str | None = Field(default=None, sa_type=Text)
    last_modified: str | None = Field(default=None, sa_type=Text)
    next_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = Field(default=0)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    disabled_reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # news.parse.feed_fingerprint of the last body whose items were stored, written in the
    # same transaction as they are: a 200 with this body again is not parsed (issue 14).
    body_fingerprint: str | None = Field(default=None, max_length=64)


class Item(SQLModel, table=True):
    """One entry of one feed, stored once per feed, with the classifier's verdict."""

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("feed_id", "key", name="uq_item_feed_key"),
        Index("ix_item_feed_link", "feed_id", "link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(ForeignKey("feed.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(sa_type=Text)  # guid, else canonical link, else a hash
    link: str | None = Field(default=None, sa_type=Text)  # canonical link
    title: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    language: str | None = Field(default=None, max_length=16)
    published_at: datetime = Field(sa_type=UTCDateTime, index=True)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # False when the item was already older than MAX_ITEM_AGE when first seen: kept for
    # look-ups, never pushed to subscribers.
    alertable: bool = Field(default=True)
    label: bool | None = Field(default=None)  # None until classified
    event_type: str | None = Field(default=None, max_length=16)
    countries: str = Field(default="", max_length=64)  # "KZ,TJ": sorted ISO codes
    confidence: float | None = Field(default=None)
    evidence: str | None = Field(default=None, sa_type=Text)  # JSON
    event_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("event.id", ondelete="SET NULL"), nullable=True, index=True),
    )


class Event(SQLModel, table=True):
    """A bilateral cooperation event; its sources are the items that point to it."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(Text, nullable=False, unique=True))  # shown in /event ID
    event_type: str = Field(max_length=16)
    countries: str = Field(max_length=64)  # "KZ,TJ"
    event_date: date | None = Field(default=None, index=True)
    place: str | None = Field(default=None, sa_type=Text)
    summary: str = Field(default="", sa_type=Text)
    facts: str | None = Field(default=None, sa_type=Text)  # JSON
    evidence: str | None = Field(default=None, sa_type=Text)  # the sentence the label rests on
    language: str | None = Field(default=None, max_length=16)
    confidence: float = Field(default=0.0)
    # The grouping state (news.grouping.EventState as JSON) so grouping survives restarts.
    state: str | None = Field(default=None, sa_type=Text)
    source_count: int = Field(default=1)
    # Whether subscribers were (or are being) alerted: a doubtful or stale event is listed by
    # /country but never pushed.
    alerted: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # "energy,trade": keys of news/data/topics.json found in the reports, in the list's order.
    topics: str = Field(default="", sa_type=Text)


class EventCountry(SQLModel, table=True):
    """One party of an event, for "/country TJ" look-ups by index."""

    __tablename__ = "event_country"

    event_id: int = Field(
        sa_column=Column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    )
    country: str = Field(primary_key=True, max_length=8, index=True)


class Chat(SQLModel, table=True):
    """A private chat, group or channel that talks to the bot, with its preferences."""

    __tablename__ = "chat"

    # Telegram chat ids exceed 32 bits (supergroups are -100…), hence BIGINT.
    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    type: str = Field(max_length=16)  # private, group, supergroup, channel
    title: str | None = Field(default=None, sa_type=Text)
    username: str | None = Field(default=None, sa_type=Text)
    language: str = Field(default="en", max_length=8)
    active: bool = Field(default=True)
    deactivated_reason: str | None = Field(default=None, sa_type=Text)
    mode: str = Field(default="instant", max_length=16)  # instant | digest
    digest_hour: int = Field(default=9)
    timezone: str = Field(default="Asia/Almaty", max_length=64)
    event_types: str = Field(default="visit,meeting,call,agreement", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # /filter: the chat's words as typed, lower case, space-separated; None pushes everything.
    filter_words: str | None = Field(default=None, sa_type=Text)


class Subscription(SQLModel, table=True):
    """A country a chat follows. A chat with none follows the five Central Asian states."""

    __tablename__ = "subscription"

    chat_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("chat.id", ondelete="CASCADE", onupdate="CASCADE"),
            primary_key=True,
        )
    )
    country: str = Field(primary_key=True, max_length=8, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """The outbox: one row per (event, chat), written with the event, advanced after a send."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "chat_id", name="uq_delivery_event_chat"),
        Index("ix_delivery_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(
        sa_column=Column(ForeignKey("event.id", ondelete="CASCADE"), nullable=False)
    )
    chat_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("chat.id", ondelete="CASCADE", onupdate="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed | digest
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sent_source_count: int = Field(default=0)  # the source count the sent message shows
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The outbox claim (storage.deliveries.claim_due_deliveries): the leader term that took
    # the row for sending, and until when; a later term or an expired claim may take it.
    claim_term: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """An admin action: who did what, when (shown by /audit)."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Telegram user id of the admin; None for the command line.
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    source: str = Field(default="telegram", max_length=16)  # telegram | cli | console
    action: str = Field(max_length=32)  # addfeed, removefeed, pollnow, addchannel, ...
    detail: str = Field(default="", sa_type=Text)


class LeaderLease(SQLModel, table=True):
    """Who leads the instances sharing this database, until when (storage.lease)."""

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(sa_type=Text)  # "hostname:pid" of the instance
    # The fencing token: one more at every change of holder, never reused.
    term: int = Field(sa_column=Column(BigInteger, nullable=False))
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    renewed_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
