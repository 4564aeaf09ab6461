"""uvicorn's h11 protocol with the limits a server inside the bot's process needs.

uvicorn has no deadline for a request head (a client that connects and sends nothing, or
dribbles a head, stays open for ever) and no cap on connections (each is a file descriptor
of the process that also talks to Telegram, the feeds and the database). Its own
``limit_concurrency`` still accepts every connection and answers 503 to every request over
the cap, the health probe's too. So, per connection:

- a request head must be complete within ``head_timeout`` seconds of its first byte (of the
  connection, for the first one); otherwise the connection is closed. Idle keep-alive
  connections are closed by uvicorn's ``timeout_keep_alive``.
- a request body must be complete within ``body_timeout`` seconds of the end of its head,
  whether or not the app reads it (a 405 is answered before the body): a full head with a
  large Content-Length and then a byte a second kept the connection for ever, since every
  byte also cancels uvicorn's keep-alive timer (security review 3, finding 4).
- a head over ``max_head_bytes`` is answered 431 (RFC 6585) and the connection closed after
  the client has finished sending, so it reads the answer rather than a reset.
- over ``max_connections``, the oldest connection that is still receiving a request (idle,
  a head or a body arriving; those waiting for a head first) is closed to make room; only
  when every one is busy serving a request is the new one refused. A probe is answered
  however many idle or slow connections a stranger opens.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_END = b"\r\n\r\n"
LINGER_SECONDS = 2.0  # how long the rest of a refused request is read and dropped


class GuardedH11Protocol(H11Protocol):
    """H11Protocol with head and body deadlines, a head size limit and a connection cap."""

    head_timeout = 5.0
    body_timeout = 10.0
    max_head_bytes = 16 * 1024
    max_connections = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        self._since = 0.0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._since = self.loop.time()
        self._arm_head_deadline()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        self._disarm_body_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the rest of a refused request: read so the client sees our answer
        if self.waiting_for_head:
            self._arm_head_deadline()
            if self._head_too_large(data):
                self._refuse_head()
                return
        super().data_received(data)
        if not self.waiting_for_head:
            self._disarm_head_deadline()
        if self.reading_body:
            if self._body_deadline is None:
                self._body_deadline = self.loop.call_later(self.body_timeout, self._body_timed_out)
        else:
            self._disarm_body_deadline()

    @property
    def waiting_for_head(self) -> bool:
        """No request in progress: idle, or a head still arriving."""
        return self.conn.their_state is h11.IDLE and (
            self.cycle is None or self.cycle.response_complete
        )

    @property
    def reading_body(self) -> bool:
        """A request head has arrived and its body is still arriving."""
        return self.conn.their_state is h11.SEND_BODY

    def _head_too_large(self, data: bytes) -> bool:
        buffered = self.conn.trailing_data[0]
        end = (buffered + data).find(HEAD_END)
        if end < 0:
            return len(buffered) + len(data) > self.max_head_bytes
        return end > self.max_head_bytes

    def _refuse_head(self) -> None:
        self._refused = True
        self._disarm_head_deadline()
        body = b"Request head too large.\n"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        # Closing with unread data would make the kernel send a reset, which can reach the
        # client before our answer; read and drop the rest for a moment, then close.
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.waiting_for_head and not self.transport.is_closing():
            self.transport.close()

    def _disarm_body_deadline(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _body_timed_out(self) -> None:
        self._body_deadline = None
        if self.reading_body and not self.transport.is_closing():
            self.transport.abort()  # the client is still sending: no answer can reach it

    def _make_room(self) -> None:
        receiving = [
            c
            for c in self.connections
            if isinstance(c, GuardedH11Protocol)
            and c is not self
            and (c.waiting_for_head or c.reading_body)
            and not c.transport.is_closing()
        ]
        if receiving:
            # Idle and head-waiting connections go first: they have the least to lose.
            min(receiving, key=lambda c: (not c.waiting_for_head, c._since)).transport.abort()
        else:
            self.transport.abort()  # every connection is serving a request: this one waits
