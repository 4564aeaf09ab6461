"""What the fake Telegram server remembers: chats, messages, updates, and their JSON shapes.

Every JSON shape here is one python-telegram-bot's ``de_json`` accepts (all required fields
present), so the bot under test parses the fake's answers with the same code as the real ones.
Not thread-safe on its own: FakeTelegram guards it with one lock.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakebot.html import Entity

JSONDict = dict[str, Any]

# Update types Telegram leaves out when allowed_updates is empty or never set.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description, optional ResponseParameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: JSONDict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One call the bot made: method name as sent and its decoded parameters."""

    method: str
    params: JSONDict


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the bot uploaded in a multipart request: its name and its bytes."""

    filename: str
    content: bytes

    def __str__(self) -> str:
        return f"<file {self.filename}>"


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button, flattened for assertions."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message in a chat as Telegram keeps it; edits replace the record."""

    chat_id: int
    message_id: int
    text: str  # plain text after parsing, as the user sees it
    entities: tuple[Entity, ...]
    date: int
    sender_id: int
    from_bot: bool
    raw_text: str | None = None  # exactly what the bot sent (the HTML source)
    parse_mode: str | None = None
    reply_markup: JSONDict | None = field(default=None, compare=False)
    edit_date: int | None = None
    deleted: bool = False
    photo: Upload | None = None  # sendPhoto: the image; ``text`` is then its caption
    sender_chat_id: int | None = None  # sent on behalf of a chat (anonymous admin, channel)

    @property
    def html(self) -> str | None:
        return self.raw_text if (self.parse_mode or "").lower() == "html" else None

    @property
    def buttons(self) -> list[list[Button]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row]
            for row in rows
        ]

    def find_button(self, *, text: str | None = None, data: str | None = None) -> Button:
        for row in self.buttons:
            for button in row:
                if (text is None or button.text == text) and (
                    data is None or button.callback_data == data
                ):
                    return button
        raise LookupError(
            f"message {self.message_id} in chat {self.chat_id} has no button "
            f"text={text!r} data={data!r}; it has {self.buttons}"
        )


@dataclass(frozen=True, slots=True)
class AnsweredCallback:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(slots=True)
class ChatInfo:
    """A chat the fake knows, and the bot's standing in it."""

    id: int
    type: str  # "private", "group", "supergroup" or "channel"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    status: str = "member"  # member, blocked, kicked, left, deactivated, deleted
    migrated_to: int | None = None
    admins: tuple[int, ...] = ()
    creator_id: int | None = None

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    def full_json(self) -> JSONDict:
        """ChatFullInfo for getChat, with the fields PTB 22 requires."""
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return self.to_json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }


def infer_chat_type(chat_id: int) -> str:
    """Telegram's id ranges: users positive, basic groups negative, supergroups -100…."""
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id <= -1_000_000_000_000 else "group"


@dataclass(slots=True)
class UserInfo:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("username", "last_name", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(slots=True)
class FakeState:
    """All mutable server state; methods and the control API both go through it."""

    bot: UserInfo
    chats: dict[int, ChatInfo] = field(default_factory=dict)
    users: dict[int, UserInfo] = field(default_factory=dict)
    history: dict[int, dict[int, StoredMessage]] = field(default_factory=dict)
    last_message_id: dict[int, int] = field(default_factory=dict)
    updates: list[JSONDict] = field(default_factory=list)
    next_update_id: int = 100_000_001
    allowed_updates: frozenset[str] = frozenset()
    webhook_url: str = ""
    callbacks: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    answered: list[AnsweredCallback] = field(default_factory=list)
    commands: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)
    requests: list[ApiRequest] = field(default_factory=list)
    stopping: bool = False
    # One number per getUpdates call: a long poll that sees a newer one ends with 409.
    poll_generation: int = 0
    conflicts: int = 0  # getUpdates calls ended by a newer one
    _query_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- chats and users -------------------------------------------------------------------

    def add_chat(self, chat_id: int, chat_type: str | None = None, **names: str | None) -> ChatInfo:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = ChatInfo(chat_id, chat_type or infer_chat_type(chat_id))
        elif chat_type is not None:
            chat.type = chat_type
        for key, value in names.items():
            if value is not None:
                setattr(chat, key, value)
        if chat.type != "private" and chat.title is None:
            chat.title = f"Chat {chat_id}"
        if chat.type == "private" and chat.first_name is None:
            chat.first_name = self.user(chat_id).first_name
        return chat

    def user(self, user_id: int) -> UserInfo:
        if user_id == self.bot.id:
            return self.bot
        return self.users.get(user_id) or UserInfo(user_id, f"User {user_id}")

    def resolve_chat(self, chat_id: int | str | None) -> ChatInfo:
        """The chat for a chat_id parameter (an id or "@username"), or 400 chat not found."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat: ChatInfo | None = None
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            chat = next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
        elif isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        if chat is None or chat.status == "deleted":
            raise bad_request("chat not found")
        return chat

    def writable_chat(self, chat_id: int | str | None) -> ChatInfo:
        """The chat if the bot may post in it, else Telegram's 400/403 for why not."""
        chat = self.resolve_chat(chat_id)
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        kind = "group" if chat.type == "group" else chat.type
        forbidden = {
            "blocked": "bot was blocked by the user",
            "deactivated": "user is deactivated",
            "kicked": f"bot was kicked from the {kind} chat",
            "left": f"bot is not a member of the {kind} chat",
        }.get(chat.status)
        if forbidden is not None:
            raise ApiError(403, f"Forbidden: {forbidden}")
        return chat

    # -- messages --------------------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        self.last_message_id[chat_id] = self.last_message_id.get(chat_id, 0) + 1
        return self.last_message_id[chat_id]

    def store(self, message: StoredMessage) -> StoredMessage:
        self.history.setdefault(message.chat_id, {})[message.message_id] = message
        return message

    def find_message(self, chat_id: int, message_id: int | None) -> StoredMessage | None:
        if message_id is None:
            return None
        message = self.history.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def message_json(self, message: StoredMessage) -> JSONDict:
        chat = self.chats[message.chat_id]
        data: JSONDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.to_json(),
        }
        if message.photo is not None:
            width, height = png_size(message.photo.content)
            size = len(message.photo.content)
            data["photo"] = [
                {
                    "file_id": f"photo-{message.chat_id}-{message.message_id}",
                    "file_unique_id": f"p{message.chat_id}x{message.message_id}",
                    "width": width,
                    "height": height,
                    "file_size": size,
                }
            ]
            if message.text:
                data["caption"] = message.text
        else:
            data["text"] = message.text
        if chat.type == "channel":
            data["sender_chat"] = chat.to_json()
        else:
            data["from"] = self.user(message.sender_id).to_json()
            if message.sender_chat_id is not None:
                data["sender_chat"] = self.chats[message.sender_chat_id].to_json()
        if message.entities:
            entities_key = "caption_entities" if message.photo is not None else "entities"
            data[entities_key] = [entity.to_json() for entity in message.entities]
        # Telegram echoes only inline keyboards back; reply keyboards stay client-side.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        return data

    # -- updates ---------------------------------------------------------------------------

    def push_update(self, kind: str, payload: JSONDict) -> int:
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append({"update_id": update_id, kind: payload})
        return update_id

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: everything before it is acknowledged and forgotten."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def deliverable(self, limit: int) -> list[JSONDict]:
        allowed = self.allowed_updates
        kept = [u for u in self.updates if self._allowed(u, allowed)]
        # Telegram never delivers an update type the bot opted out of, so drop it for good.
        self.updates = kept
        return kept[:limit]

    @staticmethod
    def _allowed(update: JSONDict, allowed: frozenset[str]) -> bool:
        kind = next(key for key in update if key != "update_id")
        return kind in allowed if allowed else kind not in OPT_IN_UPDATES

    def new_query_id(self) -> str:
        return f"{next(self._query_ids)}{int(time.time() * 1000) % 1_000_000:06d}"


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (0, 0 for anything else)."""
    if not content.startswith(PNG_SIGNATURE) or content[12:16] != b"IHDR":
        return 0, 0
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
