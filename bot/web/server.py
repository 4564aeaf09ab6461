"""One web server beside the Application: Starlette on uvicorn, in the bot's own event loop.

The shape of python-telegram-bot's customwebhookbot.py example: the archive pages, the Atom
feed, `/metrics`, `/health` and, in webhook mode, Telegram's updates are routes of one
Starlette app served by uvicorn. The server starts at the end of `post_init` and stops first
in `post_shutdown`. uvicorn's own signal handling is switched off: the Application (or
`serve_webhook`) owns SIGINT and SIGTERM. The socket is bound by us, so a taken port is a
clear error at start rather than uvicorn's `sys.exit` inside a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.context import BotApplication
from bot.health import HealthCheck, application_check
from bot.web.connections import GuardedH11Protocol
from bot.web.metrics import (
    CONTENT_TYPE,
    FloodCountingRateLimiter,
    ProcessFigures,
    render_metrics,
)
from bot.web.pages import ArchivePages
from bot.web.reads import SharedRead, WebReads
from coopwatch.settings import Settings
from storage import Database, StorageError
from storage import archive as archive_store

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20  # a Telegram update is a few KB; anything near this is not one
STOP_TIMEOUT = 5.0  # seconds open requests get to finish at shutdown
# The old health server's limits, kept: it shares a process (and its file descriptors) with
# the bot. bot/web/connections.py applies them.
HEAD_TIMEOUT = 5.0  # seconds for a request head, from its first byte (or the connection's)
MAX_CONNECTIONS = 64  # over it the oldest idle or slow connection is closed
# seconds for a request body, from the end of its head: a webhook update is a few KB
BODY_TIMEOUT = 10.0


class WebError(Exception):
    """The web server could not start (its address or port cannot be used)."""


ProcessFiguresSource = Callable[[], ProcessFigures]


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class WebhookRoute:
    """Telegram's POSTs: checked against the secret, then queued like a polled update."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], secret: str) -> None:
        self.app = app
        self.secret = secret.encode()
        # False while stopping: Telegram is answered 503 and sends the update again later.
        self.accepting = True

    async def handle(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return PlainTextResponse("forbidden", status_code=403)
        if not self.accepting or not self.app.running:
            return PlainTextResponse("stopping", status_code=503)
        body = await _read_capped(request, MAX_UPDATE_BYTES)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
            update = Update.de_json(data, self.app.bot) if isinstance(data, dict) else None
        except Exception as exc:  # whatever the JSON holds, the answer is "not an update"
            log.warning("webhook: not an update: %s", exc)
            return PlainTextResponse("not an update", status_code=400)
        if update is None:
            return PlainTextResponse("not an update", status_code=400)
        # Again: the stop may have begun while the body was arriving, and a 200 now would
        # tell Telegram the update was taken when no handler will ever see it.
        if not self.accepting or not self.app.running:
            return PlainTextResponse("stopping", status_code=503)
        self.app.update_queue.put_nowait(update)  # no await between the check and the put
        return Response(status_code=200)


def build_web_app(
    *,
    db: Database,
    health: HealthCheck,
    process_figures: ProcessFiguresSource,
    webhook: tuple[str, WebhookRoute] | None = None,
) -> Starlette:
    """The routes: `/`, `/event/ID`, `/events.atom`, `/metrics`, `/health` (and the webhook)."""
    reads = WebReads(db)
    pages = ArchivePages(reads)
    figures = SharedRead(reads, archive_store.archive_figures)

    async def health_route(request: Request) -> Response:
        try:
            report = await health()
        except Exception:  # a bug in a check must still give the probe an answer
            log.exception("health check failed")
            return JSONResponse(
                {"status": "degraded", "error": "health check failed"}, status_code=500
            )
        return JSONResponse(
            report.to_json(),
            status_code=200 if report.ok else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def metrics_route(request: Request) -> Response:
        stored = await figures.get()
        return Response(render_metrics(process_figures(), stored), media_type=CONTENT_TYPE)

    routes = []
    if webhook is not None:
        path, handler = webhook
        # First: when the webhook's path is "/", POST / is Telegram's and GET / the page.
        routes.append(Route(path or "/", handler.handle, methods=["POST"]))
    routes += [
        Route("/", pages.index, methods=["GET", "HEAD"]),
        Route("/event/{key:str}", pages.event, methods=["GET", "HEAD"]),
        Route("/events.atom", pages.atom, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_route, methods=["GET"]),
        Route("/health", health_route, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={StorageError: _storage_unavailable})


async def _storage_unavailable(request: Request, exc: Exception) -> Response:
    # The database's own words go to the log (they may name hosts), not to the visitor.
    log.warning("web: %s %s: database unavailable: %s", request.method, request.url.path, exc)
    return PlainTextResponse("The database is unavailable; try again in a minute.", status_code=503)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the Application stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or WebError saying which setting to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets that say they are
    # TCP, and without it every answer written in two parts waited 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise WebError(
            f"cannot serve the web server on {host}:{port} ({exc.strerror}); "
            "set WEB_LISTEN / WEB_PORT"
        ) from exc
    sock.setblocking(False)
    return sock


class WebServer:
    """A Starlette app served by uvicorn in the running event loop."""

    def __init__(self, app: Starlette, *, host: str, port: int) -> None:
        self.asgi = app
        self.host = host
        self.requested_port = port
        self._socket: socket.socket | None = None
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.webhook: WebhookRoute | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was asked for)."""
        if self._socket is None:
            return self.requested_port
        port: int = self._socket.getsockname()[1]
        return port

    async def start(self) -> None:
        self._socket = bind(self.host, self.requested_port)
        config = uvicorn.Config(
            self.asgi,
            lifespan="off",
            log_config=None,  # our logging configuration stays in force
            access_log=False,
            server_header=False,
            # X-Forwarded-Proto/-For only from a proxy on this host (FORWARDED_ALLOW_IPS), so
            # the Atom feed's links say https behind a TLS proxy.
            proxy_headers=True,
            timeout_keep_alive=5,
            http=type(
                "WebProtocol",
                (GuardedH11Protocol,),
                {
                    "head_timeout": HEAD_TIMEOUT,
                    "body_timeout": BODY_TIMEOUT,
                    "max_connections": MAX_CONNECTIONS,
                },
            ),
            timeout_graceful_shutdown=int(STOP_TIMEOUT),
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="web")
        while not self._server.started:
            if self._task.done():  # it failed to start; its exception says why
                self._task.result()
                raise WebError("the web server stopped during start")
            await asyncio.sleep(0.01)
        log.info("web server at http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT + 2)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            if self._socket is not None:
                self._socket.close()
            self._server = self._task = self._socket = None


def application_figures(app: BotApplication) -> ProcessFiguresSource:
    """What the running Application counted: its poller's polls, its bot's flood waits."""

    def figures() -> ProcessFigures:
        coopwatch = app.bot_data.coopwatch
        polls, new_items = coopwatch.poll_counts() if coopwatch else ({}, 0)
        limiter = getattr(app.bot, "rate_limiter", None)
        counting = limiter if isinstance(limiter, FloodCountingRateLimiter) else None
        leadership = app.bot_data.leadership
        status = leadership.status() if leadership else None
        return ProcessFigures(
            polls=polls,
            new_items=new_items,
            flood_waits=counting.flood_waits if counting else 0,
            flood_wait_seconds=counting.flood_wait_seconds if counting else 0.0,
            last_poll_at=app.bot_data.last_poll_ok_at,
            role=status.role if status else None,
            instance=status.instance if status else "",
        )

    return figures


async def start_web_server(
    app: BotApplication,
    *,
    host: str,
    port: int,
    webhook: tuple[str, str] | None = None,
) -> WebServer:
    """Serve the web routes for a running Application (call at the end of post_init).

    ``webhook`` is (path, secret) in webhook mode: Telegram's updates are accepted there.
    """
    route = None
    if webhook is not None:
        path, secret = webhook
        route = (path, WebhookRoute(app, secret))
    server = WebServer(
        build_web_app(
            db=app.bot_data.opened().db,
            health=application_check(app, started_at=datetime.now(UTC)),
            process_figures=application_figures(app),
            webhook=route,
        ),
        host=host,
        port=port,
    )
    await server.start()
    server.webhook = route[1] if route else None
    app.bot_data.web = server
    return server


async def stop_web_server(app: BotApplication) -> None:
    """Stop the Application's web server, if it has one (first thing in post_shutdown)."""
    server, app.bot_data.web = app.bot_data.web, None
    if server is not None:
        await server.stop()


def refuse_updates(app: BotApplication) -> None:
    """From now on Telegram's webhook calls get 503 (and are sent again later)."""
    server = app.bot_data.web
    if server is not None and server.webhook is not None:
        server.webhook.accepting = False


def webhook_registration(settings: Settings, allowed_updates: list[str]) -> dict[str, Any]:
    """setWebhook's arguments for these settings."""
    if not settings.webhook_url:
        raise ValueError("no webhook URL configured")
    return {
        "url": settings.webhook_url,
        # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; WebhookRoute checks it.
        "secret_token": settings.webhook_secret,
        "allowed_updates": allowed_updates,
    }


def webhook_path(settings: Settings) -> str:
    """The path the reverse proxy forwards to us: the public URL's own path (TLS ends there)."""
    return urlsplit(settings.webhook_url or "").path or "/"


async def serve_webhook(
    app: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    stopped: asyncio.Event,
    *,
    allowed_updates: list[str],
) -> None:
    """Run the Application on webhooks until ``stopped`` is set; what run_webhook would do.

    post_init starts the web server with the webhook route; at stop, Telegram's calls are
    refused (503, so it sends them again) before the Application stops taking updates.
    """
    await app.initialize()
    # A leader that loses its lease ends the run the same way as SIGTERM (coopwatch/leadership.py).
    app.bot_data.stop_run = stopped.set
    try:
        if app.post_init is not None:
            # A waiting instance stays in post_init until it leads: a stop ends the wait.
            init = asyncio.ensure_future(app.post_init(app))
            stopping = asyncio.ensure_future(stopped.wait())
            await asyncio.wait({init, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not init.done():
                init.cancel()
                await asyncio.gather(init, return_exceptions=True)
                return
            init.result()
        await app.start()
        try:
            # Last: once Telegram knows the webhook, updates are taken up at once.
            await app.bot.set_webhook(**webhook_registration(settings, allowed_updates))
            await stopped.wait()
        finally:
            refuse_updates(app)
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    finally:
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await app.shutdown()
