"""Chats and their subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from storage.models import Chat, Subscription
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
    )


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
