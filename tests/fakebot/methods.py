"""The Bot API methods coopwatch uses, answering as Telegram answers.

Each method takes the decoded parameters and returns the `result` of a successful answer or
raises ApiError. They run with FakeTelegram's lock held; getUpdates waits on the condition,
which releases the lock while it waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.fakebot.html import utf16_len
from tests.fakebot.limits import FloodControl, Throttle
from tests.fakebot.state import (
    AnsweredCallback,
    ApiError,
    ChatInfo,
    FakeState,
    JSONDict,
    StoredMessage,
    Upload,
    UserInfo,
    bad_request,
    png_size,
)
from tests.fakebot.validate import (
    CHAT_ACTIONS,
    check_commands,
    check_reply_markup,
    command_scope_key,
    format_text,
    int_param,
    text_param,
)

MAX_LONG_POLL = 50.0
MAX_CAPTION = 1024  # characters of a media caption after entity parsing
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_ADMIN_RIGHTS: JSONDict = dict.fromkeys(
    (
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_post_messages",
        "can_edit_messages",
        "can_pin_messages",
    ),
    True,
) | {"can_be_edited": False, "is_anonymous": False, "can_promote_members": False}

Method = Callable[[JSONDict], Any]


def _seconds(value: Any) -> float:
    """getUpdates' timeout: PTB sends whole seconds, other clients may send a fraction."""
    if value is None:
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request('field "timeout" must be a valid Number') from None


class BotApi:
    """Method name (case-insensitive, as Telegram) -> implementation over a FakeState."""

    def __init__(self, state: FakeState, flood: FloodControl, changed: threading.Condition):
        self.state = state
        self.flood = flood
        self.changed = changed
        self.throttled: list[Throttle] = []
        methods: dict[str, Method] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action,
            "sendDocument": self.send_document,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "leaveChat": self.leave_chat,
            "close": lambda params: True,
            "logOut": lambda params: True,
        }
        self._methods = {name.lower(): method for name, method in methods.items()}

    def dispatch(self, method: str, params: JSONDict) -> Any:
        implementation = self._methods.get(method.lower())
        if implementation is None:
            raise ApiError(404, "Not Found")
        return implementation(params)

    # -- bot and updates -------------------------------------------------------------------

    def get_me(self, params: JSONDict) -> JSONDict:
        return self.state.bot.to_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def get_updates(self, params: JSONDict) -> list[JSONDict]:
        state = self.state
        if state.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_param(params, "offset", 0) or 0
        limit = min(max(int_param(params, "limit", 100) or 100, 1), 100)
        timeout = min(max(_seconds(params.get("timeout")), 0.0), MAX_LONG_POLL)
        self._set_allowed_updates(params.get("allowed_updates"))
        # Like Telegram: a newer getUpdates ends the one in progress (two bot instances
        # polling with one token fight like this).
        state.poll_generation += 1
        generation = state.poll_generation
        self.changed.notify_all()
        state.confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            if state.poll_generation != generation:
                state.conflicts += 1
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = state.deliverable(limit)
            remaining = deadline - time.monotonic()
            if batch or state.stopping or remaining <= 0:
                return batch
            # Long polling: answer as soon as an update is queued, not at the deadline.
            self.changed.wait(remaining)

    def _set_allowed_updates(self, allowed: Any) -> None:
        # Not specified: Telegram keeps the previous setting.
        if isinstance(allowed, list):
            self.state.allowed_updates = frozenset(str(kind) for kind in allowed)

    def set_webhook(self, params: JSONDict) -> bool:
        url = text_param(params, "url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.state.webhook_url = url
        self._set_allowed_updates(params.get("allowed_updates"))
        if params.get("drop_pending_updates") is True:
            self.state.updates.clear()
        return True

    def delete_webhook(self, params: JSONDict) -> bool:
        self.state.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self.state.updates.clear()
        return True

    def get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.state.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        if self.state.allowed_updates:
            info["allowed_updates"] = sorted(self.state.allowed_updates)
        return info

    # -- commands --------------------------------------------------------------------------

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        language = text_param(params, "language_code") or ""
        if language and not (len(language) == 2 and language.isalpha()):
            raise bad_request("invalid language code specified")
        return command_scope_key(params.get("scope"), self.state), language

    def set_my_commands(self, params: JSONDict) -> bool:
        key = self._commands_key(params)
        commands = check_commands(params.get("commands"))
        if commands:
            self.state.commands[key] = commands
        else:
            self.state.commands.pop(key, None)
        return True

    def get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        commands = self.state.commands.get(self._commands_key(params), [])
        return [{"command": name, "description": text} for name, text in commands]

    def delete_my_commands(self, params: JSONDict) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    # -- messages --------------------------------------------------------------------------

    def _throttle(self, method: str, chat: ChatInfo) -> None:
        throttle = self.flood.check(method, chat.id, chat.type == "private")
        if throttle is not None:
            self.throttled.append(throttle)
            raise ApiError(
                429,
                f"Too Many Requests: retry after {throttle.retry_after}",
                {"retry_after": throttle.retry_after},
            )

    def send_message(self, params: JSONDict) -> JSONDict:
        chat = self.state.writable_chat(params.get("chat_id"))
        self._throttle("sendMessage", chat)
        raw_text, parse_mode = text_param(params, "text"), text_param(params, "parse_mode")
        formatted = format_text(raw_text, parse_mode)
        markup = check_reply_markup(params.get("reply_markup"))
        self._check_reply_target(chat, params)
        message = StoredMessage(
            chat_id=chat.id,
            message_id=self.state.next_message_id(chat.id),
            text=formatted.text,
            entities=formatted.entities,
            date=int(time.time()),
            sender_id=self.state.bot.id,
            from_bot=True,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return self.state.message_json(self.state.store(message))

    def send_photo(self, params: JSONDict) -> JSONDict:
        """An uploaded PNG with an optional caption (at most 1024 characters, as Telegram)."""
        chat = self.state.writable_chat(params.get("chat_id"))
        self._throttle("sendPhoto", chat)
        photo = params.get("photo")
        if not isinstance(photo, Upload):
            raise bad_request("the fake accepts uploaded photos only")
        if png_size(photo.content) == (0, 0):
            raise bad_request("IMAGE_PROCESS_FAILED")
        raw_caption, parse_mode = text_param(params, "caption"), text_param(params, "parse_mode")
        caption = format_text(raw_caption, parse_mode) if raw_caption else None
        if caption is not None and utf16_len(caption.text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        markup = check_reply_markup(params.get("reply_markup"))
        message = StoredMessage(
            chat_id=chat.id,
            message_id=self.state.next_message_id(chat.id),
            text=caption.text if caption else "",
            entities=caption.entities if caption else (),
            date=int(time.time()),
            sender_id=self.state.bot.id,
            from_bot=True,
            raw_text=raw_caption,
            parse_mode=parse_mode,
            reply_markup=markup,
            photo=photo,
        )
        return self.state.message_json(self.state.store(message))

    def _check_reply_target(self, chat: ChatInfo, params: JSONDict) -> None:
        """A reply to a message that is gone fails unless the bot allowed sending anyway."""
        target = params.get("reply_parameters")
        if not isinstance(target, dict):
            target = {"message_id": params.get("reply_to_message_id")}
        message_id = target.get("message_id")
        if message_id is None or target.get("chat_id") not in (None, chat.id):
            return
        lenient = target.get("allow_sending_without_reply") or params.get(
            "allow_sending_without_reply"
        )
        if self.state.find_message(chat.id, message_id) is None and lenient is not True:
            raise bad_request("message to be replied not found")

    def _own_message(self, method: str, params: JSONDict, missing: str) -> StoredMessage:
        if params.get("inline_message_id") is not None:
            raise bad_request("inline messages are not supported by the fake")
        chat = self.state.writable_chat(params.get("chat_id"))
        self._throttle(method, chat)
        message = self.state.find_message(chat.id, int_param(params, "message_id"))
        if message is None:
            raise bad_request(missing)
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(self, old: StoredMessage, new: StoredMessage) -> JSONDict:
        # Telegram compares what the user would see, so equal HTML spelled differently
        # (<b> vs <strong>) is still "not modified".
        same = (old.text, old.entities, old.reply_markup) == (
            new.text,
            new.entities,
            new.reply_markup,
        )
        if same:
            raise bad_request(NOT_MODIFIED)
        return self.state.message_json(self.state.store(replace(new, edit_date=int(time.time()))))

    def edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._own_message("editMessageText", params, "message to edit not found")
        raw_text, parse_mode = text_param(params, "text"), text_param(params, "parse_mode")
        formatted = format_text(raw_text, parse_mode)
        # No reply_markup in an edit removes the inline keyboard, as on the real server.
        markup = check_reply_markup(params.get("reply_markup"))
        edited = replace(
            message,
            text=formatted.text,
            entities=formatted.entities,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return self._apply_edit(message, edited)

    def edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        message = self._own_message("editMessageReplyMarkup", params, "message to edit not found")
        markup = check_reply_markup(params.get("reply_markup"))
        return self._apply_edit(message, replace(message, reply_markup=markup))

    def delete_message(self, params: JSONDict) -> bool:
        chat = self.state.writable_chat(params.get("chat_id"))
        message = self.state.find_message(chat.id, int_param(params, "message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        self.state.store(replace(message, deleted=True))
        return True

    def answer_callback_query(self, params: JSONDict) -> bool:
        query_id = text_param(params, "callback_query_id") or ""
        pending = self.state.callbacks.get(query_id)
        if pending is None or pending[2]:
            raise bad_request(QUERY_INVALID)
        # Limited per chat the button was pressed in, when a test puts the method in its
        # RateLimits (Telegram does not document a limit for it).
        self._throttle("answerCallbackQuery", self.state.add_chat(pending[0]))
        text = text_param(params, "text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.state.callbacks[query_id] = (pending[0], pending[1], True)
        answer = AnsweredCallback(
            query_id=query_id,
            text=text,
            show_alert=params.get("show_alert") is True,
            url=text_param(params, "url"),
            cache_time=int_param(params, "cache_time", 0) or 0,
        )
        self.state.answered.append(answer)
        return True

    def send_chat_action(self, params: JSONDict) -> bool:
        chat = self.state.writable_chat(params.get("chat_id"))
        self._throttle("sendChatAction", chat)
        action = text_param(params, "action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.state.chat_actions.append((chat.id, action))
        return True

    def send_document(self, params: JSONDict) -> JSONDict:
        """An uploaded file with an optional caption; the file stays in ``calls``' params."""
        from tests.fakebot.state import Upload  # beside sendPhoto's use of it

        chat = self.state.writable_chat(params.get("chat_id"))
        self._throttle("sendDocument", chat)
        document = params.get("document")
        if not isinstance(document, Upload) or not document.content:
            raise bad_request("the fake accepts uploaded, non-empty documents only")
        raw_caption, parse_mode = text_param(params, "caption"), text_param(params, "parse_mode")
        caption = format_text(raw_caption, parse_mode) if raw_caption else None
        if caption is not None and len(caption.text) > 1024:
            raise bad_request("message caption is too long")
        message = StoredMessage(
            chat_id=chat.id,
            message_id=self.state.next_message_id(chat.id),
            text=caption.text if caption else "",
            entities=caption.entities if caption else (),
            date=int(time.time()),
            sender_id=self.state.bot.id,
            from_bot=True,
            raw_text=raw_caption,
            parse_mode=parse_mode,
        )
        return self.state.message_json(self.state.store(message))

    # -- chats -----------------------------------------------------------------------------

    def get_chat(self, params: JSONDict) -> JSONDict:
        return self.state.resolve_chat(params.get("chat_id")).full_json()

    def _member_json(self, chat: ChatInfo, user: UserInfo) -> JSONDict:
        if user.id == self.state.bot.id and chat.status in ("kicked", "left"):
            status: dict[str, JSONDict] = {
                "kicked": {"status": "kicked", "until_date": 0},
                "left": {"status": "left"},
            }
            return status[chat.status] | {"user": user.to_json()}
        if chat.type != "private" and user.id == chat.creator_id:
            return {"status": "creator", "user": user.to_json(), "is_anonymous": False}
        if chat.type != "private" and user.id in chat.admins:
            return {"status": "administrator", "user": user.to_json()} | _ADMIN_RIGHTS
        return {"status": "member", "user": user.to_json()}

    def get_chat_member(self, params: JSONDict) -> JSONDict:
        chat = self.state.resolve_chat(params.get("chat_id"))
        user_id = int_param(params, "user_id")
        if user_id is None:
            raise bad_request("user not found")
        if chat.type == "private" and user_id not in (chat.id, self.state.bot.id):
            raise bad_request("user not found")
        return self._member_json(chat, self.state.user(user_id))

    def get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        chat = self.state.resolve_chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        ids = ([chat.creator_id] if chat.creator_id is not None else []) + [
            admin for admin in chat.admins if admin != chat.creator_id
        ]
        return [self._member_json(chat, self.state.user(user_id)) for user_id in ids]

    def leave_chat(self, params: JSONDict) -> bool:
        chat = self.state.writable_chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        chat.status = "left"
        return True
