"""The delivery outbox: one row per (event, chat), written with the event, advanced per send.

A row is ``pending`` until Telegram accepted the message (``sent``, with its message id), or
it gave up (``failed``). Chats in digest mode get ``digest`` rows, which the daily digest
turns into ``digested`` rows. Fetching and sending meet only through this table, so a crash
loses nothing: whatever is still pending after a restart is sent then.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    String,
    TextClause,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from news.records import CENTRAL_ASIA
from news.topics import keyword_filter, report_terms
from storage import chats, lease
from storage.models import Chat, Delivery, Event, Item, Subscription
from storage.types import UTCDateTime, utcnow

PENDING, SENT, FAILED, DIGEST, DIGESTED = "pending", "sent", "failed", "digest", "digested"
WAITING = (PENDING, DIGEST)  # rows that still owe the chat a message
# How long a claimed row stays with its claimant unless the claimant marks it first. Only a
# backstop within one term (a batch abandoned by an unexpected error); a new leader voids
# the old term's claims at once. Longer than a batch can take, 429 pauses included.
CLAIM_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A pending delivery with what the sender needs to render and send it."""

    id: int
    event_id: int
    chat_id: int
    chat_type: str
    language: str
    attempts: int
    source_count: int  # the event's source count when the row was read
    countries: tuple[str, ...] = ()  # what the chat follows (empty: the five states)


@dataclass(frozen=True, slots=True)
class SentDelivery:
    """A sent alert whose event has gained sources since: its message needs an edit."""

    id: int
    event_id: int
    chat_id: int
    language: str
    message_id: int
    source_count: int


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """Figures for /stats."""

    sent: int
    pending: int
    failed: int
    digest: int  # waiting for the chat's daily digest


def _split(codes: str) -> list[str]:
    return [code for code in codes.split(",") if code]


# Chat ids per statement when SQLite queues filtered chats: it takes at most 32,766
# parameters in one statement (its default since 3.32).
ID_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Fanout:
    """What the outbox needs of an event to queue it: whom it concerns and what it is about."""

    id: int
    event_type: str
    countries: str  # "KZ,TJ", as stored
    topics: str  # "energy,trade", as stored


def _filter_passes(
    session: Session, event: Fanout, terms: frozenset[str], all_reports: bool
) -> list[int]:
    """Chats with a /filter that follow the event and that it passes (topics or report words)."""
    topics = _split(event.topics)
    followers = _filtered_followers(_default_followers(event))
    rows = session.connection().execute(followers, _follows_params(event)).all()
    if rows and all_reports:
        terms = terms | _stored_report_terms(session, event)
    return [
        chat_id for chat_id, words in rows if words and keyword_filter(words).matches(terms, topics)
    ]


def _stored_report_terms(session: Session, event: Fanout) -> frozenset[str]:
    """The match keys of every stored report of the event (read only when a filter asks)."""
    reports = session.exec(
        select(Item.title, Item.text).where(col(Item.event_id) == event.id)
    ).all()
    return report_terms(*(part for report in reports for part in report if part))


# Who follows an event, and the outbox's INSERT … SELECT, as SQL text built once per shape
# (the same SQL on both backends): SQLAlchemy 2.0 does not cache an INSERT with ON CONFLICT,
# so the statement was compiled again for every alerted event, and building it with its
# conditions cost ≈ 4.5 ms of the ≈ 6 ms of an alerted event (bench/store.py).
# A chat follows an event when it is active, wants the event's type and follows one of its
# countries; a chat without subscriptions follows the five Central Asian states.
_FOLLOWS = (
    "chat.active AND (',' || chat.event_types || ',') LIKE :type_pattern"
    " AND (EXISTS (SELECT 1 FROM subscription"
    " WHERE subscription.chat_id = chat.id AND subscription.country IN :countries){default})"
)
_OR_WITHOUT_SUBSCRIPTIONS = (
    " OR NOT EXISTS (SELECT 1 FROM subscription WHERE subscription.chat_id = chat.id)"
)
_QUEUE = (
    "INSERT INTO delivery (event_id, chat_id, status, attempts, next_attempt_at,"
    " sent_source_count, created_at)"
    f" SELECT :event_id, chat.id, CASE WHEN chat.mode = 'digest' THEN '{DIGEST}'"
    f" ELSE '{PENDING}' END, 0, :now, 0, :now FROM chat WHERE {{wanted}}"
    " ON CONFLICT (event_id, chat_id) DO NOTHING RETURNING id"
)
_COUNTRIES: BindParameter[Any] = bindparam("countries", expanding=True, type_=String)
_NOW = bindparam("now", type_=UTCDateTime)


def _default_followers(event: Fanout) -> bool:
    """Whether chats without subscriptions follow the event (one of the five states is in it)."""
    return bool(CENTRAL_ASIA.intersection(_split(event.countries)))


def _follows_sql(default: bool) -> str:
    return _FOLLOWS.format(default=_OR_WITHOUT_SUBSCRIPTIONS if default else "")


def _follows_params(event: Fanout) -> dict[str, Any]:
    return {"type_pattern": f"%,{event.event_type},%", "countries": _split(event.countries)}


@functools.cache
def _filtered_followers(default: bool) -> TextClause:
    return text(
        f"SELECT chat.id, chat.filter_words FROM chat WHERE {_follows_sql(default)}"
        " AND chat.filter_words IS NOT NULL"
    ).bindparams(_COUNTRIES)


@functools.cache
def _queue_followers(default: bool) -> TextClause:
    """The event for its followers without a /filter."""
    wanted = f"{_follows_sql(default)} AND chat.filter_words IS NULL"
    return text(_QUEUE.format(wanted=wanted)).bindparams(_COUNTRIES, _NOW)


# The filtered chats that pass, by id: on PostgreSQL one array parameter, whatever the number
# of chats (a statement takes 65,535); on SQLite an IN list per ID_CHUNK.
_QUEUE_IDS = text(_QUEUE.format(wanted="chat.id IN :chat_ids")).bindparams(
    bindparam("chat_ids", expanding=True, type_=BigInteger), _NOW
)


@functools.cache
def _queue_ids_postgresql() -> TextClause:
    # Imported here, not with the module: the PostgreSQL dialect costs a command on SQLite
    # ≈ 50 ms of start-up (issue 14); the engine has loaded its own already.
    from sqlalchemy.dialects import postgresql

    ids = bindparam("chat_ids", type_=postgresql.ARRAY(BigInteger))
    return text(_QUEUE.format(wanted="chat.id = ANY(:chat_ids)")).bindparams(ids, _NOW)


def enqueue_event(
    session: Session,
    /,
    *,
    event_id: int,
    terms: frozenset[str] = frozenset(),
    only_filtered: bool = False,
    all_reports: bool = False,
) -> int:
    """Queue the event for every active chat that follows it; returns how many rows were added.

    One INSERT … SELECT for the chats without a filter, so 10,000 chats cost one statement,
    not 10,000 round trips, and one more for the chats whose filter the event passes (on
    SQLite one per ID_CHUNK of them). Called
    inside the transaction that creates the event (the outbox). Re-queueing is harmless: the
    unique (event, chat) pair makes a second call add only chats that were missing.

    A chat with a /filter gets the event only when its topics or ``terms`` (the match keys
    of the report at hand, news.topics.report_terms) contain one of its words.
    ``only_filtered`` queues just such chats: a later report that mentions a chat's word
    releases the event to it. ``all_reports``: the words of every report stored with the
    event count too (an event held back by a doubtful first report, released by a later one).
    """
    event = session.connection().execute(_FANOUT, {"event_id": event_id}).first()
    if event is None:
        return 0
    return enqueue(
        session,
        Fanout(*event),
        terms=terms,
        only_filtered=only_filtered,
        all_reports=all_reports,
    )


_EVENTS = Event.__table__  # type: ignore[attr-defined]
_FANOUT = sa_select(
    _EVENTS.c.id, _EVENTS.c.event_type, _EVENTS.c.countries, _EVENTS.c.topics
).where(_EVENTS.c.id == bindparam("event_id"))
_ANY_FILTER = (
    sa_select(Chat.__table__.c.id)  # type: ignore[attr-defined]
    .where(Chat.__table__.c.filter_words.is_not(None))  # type: ignore[attr-defined]
    .limit(1)
)


def enqueue(
    session: Session,
    event: Fanout,
    /,
    *,
    terms: frozenset[str] = frozenset(),
    only_filtered: bool = False,
    all_reports: bool = False,
) -> int:
    """enqueue_event for an event whose fan-out fields the caller holds (it has just written
    them): the event is not read again (storage.events, in the event's own transaction)."""
    event_id = event.id
    session.flush()  # the Core statements below see what the session holds (nothing, mostly)
    # Most deployments have no /filter at all: one cheap look first, since every report that
    # joins an alerted event asks (building and caching the followers' query cost more than
    # the rest of the join, issue 14). The statement is built once.
    any_filter = session.connection().execute(_ANY_FILTER).first()
    if only_filtered and any_filter is None:
        return 0
    default = _default_followers(event)
    passing = _filter_passes(session, event, terms, all_reports) if any_filter is not None else []
    added = 0
    if not only_filtered:
        params = _follows_params(event)
        added += _queue(session, _queue_followers(default), event_id, params)
    # The filtered chats that pass were selected with the same condition in this transaction.
    if passing and session.get_bind().dialect.name == "postgresql":
        added += _queue(session, _queue_ids_postgresql(), event_id, {"chat_ids": passing})
    else:
        for start in range(0, len(passing), ID_CHUNK):
            chunk = {"chat_ids": passing[start : start + ID_CHUNK]}
            added += _queue(session, _QUEUE_IDS, event_id, chunk)
    return added


def _queue(session: Session, statement: TextClause, event_id: int, params: dict[str, Any]) -> int:
    """INSERT … SELECT a waiting delivery of the event for each chat the statement selects."""
    now = utcnow()
    found = session.connection().execute(statement, {"event_id": event_id, "now": now, **params})
    # Counting RETURNING rows: psycopg reports no rowcount for this statement.
    return len(found.all())


def _filter_allows(passing: list[int], only_filtered: bool) -> Any:
    if only_filtered:
        return col(Chat.id).in_(passing)
    return or_(col(Chat.filter_words).is_(None), col(Chat.id).in_(passing))


def _due_query(now: datetime) -> Any:
    """Pending deliveries of active chats whose time has come, oldest first."""
    return (
        select(Delivery, Chat.type, Chat.language, Event.source_count)
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .where(Delivery.status == PENDING, col(Delivery.next_attempt_at) <= now, col(Chat.active))
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
    )


def _due_records(session: Session, rows: Sequence[Any]) -> list[DueDelivery]:
    chat_ids = {delivery.chat_id for delivery, *_ in rows}
    followed: dict[int, list[str]] = {}
    if chat_ids:
        for chat_id, country in session.exec(
            select(Subscription.chat_id, Subscription.country).where(
                col(Subscription.chat_id).in_(chat_ids)
            )
        ).all():
            followed.setdefault(chat_id, []).append(country)
    return [
        DueDelivery(
            id=delivery.id or 0,
            event_id=delivery.event_id,
            chat_id=delivery.chat_id,
            chat_type=chat_type,
            language=language,
            attempts=delivery.attempts,
            source_count=source_count,
            countries=tuple(sorted(followed.get(delivery.chat_id, ()))),
        )
        for delivery, chat_type, language, source_count in rows
    ]


def due_deliveries(
    session: Session, /, *, now: datetime, limit: int, settled_before: datetime | None = None
) -> list[DueDelivery]:
    """Pending deliveries whose time has come, oldest first, for active chats only.

    ``settled_before``: only rows queued before then, so that the events of one poll are all
    queued before the first is sent (and several for one chat can become one digest).
    """
    query = _due_query(now)
    if settled_before is not None:
        query = query.where(col(Delivery.created_at) <= settled_before)
    return _due_records(session, session.exec(query.limit(limit)).all())


@dataclass(frozen=True, slots=True)
class Claimant:
    """Who claims outbox rows: a leader's term, and (PostgreSQL) the lease it must hold."""

    term: int
    holder: str | None = None  # set: claim only while (holder, term) holds the lease


def _claimable(term: int, now: datetime) -> Any:
    # A claim by an older term is void: that leader stopped sending before its lease
    # expired, and only then could this term begin (docs/design.md, "High availability: one
    # leader by a lease in PostgreSQL").
    return or_(
        col(Delivery.claim_term).is_(None),
        col(Delivery.claim_term) < term,
        col(Delivery.claimed_until) <= now,
    )


def claim_due_deliveries(
    session: Session,
    /,
    *,
    now: datetime,
    limit: int,
    claimant: Claimant,
    claim_seconds: float = CLAIM_SECONDS,
    settled_before: datetime | None = None,
) -> list[DueDelivery]:
    """Take up to ``limit`` due deliveries for sending: due_deliveries, atomic across processes.

    The rows are locked with FOR UPDATE SKIP LOCKED (PostgreSQL), so two senders never take
    the same row, and marked with the claimant's term until ``now + claim_seconds``; the
    sender's mark_* clear the claim. With a holder, nothing is claimed unless that holder
    still has the lease with this term (fencing: a deposed leader claims nothing).
    """
    if claimant.holder is not None and not lease.holds_lease(
        session, holder=claimant.holder, term=claimant.term
    ):
        return []
    # One statement, so it is atomic on SQLite too (whose SELECT runs outside the
    # transaction a later UPDATE would open); on PostgreSQL the rows another sender has
    # locked are skipped rather than waited for.
    chosen = (
        sa_select(col(Delivery.id))
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .where(
            col(Delivery.status) == PENDING,
            col(Delivery.next_attempt_at) <= now,
            col(Chat.active),
            _claimable(claimant.term, now),
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    )
    if settled_before is not None:  # as in due_deliveries
        chosen = chosen.where(col(Delivery.created_at) <= settled_before)
    ids = list(
        session.connection()
        .execute(
            update(Delivery)
            .where(col(Delivery.id).in_(chosen.scalar_subquery()))
            .values(claim_term=claimant.term, claimed_until=now + timedelta(seconds=claim_seconds))
            .returning(col(Delivery.id))
        )
        .scalars()
    )
    if not ids:
        return []
    rows = session.exec(
        select(Delivery, Chat.type, Chat.language, Event.source_count)
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .where(col(Delivery.id).in_(ids))
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .execution_options(populate_existing=True)
    ).all()
    return _due_records(session, rows)


def next_due_at(session: Session, /, *, term: int | None = None) -> datetime | None:
    """When the earliest pending delivery of an active chat becomes due.

    With ``term``, a row that term holds a live claim on counts from its claim's end.
    """
    due_at: Any = col(Delivery.next_attempt_at)
    if term is not None:
        held = and_(
            col(Delivery.claim_term).is_not(None),
            col(Delivery.claim_term) >= term,
            col(Delivery.claimed_until) > col(Delivery.next_attempt_at),
        )
        due_at = case((held, col(Delivery.claimed_until)), else_=col(Delivery.next_attempt_at))
    value = session.exec(
        select(func.min(due_at))
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .where(Delivery.status == PENDING, col(Chat.active))
    ).one()
    # SQLite hands back the CASE's text untyped
    due: datetime | None = datetime.fromisoformat(value) if isinstance(value, str) else value
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return due


def mark_sent(session: Session, /, *, delivery_id: int, message_id: int, source_count: int) -> None:
    """Telegram accepted the message: remember its id (for edits) and never send it again.

    One UPDATE and nothing else: this commit closes the duplicate window (bot/delivery.py).
    """
    session.connection().execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(
            status=SENT,
            message_id=message_id,
            sent_source_count=source_count,
            attempts=col(Delivery.attempts) + 1,
            last_error=None,
            sent_at=utcnow(),
            claim_term=None,
            claimed_until=None,
        )
    )


def mark_retry(
    session: Session,
    /,
    *,
    delivery_id: int,
    next_attempt_at: datetime,
    error: str,
    count_attempt: bool = True,
) -> int:
    """Keep the delivery pending until ``next_attempt_at``; returns the attempts so far.

    A flood wait (429) is not the message's fault, so it does not count as an attempt.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return 0
    delivery.next_attempt_at = next_attempt_at
    delivery.last_error = error[:1000]
    delivery.claim_term = delivery.claimed_until = None
    if count_attempt:
        delivery.attempts += 1
    return delivery.attempts


def mark_failed(session: Session, /, *, delivery_id: int, error: str) -> None:
    """Give up on one delivery (Telegram refused this message); it is never retried."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        return
    delivery.status = FAILED
    delivery.attempts += 1
    delivery.last_error = error[:1000]
    delivery.claim_term = delivery.claimed_until = None


def drop_chat(session: Session, /, *, chat_id: int, reason: str) -> int:
    """The chat is gone (blocked, kicked, deleted): deactivate it and fail what it was owed.

    Returns how many waiting deliveries were dropped.
    """
    chats.deactivate_chat(session, chat_id=chat_id, reason=reason)
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.chat_id) == chat_id, col(Delivery.status).in_(WAITING))
        .values(status=FAILED, last_error=f"chat deactivated: {reason}"[:1000])
    )
    session.flush()
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def move_chat(session: Session, /, *, old_id: int, new_id: int) -> None:
    """A group became a supergroup: move the chat, its subscriptions and waiting deliveries.

    The old row stays, deactivated, with the deliveries already sent there (their messages
    live in the old chat). If the new chat is already known (someone used the bot there),
    its own settings win and only what it lacks is moved.
    """
    old = session.get(Chat, old_id)
    if old is None:
        return
    if session.get(Chat, new_id) is None:
        session.add(
            Chat(
                id=new_id,
                type="supergroup",
                title=old.title,
                username=old.username,
                language=old.language,
                mode=old.mode,
                digest_hour=old.digest_hour,
                timezone=old.timezone,
                event_types=old.event_types,
                filter_words=old.filter_words,
            )
        )
        session.flush()
        chats.set_countries(
            session,
            chat_id=new_id,
            countries=chats.subscribed_countries(session, chat_id=old_id),
        )
    already = select(Delivery.event_id).where(Delivery.chat_id == new_id)
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.chat_id) == old_id,
            col(Delivery.status).in_(WAITING),
            col(Delivery.event_id).not_in(already.scalar_subquery()),
        )
        .values(chat_id=new_id, next_attempt_at=utcnow())
    )
    drop_chat(session, chat_id=old_id, reason=f"migrated to {new_id}")


def deliveries_to_edit(session: Session, /, *, limit: int) -> list[SentDelivery]:
    """Sent alerts whose event has more sources than the message shows (active chats)."""
    rows = session.exec(
        select(Delivery, Chat.language, Event.source_count)
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .where(
            Delivery.status == SENT,
            col(Delivery.message_id).is_not(None),
            col(Delivery.sent_source_count) < col(Event.source_count),
            col(Chat.active),
        )
        .order_by(col(Delivery.id))
        .limit(limit)
    ).all()
    return [
        SentDelivery(
            id=delivery.id or 0,
            event_id=delivery.event_id,
            chat_id=delivery.chat_id,
            language=language,
            message_id=delivery.message_id or 0,
            source_count=source_count,
        )
        for delivery, language, source_count in rows
    ]


def mark_edited(session: Session, /, *, delivery_id: int, source_count: int) -> None:
    """The sent message now shows ``source_count`` sources (or can never be edited again)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is not None:
        delivery.sent_source_count = max(delivery.sent_source_count, source_count)


def digest_deliveries(session: Session, /, *, chat_id: int, before: datetime) -> list[int]:
    """The event ids waiting for this chat's digest, queued before ``before``, in order."""
    rows = session.exec(
        select(Delivery.event_id)
        .where(
            Delivery.chat_id == chat_id,
            Delivery.status == DIGEST,
            col(Delivery.created_at) < before,
        )
        .order_by(col(Delivery.id))
    ).all()
    return list(rows)


def chats_with_digest(session: Session, /) -> list[chats.ChatInfo]:
    """Active chats in digest mode that have events waiting for their digest."""
    waiting = exists().where(col(Delivery.chat_id) == col(Chat.id), col(Delivery.status) == DIGEST)
    ids = session.exec(select(Chat.id).where(col(Chat.active), Chat.mode == "digest", waiting))
    found = [chats.get_chat(session, chat_id=chat_id) for chat_id in ids.all()]
    return [info for info in found if info is not None]


def mark_digested(
    session: Session,
    /,
    *,
    chat_id: int,
    event_ids: list[int],
    message_id: int,
    from_status: str = DIGEST,
) -> None:
    """The digest with these events went out as ``message_id`` (its first part).

    ``from_status``: ``pending`` for a burst sent as one message (see ``pending_bursts``).
    """
    session.execute(
        update(Delivery)
        .where(
            and_(
                col(Delivery.chat_id) == chat_id,
                col(Delivery.event_id).in_(event_ids),
                col(Delivery.status) == from_status,
            )
        )
        .values(status=DIGESTED, message_id=message_id, sent_at=utcnow(), attempts=1)
    )


def delivery_stats(session: Session, /) -> DeliveryStats:
    counts = dict(
        session.exec(select(Delivery.status, func.count()).group_by(col(Delivery.status))).all()
    )
    return DeliveryStats(
        sent=counts.get(SENT, 0) + counts.get(DIGESTED, 0),
        pending=counts.get(PENDING, 0),
        failed=counts.get(FAILED, 0),
        digest=counts.get(DIGEST, 0),
    )


@dataclass(frozen=True, slots=True)
class Burst:
    """Several alerts waiting for one instant chat at once, oldest event first."""

    chat_id: int
    language: str
    event_ids: tuple[int, ...]
    delivery_ids: tuple[int, ...] = ()
    attempts: int = 0  # the most any of its rows has had


def pending_bursts(
    session: Session,
    /,
    *,
    min_count: int,
    settled_before: datetime | None = None,
    now: datetime | None = None,
) -> list[Burst]:
    """Active chats with at least ``min_count`` pending alerts (a first run, a new feed, a
    restart after an outage), each with its events in date order (undated last).

    ``settled_before``: only chats whose last alert was queued before then (the burst is
    complete). ``now``: only rows due by then (not those backing off after a failure)."""
    due = col(Delivery.status) == PENDING
    if now is not None:
        due = and_(due, col(Delivery.next_attempt_at) <= now)
    crowded = (
        select(Delivery.chat_id)
        .where(due)
        .group_by(col(Delivery.chat_id))
        .having(func.count() >= min_count)
    )
    if settled_before is not None:
        crowded = crowded.having(func.max(Delivery.created_at) <= settled_before)
    rows = session.exec(
        select(Delivery, Chat.language, col(Event.event_date))
        .join(Chat, col(Chat.id) == col(Delivery.chat_id))
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .where(due, col(Chat.active), col(Delivery.chat_id).in_(crowded))
    ).all()
    grouped: dict[int, tuple[str, list[tuple[date, Delivery]]]] = {}
    for delivery, language, event_date in rows:
        entry = (event_date or date.max, delivery)
        grouped.setdefault(delivery.chat_id, (language, []))[1].append(entry)
    bursts = []
    for chat_id, (language, entries) in sorted(grouped.items()):
        entries.sort(key=lambda entry: (entry[0], entry[1].event_id))
        bursts.append(
            Burst(
                chat_id,
                language,
                tuple(d.event_id for _, d in entries),
                tuple(d.id or 0 for _, d in entries),
                max(d.attempts for _, d in entries),
            )
        )
    return bursts


def postpone(
    session: Session, /, *, delivery_ids: Sequence[int], until: datetime, error: str
) -> None:
    """A burst's digest was not sent: its rows wait (one more attempt each) until ``until``."""
    session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(delivery_ids), col(Delivery.status) == PENDING)
        .values(next_attempt_at=until, last_error=error[:1000], attempts=Delivery.attempts + 1)
    )


def order_by_event_date(session: Session, /, *, chat_id: int) -> None:
    """Give a chat's pending alerts their send times in event-date order (the times stay the
    same set, so the pacing is kept): a few alerts arriving at once read in date order."""
    rows = session.exec(
        select(Delivery, col(Event.event_date))
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .where(Delivery.chat_id == chat_id, Delivery.status == PENDING)
    ).all()
    times = sorted(delivery.next_attempt_at for delivery, _ in rows)
    by_date = sorted(rows, key=lambda row: (row[1] or date.max, row[0].event_id))
    for (delivery, _), when in zip(by_date, times, strict=True):
        delivery.next_attempt_at = when


def count_queued(session: Session, /, *, event_ids: list[int], since: datetime) -> int:
    """Outbox rows of these events queued at or after ``since`` (what one poll queued)."""
    if not event_ids:
        return 0
    count: int = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(col(Delivery.event_id).in_(event_ids), col(Delivery.created_at) >= since)
    ).one()
    return count
