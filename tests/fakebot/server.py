"""A fake Telegram Bot API server on 127.0.0.1 for driving the real PTB stack in tests.

The bot talks to it over real HTTP (PTB's HTTPXRequest, selected with ``base_url``); the test
talks to it in plain Python: inject user messages and button presses, read what the bot sent,
inject faults, delays and flood limits. It runs in its own daemon thread with the standard
library's ThreadingHTTPServer, so it does not depend on the test's event loop and a blocking
long poll never stalls the bot.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from tests.fakebot.control import ControlApi
from tests.fakebot.limits import FloodControl, RateLimits, Throttle
from tests.fakebot.methods import BotApi
from tests.fakebot.state import ApiError, ApiRequest, FakeState, JSONDict, Upload, UserInfo
from tests.fakebot.validate import decode_params

DEFAULT_TOKEN = "123456789:AAFakeTokenForCoopwatchTests_0123456789"
_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?")


@dataclass(slots=True)
class Fault:
    """An injected failure for the next `count` calls of one method."""

    method: str
    status: int
    description: str
    count: int
    parameters: JSONDict | None = None
    disconnect: bool = False


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class FakeTelegram(ControlApi):
    """The fake server: start()/stop() (or `with`), then the control API of ControlApi."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "coopwatch_test_bot",
        limits: RateLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        state = FakeState(bot=UserInfo(bot_id, "coopwatch", bot_username, is_bot=True))
        changed = threading.Condition(threading.RLock())
        super().__init__(state, changed)
        self.flood = FloodControl(limits or RateLimits(), clock)
        self.api = BotApi(state, self.flood, changed)
        self._faults: list[Fault] = []
        self._delays: dict[str | None, float] = {}
        self._stopped = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        with self.changed:
            self.state.stopping = False
        self._stopped.clear()
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        # A short poll interval keeps stop() fast: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self.changed:
            self.state.stopping = True
            self.changed.notify_all()  # wakes every long poll so its thread can finish
        self._stopped.set()  # cuts injected delays short
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake Telegram server is not running; call start()")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """For PTB's base_url: "http://127.0.0.1:PORT/bot" (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- faults, delays, limits ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 500,
        count: int = 1,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        disconnect: bool = False,
    ) -> None:
        """The next `count` calls of `method` fail with this answer and change nothing.

        disconnect=True closes the connection without any answer (a network error for PTB).
        """
        parameters: JSONDict = {}
        if retry_after is not None or status == 429:
            parameters["retry_after"] = retry_after if retry_after is not None else 1
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None and status == 429:
            description = f"Too Many Requests: retry after {parameters['retry_after']}"
        text = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        fault = Fault(method.lower(), status, text, count, parameters or None, disconnect)
        with self.changed:
            self._faults.append(fault)

    def set_delay(self, seconds: float, method: str | None = None) -> None:
        """Answer slowly: every call (or only `method`) is processed, then answered late."""
        with self.changed:
            self._delays[method.lower() if method else None] = seconds

    def set_limits(self, limits: RateLimits, *, clock: Callable[[], float] | None = None) -> None:
        """Replace the flood limits (RateLimits.off() disables them); buckets start full.

        A clock (e.g. ``lambda: 0.0``, frozen time) makes counts exact on a slow machine.
        """
        with self.changed:
            self.flood.reset(limits)
            if clock is not None:
                self.flood.clock = clock

    @property
    def throttled(self) -> list[Throttle]:
        """Every 429 the flood control answered, oldest first."""
        with self.changed:
            return list(self.api.throttled)

    @property
    def throttled_count(self) -> int:
        with self.changed:
            return len(self.api.throttled)

    # -- request handling (called from the server threads) ---------------------------------

    def handle(self, path: str, params: dict[str, Any]) -> tuple[int, JSONDict] | None:
        """The HTTP status and body for one request, or None to drop the connection."""
        match = _PATH_RE.fullmatch(path)
        if match is None:
            return 404, ApiError(404, "Not Found").to_json()
        if match["token"] != self.token:
            return 401, ApiError(401, "Unauthorized").to_json()
        method = match["method"]
        decoded = decode_params(params)
        with self.changed:
            self.state.requests.append(ApiRequest(method, decoded))
            fault = self._take_fault(method)
            answer = self._answer(method, decoded) if fault is None else self._fault_answer(fault)
            self.changed.notify_all()
            delay = self._delays.get(method.lower(), self._delays.get(None, 0.0))
        if delay > 0:
            self._stopped.wait(delay)
        return answer

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method.lower():
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_answer(fault: Fault) -> tuple[int, JSONDict] | None:
        if fault.disconnect:
            return None
        return fault.status, ApiError(fault.status, fault.description, fault.parameters).to_json()

    def _answer(self, method: str, params: JSONDict) -> tuple[int, JSONDict]:
        try:
            result = self.api.dispatch(method, params)
        except ApiError as error:
            return error.status, error.to_json()
        return 200, {"ok": True, "result": result}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTelegram

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_connections(self) -> None:
        """Close kept-alive connections so their handler threads end with the server."""
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)
            self.connections.clear()


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keep-alive, as api.telegram.org: httpx reuses connections from its pool.
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the client went away first (a timeout test)
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output is for the tests, not for an access log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        params.update(_parse_body(self.headers.get("Content-Type", ""), body))
        answer = self.server.fake.handle(path, params)
        if answer is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload = answer
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up waiting (timeout tests)


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Form, multipart or JSON bodies to a flat dict; uploaded files become Upload records."""
    if not body:
        return {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        data = json.loads(body)
        return data if isinstance(data, dict) else {}
    if kind == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            fields[name] = Upload(filename, payload) if filename else payload.decode("utf-8")
        return fields
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
