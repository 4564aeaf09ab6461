"""Checks on Bot API parameters, with the real server's error texts.

Error texts follow Telegram's ("Bad Request: …") so the bot's error handling meets the same
strings in tests as in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tests.fakebot.html import (
    EntityParseError,
    FormattedText,
    is_valid_url,
    parse_html,
    strip_text,
    utf16_len,
)
from tests.fakebot.state import FakeState, JSONDict, bad_request

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_INT_KEYS = frozenset(
    {"chat_id", "message_id", "user_id", "offset", "limit", "timeout", "cache_time"}
    | {"message_thread_id", "reply_to_message_id", "max_connections", "from_chat_id"}
)
_JSON_KEYS = frozenset(
    {"reply_markup", "scope", "commands", "allowed_updates", "entities"}
    | {"link_preview_options", "reply_parameters"}
)
_INT_RE = re.compile(r"-?[0-9]+")


def decode_params(raw: Mapping[str, Any]) -> JSONDict:
    """Form fields as PTB sends them (strings, complex values JSON-encoded) to Python values.

    A value that does not decode stays a string, so the method answers 400 as Telegram would.
    """
    decoded: JSONDict = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in _INT_KEYS and _INT_RE.fullmatch(value):
            decoded[key] = int(value)
        elif isinstance(value, str) and key in _JSON_KEYS:
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                decoded[key] = value
        elif isinstance(value, str) and value in ("true", "false"):
            decoded[key] = value == "true"
        else:
            decoded[key] = value
    return decoded


def int_param(params: JSONDict, key: str, default: int | None = None) -> int | None:
    value = params.get(key, default)
    if value is None or isinstance(value, int):
        return value
    raise bad_request(f'field "{key}" must be a valid Number')


def text_param(params: JSONDict, key: str) -> str | None:
    value = params.get(key)
    return None if value is None else str(value)


def format_text(text: str | None, parse_mode: str | None) -> FormattedText:
    """What the user would see: parsed, trimmed and length-checked like Telegram."""
    if not text:
        raise bad_request("message text is empty")
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            formatted = parse_html(text)
        except EntityParseError as exc:
            raise bad_request(str(exc)) from exc
    elif mode == "":
        formatted = FormattedText(text)
    else:
        # coopwatch formats in HTML only; refusing the rest keeps the fake honest and small.
        raise bad_request(f"unsupported parse_mode {parse_mode!r} (the fake speaks HTML only)")
    formatted = strip_text(formatted)
    if not formatted.text:
        raise bad_request("message text is empty")
    if utf16_len(formatted.text) > MAX_TEXT:
        raise bad_request("message is too long")
    return formatted


def check_reply_markup(markup: Any) -> JSONDict | None:
    """The reply_markup as stored, after Telegram's checks on inline buttons."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton expected")
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        if not isinstance(button["url"], str) or not is_valid_url(button["url"]):
            raise bad_request("BUTTON_URL_INVALID")
    elif not {"switch_inline_query", "switch_inline_query_current_chat", "web_app"} & set(
        button
    ) and not {"login_url", "copy_text", "pay", "callback_game"} & set(button):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )


def command_scope_key(scope: Any, state: FakeState) -> str:
    """A readable key for a BotCommandScope: "default", "chat:42", "chat_member:-5:42"…"""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return str(kind)
    if kind not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("wrong BotCommandScope type specified")
    chat = state.resolve_chat(scope.get("chat_id"))
    if kind != "chat_member":
        return f"{kind}:{chat.id}"
    user_id = scope.get("user_id")
    if not isinstance(user_id, int):
        raise bad_request("user not found")
    return f"chat_member:{chat.id}:{user_id}"


def check_commands(commands: Any) -> list[tuple[str, str]]:
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    checked: list[tuple[str, str]] = []
    for entry in commands:
        if not isinstance(entry, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = entry.get("command"), entry.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append((command, description))
    return checked
