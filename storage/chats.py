"""Chats and their subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from storage.models import Chat, Delivery, Subscription
from storage.types import utcnow


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """What the handlers need to know about a chat."""

    id: int
    type: str
    language: str
    active: bool
    countries: tuple[str, ...]  # empty: the five Central Asian states
    event_types: tuple[str, ...]
    mode: str
    digest_hour: int
    timezone: str
    filter_words: tuple[str, ...] = ()  # /filter: empty pushes every event


def _info(chat: Chat, countries: Iterable[str]) -> ChatInfo:
    return ChatInfo(
        id=chat.id,
        type=chat.type,
        language=chat.language,
        active=chat.active,
        countries=tuple(sorted(countries)),
        event_types=tuple(t for t in chat.event_types.split(",") if t),
        mode=chat.mode,
        digest_hour=chat.digest_hour,
        timezone=chat.timezone,
        filter_words=tuple((chat.filter_words or "").split()),
    )


def unsaved_chat(*, chat_id: int, chat_type: str, language: str) -> ChatInfo:
    """What a chat nobody registered yet would get (inactive: it receives no alerts)."""
    return _info(Chat(id=chat_id, type=chat_type, language=language, active=False), ())


def get_chat(*, session: Session, chat_id: int) -> ChatInfo | None:
    chat = session.get(Chat, chat_id)
    if chat is None:
        return None
    return _info(chat, subscribed_countries(session=session, chat_id=chat_id))


def register_chat(
    *,
    session: Session,
    chat_id: int,
    chat_type: str,
    language: str,
    title: str | None = None,
    username: str | None = None,
) -> tuple[ChatInfo, bool]:
    """Create the chat, or re-activate it; returns the chat and whether it was new.

    A returning chat keeps its settings: /start after /stop must not wipe a user's filters.
    """
    chat = session.get(Chat, chat_id)
    created = chat is None
    if chat is None:
        chat = Chat(id=chat_id, type=chat_type, language=language, title=title, username=username)
        session.add(chat)
    else:
        chat.active = True
        chat.deactivated_reason = None
        chat.type = chat_type
        chat.title = title or chat.title
        chat.username = username or chat.username
        chat.updated_at = utcnow()
    session.flush()
    return _info(chat, subscribed_countries(session=session, chat_id=chat_id)), created


def subscribed_countries(*, session: Session, chat_id: int) -> list[str]:
    rows = session.exec(select(Subscription.country).where(Subscription.chat_id == chat_id))
    return list(rows)


def set_countries(*, session: Session, chat_id: int, countries: Iterable[str]) -> None:
    """Replace the chat's countries (an empty set means the five Central Asian states)."""
    session.exec(delete(Subscription).where(col(Subscription.chat_id) == chat_id))
    for code in sorted(set(countries)):
        session.add(Subscription(chat_id=chat_id, country=code))
    session.flush()


def set_language(*, session: Session, chat_id: int, language: str) -> None:
    chat = session.get(Chat, chat_id)
    if chat is not None:
        chat.language = language
        chat.updated_at = utcnow()


def deactivate_chat(*, session: Session, chat_id: int, reason: str) -> None:
    chat = session.get(Chat, chat_id)
    if chat is not None:
        chat.active = False
        chat.deactivated_reason = reason
        chat.updated_at = utcnow()


def count_active_chats(*, session: Session) -> int:
    return len(session.exec(select(Chat.id).where(col(Chat.active))).all())


# -- preferences (handlers/subscriptions.py) ------------------------------------------------


def _touch(session: Session, chat_id: int) -> Chat | None:
    chat = session.get(Chat, chat_id)
    if chat is not None:
        chat.updated_at = utcnow()
    return chat


def add_countries(
    *, session: Session, chat_id: int, countries: Iterable[str], default: Iterable[str]
) -> ChatInfo | None:
    """Follow these countries too (and follow again if the chat had unsubscribed).

    ``default`` is what an active chat without subscription rows follows (the five states,
    as /settings shows it): /subscribe adds to that, never replaces it.
    """
    chat = _touch(session, chat_id)
    if chat is None:
        return None
    # An inactive chat unsubscribed from everything: it follows nothing, so it starts again
    # from nothing, not from the rows it had before.
    current = set(subscribed_countries(session=session, chat_id=chat_id)) if chat.active else set()
    if chat.active and not current:
        current = set(default)
    chat.active, chat.deactivated_reason = True, None
    set_countries(session=session, chat_id=chat_id, countries=current | set(countries))
    return get_chat(session=session, chat_id=chat_id)


def remove_countries(
    *, session: Session, chat_id: int, countries: Iterable[str], default: Iterable[str]
) -> ChatInfo | None:
    """Stop following these countries; with none left the chat stops receiving alerts.

    ``default`` is what a chat without subscriptions follows (the five states): removing one
    of them from such a chat keeps the other four.
    """
    chat = _touch(session, chat_id)
    if chat is None:
        return None
    current = set(subscribed_countries(session=session, chat_id=chat_id)) or set(default)
    left = current - set(countries)
    if left:
        set_countries(session=session, chat_id=chat_id, countries=left)
    else:
        unsubscribe_all(session=session, chat_id=chat_id)
    return get_chat(session=session, chat_id=chat_id)


def unsubscribe_all(*, session: Session, chat_id: int) -> None:
    """No alerts any more (an empty subscription list would mean "the five states")."""
    session.exec(delete(Subscription).where(col(Subscription.chat_id) == chat_id))
    deactivate_chat(session=session, chat_id=chat_id, reason="unsubscribed")
    session.flush()


def set_event_types(*, session: Session, chat_id: int, event_types: Iterable[str]) -> None:
    chat = _touch(session, chat_id)
    if chat is not None:
        chat.event_types = ",".join(event_types)


def set_mode(*, session: Session, chat_id: int, mode: str) -> None:
    """instant or digest; waiting deliveries follow the new mode."""
    chat = _touch(session, chat_id)
    if chat is None or chat.mode == mode:
        return
    chat.mode = mode
    old, new = ("digest", "pending") if mode == "instant" else ("pending", "digest")
    rows = session.exec(
        select(Delivery).where(Delivery.chat_id == chat_id, Delivery.status == old)
    ).all()
    for delivery in rows:
        delivery.status = new
        delivery.next_attempt_at = utcnow()


def set_digest_hour(*, session: Session, chat_id: int, hour: int) -> None:
    chat = _touch(session, chat_id)
    if chat is not None:
        chat.digest_hour = hour % 24


def set_timezone(*, session: Session, chat_id: int, timezone: str) -> None:
    chat = _touch(session, chat_id)
    if chat is not None:
        chat.timezone = timezone


def set_filter(*, session: Session, chat_id: int, words: Iterable[str]) -> ChatInfo | None:
    """Set the chat's /filter words (none: clear it); None when the chat is unknown."""
    chat = session.get(Chat, chat_id)
    if chat is None:
        return None
    chat.filter_words = " ".join(words) or None
    chat.updated_at = utcnow()
    session.flush()
    return _info(chat, subscribed_countries(session=session, chat_id=chat_id))
