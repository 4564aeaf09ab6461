"""The test's side of the fake: play the users, shape the chats, read what the bot did.

Plain Python and thread-safe (one lock shared with the server threads); the waits are async
and poll with asyncio.sleep so they never block the event loop the bot runs on.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from tests.fakebot.html import Entity, utf16_len
from tests.fakebot.state import (
    AnsweredCallback,
    ApiRequest,
    ChatInfo,
    FakeState,
    JSONDict,
    StoredMessage,
    UserInfo,
    infer_chat_type,
)

DEFAULT_GROUP_USER_ID = 424242  # who speaks in a group when the test does not say
# The service accounts Telegram puts in "from" when a message is sent on behalf of a chat.
ANONYMOUS_ADMIN = UserInfo(1087968824, "Group", "GroupAnonymousBot", is_bot=True)
CHANNEL_BOT = UserInfo(136817688, "Channel", "Channel_Bot", is_bot=True)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")
T = TypeVar("T")


async def wait_until(
    probe: Callable[[], T | None], timeout: float, describe: Callable[[], str]
) -> T:
    """Poll `probe` every 10 ms until it returns something, else fail with describe()."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s: {describe()}")
        await asyncio.sleep(0.01)


class ControlApi:
    """Control methods of FakeTelegram; every one takes the shared lock."""

    def __init__(self, state: FakeState, changed: threading.Condition) -> None:
        self.state = state
        self.changed = changed

    # -- identity --------------------------------------------------------------------------

    @property
    def bot_id(self) -> int:
        return self.state.bot.id

    @property
    def bot_username(self) -> str:
        return self.state.bot.username or ""

    # -- chats -----------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> None:
        """Make a chat known: a channel ("@name" = username), group, supergroup or private."""
        with self.changed:
            self.state.add_chat(
                chat_id,
                chat_type,
                title=title,
                username=username.lstrip("@") if username else None,
                first_name=first_name,
            )

    def _set_status(self, chat_id: int, status: str) -> ChatInfo:
        with self.changed:
            chat = self.state.add_chat(chat_id)
            chat.status = status
            return chat

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sends answer 403 "bot was blocked by the user"."""
        self._set_status(chat_id, "blocked")

    def unblock_chat(self, chat_id: int) -> None:
        self._set_status(chat_id, "member")

    def deactivate_user(self, chat_id: int) -> None:
        """The user deleted the account: 403 "user is deactivated"."""
        self._set_status(chat_id, "deactivated")

    def kick_bot(self, chat_id: int) -> None:
        """The bot was removed from a group or channel: 403 "bot was kicked from the … chat"."""
        self._set_status(chat_id, "kicked")

    def delete_chat(self, chat_id: int) -> None:
        """The chat no longer exists: 400 "chat not found"."""
        self._set_status(chat_id, "deleted")

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: sends to the old id answer 400 with migrate_to_chat_id."""
        with self.changed:
            old = self.state.add_chat(old_chat_id, "group")
            new = self.state.add_chat(new_chat_id, "supergroup", title=old.title)
            new.admins, new.creator_id = old.admins, old.creator_id
            old.migrated_to = new_chat_id

    def set_chat_admins(
        self, chat_id: int, user_ids: Iterable[int], *, creator_id: int | None = None
    ) -> None:
        """Who getChatMember/getChatAdministrators report as administrators (and creator)."""
        with self.changed:
            chat = self.state.add_chat(chat_id)
            chat.admins = tuple(user_ids)
            chat.creator_id = creator_id

    # -- users talking to the bot ----------------------------------------------------------

    def send_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str = "Tester",
        last_name: str | None = None,
        title: str | None = None,
    ) -> int:
        """Queue a message from a user (a channel post in a channel); returns its update_id.

        A leading "/command" or "/command@bot" gets a bot_command entity, as Telegram sends it.
        """
        with self.changed:
            kind = chat_type or infer_chat_type(chat_id)
            sender = self._sender(chat_id, kind, user_id)
            user = UserInfo(sender, first_name, username, last_name, language_code)
            self.state.users[sender] = user
            names = {"first_name": first_name, "username": username, "last_name": last_name}
            chat = self.state.add_chat(
                chat_id, kind, title=title, **(names if kind == "private" else {})
            )
            if chat.status == "blocked":
                chat.status = "member"  # writing to the bot again means unblocking it
            message = StoredMessage(
                chat_id=chat_id,
                message_id=self.state.next_message_id(chat_id),
                text=text,
                entities=_command_entities(text),
                date=int(time.time()),
                sender_id=sender,
                from_bot=False,
            )
            self.state.store(message)
            update_kind = "channel_post" if kind == "channel" else "message"
            update_id = self.state.push_update(update_kind, self.state.message_json(message))
            self.changed.notify_all()
            return update_id

    def send_message_as_chat(
        self, chat_id: int, text: str, *, sender_chat_id: int | None = None
    ) -> int:
        """Queue a group message sent on behalf of a chat; returns its update_id.

        As Telegram sends it: by an anonymous administrator (no `sender_chat_id`: the group
        itself is the sender, "from" is GroupAnonymousBot) or on behalf of a channel
        (`sender_chat_id` of that channel, "from" is Channel_Bot) — the same "from" in every
        group.
        """
        with self.changed:
            chat = self.state.add_chat(chat_id)
            sender_chat = sender_chat_id if sender_chat_id is not None else chat_id
            self.state.add_chat(sender_chat, "channel" if sender_chat != chat_id else None)
            service = ANONYMOUS_ADMIN if sender_chat == chat_id else CHANNEL_BOT
            self.state.users[service.id] = service
            message = StoredMessage(
                chat_id=chat.id,
                message_id=self.state.next_message_id(chat_id),
                text=text,
                entities=_command_entities(text),
                date=int(time.time()),
                sender_id=service.id,
                from_bot=False,
                sender_chat_id=sender_chat,
            )
            self.state.store(message)
            update_id = self.state.push_update("message", self.state.message_json(message))
            self.changed.notify_all()
            return update_id

    @staticmethod
    def _sender(chat_id: int, kind: str, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        return chat_id if kind == "private" else DEFAULT_GROUP_USER_ID

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str | None = None,
        *,
        text: str | None = None,
        user_id: int | None = None,
    ) -> str:
        """Press an inline button of a bot message (by callback data or button text).

        Only buttons the message really shows can be pressed (LookupError otherwise), so a
        test cannot press what a user could not. Returns the callback query id.
        """
        if data is None and text is None:
            raise ValueError("say which button: its callback data or its text")
        with self.changed:
            message = self.state.find_message(chat_id, message_id)
            if message is None:
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            button = message.find_button(text=text, data=data)
            if button.callback_data is None:
                raise LookupError(f"button {button.text!r} opens a URL; it has no callback data")
            chat = self.state.chats[chat_id]
            sender = self._sender(chat_id, chat.type, user_id)
            query_id = self.state.new_query_id()
            self.state.callbacks[query_id] = (chat_id, message_id, False)
            payload = {
                "id": query_id,
                "from": self.state.user(sender).to_json(),
                "message": self.state.message_json(message),
                "chat_instance": str(abs(hash((chat_id, self.bot_id)))),
                "data": button.callback_data,
            }
            self.state.push_update("callback_query", payload)
            self.changed.notify_all()
            return query_id

    def inject_update(self, kind: str, payload: JSONDict) -> int:
        """Queue any other update (e.g. "my_chat_member") as Telegram would send it."""
        with self.changed:
            update_id = self.state.push_update(kind, payload)
            self.changed.notify_all()
            return update_id

    # -- what the bot did ------------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        """What the bot sent to the chat, in order, with edits applied."""
        with self.changed:
            stored = self.state.history.get(chat_id, {})
            return [
                message
                for _, message in sorted(stored.items())
                if message.from_bot and (include_deleted or not message.deleted)
            ]

    def messages_by_chat(self) -> dict[int, list[StoredMessage]]:
        with self.changed:
            chat_ids = list(self.state.history)
        found = {chat_id: self.messages(chat_id) for chat_id in chat_ids}
        return {chat_id: messages for chat_id, messages in found.items() if messages}

    def last_message(self, chat_id: int) -> StoredMessage:
        messages = self.messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    @property
    def requests(self) -> list[ApiRequest]:
        """Every call the bot made, in order (method as sent, decoded parameters)."""
        with self.changed:
            return list(self.state.requests)

    def calls(self, method: str) -> list[ApiRequest]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        with self.changed:
            return list(self.state.answered)

    @property
    def commands(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """What setMyCommands published: (scope, language_code or "") -> [(command, text)].

        Scopes read "default", "all_private_chats", "chat:ID", "chat_member:CHAT:USER"…
        """
        with self.changed:
            return {key: list(value) for key, value in self.state.commands.items()}

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[str]:
        return [name for name, _ in self.commands.get((scope, language_code), [])]

    def chat_actions(self, chat_id: int) -> list[str]:
        with self.changed:
            return [action for chat, action in self.state.chat_actions if chat == chat_id]

    @property
    def conflicts(self) -> int:
        """getUpdates calls ended with 409 because a newer one arrived (two pollers)."""
        with self.changed:
            return self.state.conflicts

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        with self.changed:
            return len(self.state.updates)

    # -- waiting for the bot ---------------------------------------------------------------

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[StoredMessage]:
        """Once the bot has sent at least `count` messages to the chat: all of them."""

        def probe() -> list[StoredMessage] | None:
            messages = self.messages(chat_id)
            return messages if len(messages) >= count else None

        def describe() -> str:
            seen = [m.text[:80] for m in self.messages(chat_id)]
            return f"wanted {count} message(s) in chat {chat_id}, got {len(seen)}: {seen}"

        return await wait_until(probe, timeout, describe)

    async def wait_for_requests(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[ApiRequest]:
        """Once the bot has called `method` at least `count` times: those calls."""

        def probe() -> list[ApiRequest] | None:
            calls = self.calls(method)
            return calls if len(calls) >= count else None

        def describe() -> str:
            return f"wanted {count} {method} call(s); calls: {[r.method for r in self.requests]}"

        return await wait_until(probe, timeout, describe)

    async def wait_for_callback_answer(
        self, query_id: str, timeout: float = 5.0
    ) -> AnsweredCallback:
        def probe() -> AnsweredCallback | None:
            return next((a for a in self.answered_callbacks if a.query_id == query_id), None)

        return await wait_until(probe, timeout, lambda: f"callback {query_id} never answered")


def _command_entities(text: str) -> tuple[Entity, ...]:
    match = _COMMAND_RE.match(text)
    if match is None:
        return ()
    return (Entity("bot_command", 0, utf16_len(match.group())),)
