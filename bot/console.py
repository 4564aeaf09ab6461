"""Console mode: the real Application, with the chat in the terminal.

``ConsoleRequest`` is a transport beneath python-telegram-bot: it answers Bot API calls
locally instead of over HTTP. getUpdates returns what the person types; sendMessage and
editMessageText print the text. Everything above it — handlers, jobs, the error handler,
delivery — is exactly what runs against Telegram.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from telegram.error import BadRequest
from telegram.request import BaseRequest, RequestData

from coopwatch.polling import PollReport

CONSOLE_TOKEN = "0:console"  # PTB needs a token; the console transport never sends it anywhere
CONSOLE_LOG = "coopwatch-console.log"
CONSOLE_CHAT_ID = 1
CONSOLE_USER_ID = 1
CONSOLE_NO_CHANNELS = (
    "Chat not found: console mode has no channels; run with TELEGRAM_BOT_TOKEN to add one"
)
BOT_USER = {
    "id": 999_000_001,
    "is_bot": True,
    "first_name": "coopwatch",
    "username": "coopwatch_console_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

BANNER = """\
coopwatch — console mode
No TELEGRAM_BOT_TOKEN is set, so the bot talks to you here instead of in Telegram: the same
commands, the same feed polling and the same alerts. Type /start, then /help. A number presses
a button of the last message. Ctrl-D or Ctrl-C quits. You run this instance, so you are an
admin here: /addfeed, /feeds, /pollnow and /stats work. Commands can also come from a pipe or
a file: printf '/start\\n/latest\\n' | coopwatch run
To connect a real bot: create one with @BotFather, put TELEGRAM_BOT_TOKEN=… in .env, and run
`make run` again.
"""

_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]+)([^>]*)>")
_HREF = re.compile(r'href\s*=\s*"([^"]*)"')


def html_to_console(text: str) -> str:
    """Telegram HTML as readable terminal text: tags dropped, links shown, entities decoded."""
    out: list[str] = []
    pos = 0
    links: list[str] = []
    for match in _TAG.finditer(text):
        out.append(text[pos : match.start()])
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if name == "a" and not closing:
            found = _HREF.search(attrs)
            links.append(html.unescape(found.group(1)) if found else "")
        elif name == "a" and closing and links:
            href = links.pop()
            if href:
                out.append(f" <{href}>")
        pos = match.end()
    out.append(text[pos:])
    return html.unescape("".join(out))


def first_poll_summary(reports: Sequence[PollReport], log_file: Path) -> str:
    """One terminal line about the first poll, so failing feeds are not hidden in the log."""
    failed = [r for r in reports if r.outcome == "error"]
    new = sum(r.new_count for r in reports)
    if not failed:
        return f"· first poll: {len(reports)} feeds read, {new} new items\n"
    return (
        f"· first poll: {len(failed)} of {len(reports)} feeds could not be read "
        f"({new} new items); why: {log_file}, or run `coopwatch doctor`\n"
    )


class ConsoleRequest(BaseRequest):
    """A Bot API that lives in this process and talks to a terminal."""

    def __init__(
        self,
        *,
        input_stream: TextIO | None = None,
        output: TextIO | None = None,
        language_code: str = "en",
        on_eof: Callable[[], None] | None = None,
        photo_dir: Path | None = None,
    ) -> None:
        self._input = input_stream or sys.stdin
        # A terminal shows no images: photos (/trends charts) are saved here instead.
        self._photo_dir = photo_dir or Path.cwd()
        self._output = output or sys.stdout
        self._language_code = language_code
        self.on_eof = on_eof
        self._updates: asyncio.Queue[dict[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: threading.Thread | None = None
        self._next_update = 1
        self._next_message = 1
        self._buttons: list[
            tuple[int, str]
        ] = []  # (message id, callback data) of the last keyboard
        self._write_lock = threading.Lock()
        # Set once the input has ended and every line typed was handed to the Application.
        self._eof = False
        self._drained: asyncio.Event | None = None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        if self._updates is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._updates = asyncio.Queue()
        self._drained = asyncio.Event()
        # A daemon thread, because a blocking readline() cannot be cancelled; it dies with the
        # process on Ctrl-C.
        self._reader = threading.Thread(target=self._read_lines, name="console-input", daemon=True)
        self._reader.start()

    async def shutdown(self) -> None:
        return None

    # -- input -------------------------------------------------------------------------------

    def _read_lines(self) -> None:
        for line in self._input:
            text = line.strip()
            if text and self._loop is not None:
                self._loop.call_soon_threadsafe(self._enqueue_text, text)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._at_eof)

    def _at_eof(self) -> None:
        self._eof = True
        if self.on_eof is not None:
            self.on_eof()

    async def drained(self) -> None:
        """Return once the input has ended and every line was handed to the Application.

        Lines from a pipe or a file arrive faster than they are answered; stopping at the end
        of the input would drop the answers. PTB puts the updates of one getUpdates call into
        its queue before it makes the next call, so the first call that finds nothing left
        after the end of the input proves every line has been handed over.
        """
        assert self._drained is not None
        await self._drained.wait()

    def notice(self, text: str) -> None:
        """A line from the bot itself (not a chat message), such as a poll summary."""
        self._print(text)

    def _enqueue_text(self, text: str) -> None:
        assert self._updates is not None
        update_id = self._next_update
        self._next_update += 1
        if text.isdigit() and 1 <= int(text) <= len(self._buttons):
            message_id, data = self._buttons[int(text) - 1]
            self._updates.put_nowait(
                {
                    "update_id": update_id,
                    "callback_query": {
                        "id": str(update_id),
                        "from": self._user(),
                        "chat_instance": "console",
                        "data": data,
                        "message": self._message(message_id, "", from_bot=True),
                    },
                }
            )
            return
        message = self._message(self._next_message, text, from_bot=False)
        self._next_message += 1
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._updates.put_nowait({"update_id": update_id, "message": message})

    def _user(self) -> dict[str, Any]:
        return {
            "id": CONSOLE_USER_ID,
            "is_bot": False,
            "first_name": "Console",
            "username": "console",
            "language_code": self._language_code,
        }

    def _message(self, message_id: int, text: str, *, from_bot: bool) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": CONSOLE_CHAT_ID, "type": "private", "first_name": "Console"},
            "from": BOT_USER if from_bot else self._user(),
            "text": text,
        }

    # -- output ------------------------------------------------------------------------------

    def _print(self, text: str) -> None:
        with self._write_lock:
            self._output.write(text + "\n")
            self._output.flush()

    def _show(self, params: dict[str, Any], *, edited: bool) -> int:
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            text = html_to_console(text)
        chat = params.get("chat_id")
        prefix = "✎ (edited) " if edited else ""
        target = "" if chat in (None, CONSOLE_CHAT_ID, str(CONSOLE_CHAT_ID)) else f"[to {chat}] "
        lines = [f"{target}{prefix}{text}"]
        message_id = int(params.get("message_id") or 0)
        if not edited:
            message_id = self._next_message
            self._next_message += 1
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            self._buttons = []
            labels = []
            for row in markup["inline_keyboard"]:
                for button in row:
                    if "callback_data" in button:
                        self._buttons.append((message_id, button["callback_data"]))
                        labels.append(f"[{len(self._buttons)}] {button['text']}")
                    elif "url" in button:
                        labels.append(f"[{button['text']} <{button['url']}>]")
            lines.append("   ".join(labels))
        self._print("\n".join(lines) + "\n")
        return message_id

    # -- the Bot API -------------------------------------------------------------------------

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if api_method == "sendPhoto" and request_data is not None:
            return 200, json.dumps({"ok": True, "result": self._photo(request_data)}).encode()
        try:
            if api_method == "sendDocument" and request_data is not None:
                result = self._save_document(request_data)
            else:
                result = await self._answer(api_method, params)
        except BadRequest as exc:  # answered as the Bot API does, so PTB raises it as usual
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc.message}"}
            return 400, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _photo(self, request_data: RequestData) -> dict[str, Any]:
        """sendPhoto: save the uploaded image to a file and print its caption and path."""
        message_id = self._next_message
        self._next_message += 1
        uploaded = request_data.multipart_data.get("photo")
        saved = ""
        if uploaded is not None:
            content = uploaded[1]
            data = content if isinstance(content, bytes) else content.read()
            saved = str(_save_new(self._photo_dir, "coopwatch-photo-{}.png", data))
        caption = str(request_data.parameters.get("caption", ""))
        self._print(f"{caption}\n[image: {saved or 'not uploaded'}]\n")
        message = self._message(message_id, "", from_bot=True)
        del message["text"]
        message["caption"] = caption
        message["photo"] = [
            {"file_id": f"console-{message_id}", "file_unique_id": f"c{message_id}",
             "width": 1, "height": 1}
        ]  # fmt: skip
        return message

    async def _answer(self, api_method: str, params: dict[str, Any]) -> Any:
        if api_method == "getMe":
            return BOT_USER
        if api_method == "getUpdates":
            return await self._get_updates(float(params.get("timeout") or 0))
        if api_method == "sendMessage":
            message_id = self._show(params, edited=False)
            message = self._message(message_id, str(params.get("text", "")), from_bot=True)
            message["chat"]["id"] = params.get("chat_id", CONSOLE_CHAT_ID)
            return message
        if api_method == "editMessageText":
            self._show(params, edited=True)
            message_id = int(params.get("message_id") or 0)
            return self._message(message_id, str(params.get("text", "")), from_bot=True)
        if api_method == "getChatMember":
            return {"status": "creator", "user": self._user(), "is_anonymous": False}
        if api_method == "getChat":
            return self._get_chat(params.get("chat_id"))
        if api_method in ("getMyCommands",):
            return []
        # setMyCommands, deleteWebhook, answerCallbackQuery, sendChatAction, … : accepted.
        return True

    def _save_document(self, request_data: RequestData) -> dict[str, Any]:
        """A document (/export's CSV) is saved in the working directory; its caption printed."""
        params = request_data.parameters
        saved = []
        for filename, content, _mime in (request_data.multipart_data or {}).values():
            path = Path.cwd() / Path(str(filename)).name  # the bot names it; no directories
            path.write_bytes(content if isinstance(content, bytes) else content.read())
            saved.append(f"📎 {path} ({path.stat().st_size} bytes)")
        caption = {"text": params.get("caption", ""), "parse_mode": params.get("parse_mode")}
        message_id = self._show(caption | {"chat_id": params.get("chat_id")}, edited=False)
        self._print("\n".join(saved) + "\n")
        return self._message(message_id, str(params.get("caption", "")), from_bot=True)

    def _get_chat(self, chat_id: Any) -> dict[str, Any]:
        """The console chat itself; any other chat (a channel's @name) does not exist here."""
        if chat_id in (None, CONSOLE_CHAT_ID, str(CONSOLE_CHAT_ID)):
            # A ChatFullInfo: PTB refuses one without accent_color_id and max_reaction_count.
            return {
                "id": CONSOLE_CHAT_ID,
                "type": "private",
                "first_name": "Console",
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        raise BadRequest(CONSOLE_NO_CHANNELS)

    async def _get_updates(self, wait: float) -> list[dict[str, Any]]:
        assert self._updates is not None and self._drained is not None
        if self._eof and self._updates.empty():
            self._drained.set()
        try:
            first = await asyncio.wait_for(self._updates.get(), timeout=max(wait, 0.1))
        except TimeoutError:
            return []
        updates = [first]
        while not self._updates.empty():
            updates.append(self._updates.get_nowait())
        return updates


def _save_new(directory: Path, pattern: str, data: bytes) -> Path:
    """Write ``data`` to ``pattern`` with the first number from 1 that names no file yet.

    Message numbers start again with each run: a chart an earlier run (or another console in
    the same directory) saved must not be overwritten, hence the exclusive create.
    """
    number = 1
    while True:
        path = directory / pattern.format(number)
        try:
            with path.open("xb") as out:
                out.write(data)
        except FileExistsError:
            number += 1
            continue
        return path
