"""The sender: turns the outbox (storage.deliveries) into Telegram messages, within limits.

Each delivery is committed as sent, with its message id, right after Telegram answers, one
transaction per message. A crash therefore loses nothing (pending rows go out after the
restart), and the only way to send one twice is to die in the short window between
Telegram's answer and that commit, or to lose the answer to a request Telegram did process
(a timeout); see docs/design.md, "Delivery is an outbox, at least once, with a window of
milliseconds".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot import eventviews
from bot.context import BotApplication, Context
from bot.fairness import retry_seconds
from bot.i18n import count_of
from bot.render import Rendered
from news.records import CENTRAL_ASIA
from storage import Database, Session, deliveries
from storage.deliveries import Claimant, DueDelivery
from storage.types import utcnow

log = logging.getLogger(__name__)
_DEFAULT_FOLLOWED = tuple(sorted(CENTRAL_ASIA))
T = TypeVar("T")
P = ParamSpec("P")

SEND_TICK_SECONDS = 1.0
EDIT_TICK_SECONDS = 15.0
DIGEST_TICK_SECONDS = 60.0
# Telegram allows about 30 messages/s per bot; keep a little room for the handlers' replies.
GLOBAL_RATE = 28.0
# Evenly spaced rather than in bursts: as fast in the long run, gentler on Telegram's flood
# control, and fewer messages in flight at any moment (each is a possible duplicate on a crash).
BURST = 4.0
# One message per second in a private chat, twenty per minute in a group or channel.
PRIVATE_GAP, GROUP_GAP = 1.0, 3.0
BATCH = 100
# More alerts than this waiting for one chat at once (a first run, a new feed, a restart
# after an outage) go out as one digest message, oldest event first, instead of a burst.
DIGEST_OVER = 3
# A delivery waits this long after it was queued: the events of one poll are created one
# after another, and a send started between two of them would split a burst.
SETTLE_SECONDS = 1.5
DRAIN_HORIZON = 3.0  # a drain waits for rows due this soon (a chat's gap) before returning
CONCURRENCY = 8
MAX_ATTEMPTS = 10  # network errors and 5xx: 5 s, 10 s, 20 s … capped at an hour
MAX_FLOOD_WAITS = 5  # 429s for one message before it goes back to the queue
DEFAULT_TIMEZONE = "Asia/Almaty"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What became of one send: sent (message id), gone (chat dead), refused or later."""

    kind: str  # "sent" | "gone" | "refused" | "later" | "stopped" (not sent: stopping)
    chat_id: int
    message_id: int | None = None
    error: str = ""
    retry_after: float = 0.0


class Pace:
    """Our own flood control: a global token bucket, a gap per chat, and a 429 pause."""

    def __init__(
        self,
        rate: float = GLOBAL_RATE,
        burst: float = BURST,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.updated = clock()
        self.paused_until = 0.0
        self.last_sent: dict[int, float] = {}
        self.lock = asyncio.Lock()

    @staticmethod
    def gap(chat_id: int) -> float:
        return PRIVATE_GAP if chat_id > 0 else GROUP_GAP

    def chat_ready_in(self, chat_id: int) -> float:
        last = self.last_sent.get(chat_id)
        return 0.0 if last is None else max(0.0, last + self.gap(chat_id) - self.clock())

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent by this bot until ``seconds`` have passed."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def wait(self, chat_id: int) -> None:
        """Return when one more message may go to ``chat_id``."""
        while True:
            chat_delay = 0.0
            async with self.lock:  # one waiter at a time keeps the overall order fair
                while True:
                    now = self.clock()
                    self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                    self.updated = now
                    overall = max(self.paused_until - now, (1.0 - self.tokens) / self.rate)
                    chat_delay = self.chat_ready_in(chat_id)
                    if overall <= 0 and chat_delay <= 0:
                        self.tokens -= 1.0
                        self.last_sent[chat_id] = now
                        if len(self.last_sent) > 20_000:  # forget chats whose gap is over
                            self.last_sent = {
                                c: t for c, t in self.last_sent.items() if now - t < GROUP_GAP
                            }
                        return
                    if chat_delay > overall:
                        break  # this chat's own gap: wait without holding up other chats
                    await asyncio.sleep(overall)
            await asyncio.sleep(chat_delay)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600.0, 5.0 * 2 ** max(attempts - 1, 0)))


def keyboard(buttons: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


class DeliverySender:
    """Sends due deliveries, edits grown alerts and sends the daily digests."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        *,
        pace: Pace | None = None,
        concurrency: int = CONCURRENCY,
        keep_going: Callable[[], bool] = lambda: True,
        claimant: Claimant | None = None,
    ) -> None:
        self.bot = bot
        self.db = db
        # Outbox rows are claimed with the leader's term (storage.deliveries): another
        # instance never takes a row this one is sending, whatever the timing.
        self.claimant = claimant or Claimant(term=0)
        self.pace = pace or Pace()
        self.slots = asyncio.Semaphore(concurrency)
        self.keep_going = keep_going
        self.task: asyncio.Task[int] | None = None
        # The other outbox writes (retries, failures, moves) go through one thread of their
        # own: off the event loop, and never fighting each other for SQLite's write lock.
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")

    async def write(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the storage function ``fn`` in its own transaction on the outbox thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.writer, partial(self.db.call, fn, *args, **kwargs))

    # -- one message -----------------------------------------------------------------------

    async def deliver(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> SendOutcome:
        """Send one message, following a migrated group and waiting out 429s."""
        for _ in range(MAX_FLOOD_WAITS):
            await self.pace.wait(chat_id)
            if not self.keep_going():
                # Stopping, or the lease may be running out (coopwatch/leadership.py): the pacer's
                # wait can be long, so ask again right before the request goes out.
                return SendOutcome("stopped", chat_id)
            try:
                message = await self.bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    disable_web_page_preview=True,
                )
            except RetryAfter as exc:
                # Not sent: waiting and resending the same message cannot duplicate it.
                wait = retry_seconds(exc)
                log.warning("429 for chat %s: pausing %.1f s", chat_id, wait)
                self.pace.pause(wait)
                continue
            except ChatMigrated as exc:
                new_id = exc.new_chat_id
                log.info("chat %s became supergroup %s: moving it", chat_id, new_id)
                await self.write(deliveries.move_chat, old_id=chat_id, new_id=new_id)
                chat_id = new_id
                continue
            except Forbidden as exc:
                return SendOutcome("gone", chat_id, error=exc.message)
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():  # the chat was deleted
                    return SendOutcome("gone", chat_id, error=exc.message)
                return SendOutcome("refused", chat_id, error=exc.message)
            except (NetworkError, TelegramError) as exc:  # timeouts, 5xx, connection errors
                return SendOutcome("later", chat_id, error=f"{type(exc).__name__}: {exc}")
            return SendOutcome("sent", chat_id, message_id=message.message_id)
        return SendOutcome("later", chat_id, error="flood limit", retry_after=1.0)

    async def _send_delivery(self, due: DueDelivery, rendered: Rendered) -> bool:
        async with self.slots:
            if not self.keep_going():
                return False  # stopping: a send not yet started stays pending for the restart
            outcome = await self.deliver(due.chat_id, rendered.text, keyboard(rendered.buttons))
        if outcome.kind == "sent":
            assert outcome.message_id is not None
            # THE WINDOW: Telegram has the message, the database does not know yet; dying
            # here means one duplicate after the restart. The commit runs right here, on the
            # event loop's thread, and not in a worker: a hand-off to a thread measured 8 ms
            # (median) against 1.8 ms inline, and that difference is the window. One UPDATE
            # by primary key blocks the loop about a millisecond.
            self.db.call(
                deliveries.mark_sent,
                delivery_id=due.id,
                message_id=outcome.message_id,
                source_count=due.source_count,
            )
            return True
        if outcome.kind != "stopped":  # a stopped send stays claimed for the next term
            await self._record_failure(due, outcome, rendered)
        return False

    async def _record_failure(
        self, due: DueDelivery, outcome: SendOutcome, rendered: Rendered
    ) -> None:
        if outcome.kind == "gone":
            log.info("chat %s is gone (%s): deactivating it", outcome.chat_id, outcome.error)
            await self.write(deliveries.drop_chat, chat_id=outcome.chat_id, reason=outcome.error)
        elif outcome.kind == "refused":
            log.error(
                "Telegram refused delivery %s to chat %s: %s; payload: text=%r buttons=%r",
                due.id,
                outcome.chat_id,
                outcome.error,
                rendered.text,
                rendered.buttons,
            )
            await self.write(deliveries.mark_failed, delivery_id=due.id, error=outcome.error)
        elif outcome.retry_after:  # flood waits are not the message's fault
            await self.write(
                deliveries.mark_retry,
                delivery_id=due.id,
                next_attempt_at=utcnow() + timedelta(seconds=outcome.retry_after),
                error=outcome.error,
                count_attempt=False,
            )
        elif due.attempts + 1 >= MAX_ATTEMPTS:
            log.error("giving up delivery %s after %d attempts", due.id, MAX_ATTEMPTS)
            await self.write(deliveries.mark_failed, delivery_id=due.id, error=outcome.error)
        else:
            log.warning("delivery %s to chat %s: %s", due.id, due.chat_id, outcome.error)
            await self.write(
                deliveries.mark_retry,
                delivery_id=due.id,
                next_attempt_at=utcnow() + backoff(due.attempts + 1),
                error=outcome.error,
            )

    # -- the outbox ------------------------------------------------------------------------

    async def drain(self) -> int:
        """Send every due delivery, batch by batch; returns how many were sent."""
        sent = 0
        while self.keep_going():
            sent += await self._gather_bursts()
            now = utcnow()
            batch = await self.db.run(
                deliveries.claim_due_deliveries,
                now=now,
                limit=BATCH,
                claimant=self.claimant,
                settled_before=now - timedelta(seconds=SETTLE_SECONDS),
            )
            ready = await self._spread(batch)
            if not ready:
                if not await self._wait_for_next():
                    break
                continue
            # One rendering per event, language and followed countries (the [Mute] button
            # names a country this chat follows).
            views: dict[tuple[int, str, tuple[str, ...]], Rendered | None] = {}
            keys = [(d.event_id, d.language, d.countries or _DEFAULT_FOLLOWED) for d in ready]
            for key in keys:
                if key not in views:
                    views[key] = await eventviews.render_event_alert(
                        self.db, key[0], key[1], subscribed=key[2]
                    )
            # Every send finishes before the batch ends, failed or not: a drain that stopped
            # on one error would leave the others in flight and the next tick would send
            # their still-pending rows again.
            results = await asyncio.gather(
                *(
                    self._send_rendered(due, views[key])
                    for due, key in zip(ready, keys, strict=True)
                ),
                return_exceptions=True,
            )
            for due, result in zip(ready, results, strict=True):
                if isinstance(result, BaseException):
                    log.error(
                        "delivery failed unexpectedly; it stays pending",
                        exc_info=result,
                        extra={"delivery": due.id, "chat": due.chat_id},
                    )
                else:
                    sent += result
        return sent

    async def _gather_bursts(self) -> int:
        """Several alerts waiting for one chat: a few go in date order, more as one digest."""
        sent = 0
        now = utcnow()
        settled = now - timedelta(seconds=SETTLE_SECONDS)
        bursts = await self.db.run(
            deliveries.pending_bursts, min_count=2, settled_before=settled, now=now
        )
        for burst in bursts:
            if len(burst.event_ids) <= DIGEST_OVER:
                await self.write(deliveries.order_by_event_date, chat_id=burst.chat_id)
                continue
            if not self.keep_going():
                break
            events = list(burst.event_ids)
            if await self._send_digest(burst.chat_id, events, burst.language, deliveries.PENDING):
                sent += len(events)
            else:  # Telegram down or refusing: back off as a single alert would
                await self.write(
                    deliveries.postpone,
                    delivery_ids=burst.delivery_ids,
                    until=utcnow() + backoff(burst.attempts + 1),
                    error="digest of a burst not sent",
                )
        return sent

    async def _wait_for_next(self) -> bool:
        """Sleep until the next delivery if it is due within the horizon; False if not."""
        upcoming = await self.db.run(deliveries.next_due_at, term=self.claimant.term)
        if upcoming is None:
            return False
        wait = (upcoming - utcnow()).total_seconds()
        if wait > DRAIN_HORIZON:
            return False  # a back-off: the tick will find it when it is due
        # Due already but not handed out: it is settling (SETTLE_SECONDS).
        await asyncio.sleep(wait if wait > 0 else SETTLE_SECONDS / 3)
        return True

    async def _send_rendered(self, due: DueDelivery, view: Rendered | None) -> bool:
        if view is None:  # the event was deleted since it was queued
            await self.write(deliveries.mark_failed, delivery_id=due.id, error="event gone")
            return False
        return await self._send_delivery(due, view)

    async def _spread(self, batch: list[DueDelivery]) -> list[DueDelivery]:
        """One message per chat per batch; the rest waits its chat's gap, in the database.

        Postponing in the database (not in memory) keeps the oldest-first query from
        returning the same held-back rows again and starving every other chat.
        """
        ready: list[DueDelivery] = []
        seen: dict[int, int] = {}
        for due in batch:
            waiting = seen.get(due.chat_id, 0)
            delay = self.pace.chat_ready_in(due.chat_id) + waiting * self.pace.gap(due.chat_id)
            seen[due.chat_id] = waiting + 1
            if delay <= 0:
                ready.append(due)
                continue
            await self.write(
                deliveries.mark_retry,
                delivery_id=due.id,
                next_attempt_at=utcnow() + timedelta(seconds=delay),
                error="waiting for the chat's rate limit",
                count_attempt=False,
            )
        return ready

    def start_drain(self) -> None:
        """Drain in the background unless a drain is already running."""
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain(), name="deliver")

    async def finish(self, grace: float = 10.0) -> None:
        """At shutdown: let the drain in progress finish the sends in hand and record them.

        keep_going() is already false, so the drain stops after its current batch; a batch
        that does not finish in time is cancelled (its rows stay pending).
        """
        task = self.task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _drain(self) -> int:
        try:
            return await self.drain()
        except Exception:
            # The rows stay pending: the next tick starts a new drain.
            log.exception("delivery drain failed")
            return 0

    # -- edits when an event gains sources -------------------------------------------------

    async def edit_grown(self) -> int:
        """Edit sent alerts whose event has gained sources; returns how many were edited."""
        rows = await self.db.run(deliveries.deliveries_to_edit, limit=BATCH)
        edited = 0
        for row in rows:
            if not self.keep_going():
                break
            view = await eventviews.render_event_alert(self.db, row.event_id, row.language)
            if view is None:
                await self.write(deliveries.mark_edited, delivery_id=row.id, source_count=1 << 30)
                continue
            await self.pace.wait(row.chat_id)
            try:
                await self.bot.edit_message_text(
                    view.text,
                    chat_id=row.chat_id,
                    message_id=row.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(view.buttons),
                    disable_web_page_preview=True,
                )
                edited += 1
            except RetryAfter as exc:
                self.pace.pause(retry_seconds(exc))
                break  # the next round edits the rest
            except Forbidden as exc:
                await self.write(deliveries.drop_chat, chat_id=row.chat_id, reason=exc.message)
                continue
            except (BadRequest, ChatMigrated) as exc:
                # "message is not modified", a deleted message, a migrated group: nothing
                # to fix and nothing the user misses; do not try again.
                log.info("alert %s in chat %s not edited: %s", row.id, row.chat_id, exc)
            except (NetworkError, TelegramError) as exc:
                log.warning("edit of alert %s failed, retrying later: %s", row.id, exc)
                break
            await self.write(
                deliveries.mark_edited, delivery_id=row.id, source_count=row.source_count
            )
        return edited

    # -- the daily digest ------------------------------------------------------------------

    async def send_digests(self, now: datetime | None = None) -> int:
        """Send each digest chat whose hour has come today its waiting events; returns chats."""
        now = now or utcnow()
        done = 0
        for chat in await self.db.run(deliveries.chats_with_digest):
            slot = digest_slot(now, chat.digest_hour, chat.timezone)
            if slot is None or not self.keep_going():
                continue
            event_ids = await self.db.run(
                deliveries.digest_deliveries, chat_id=chat.id, before=slot
            )
            if event_ids and await self._send_digest(chat.id, event_ids, chat.language):
                done += 1
        return done

    async def _send_digest(
        self, chat_id: int, event_ids: list[int], lang: str, from_status: str = deliveries.DIGEST
    ) -> bool:
        if from_status == deliveries.DIGEST:
            parts = await eventviews.render_digest(self.db, event_ids, lang)
        else:  # a burst: one compact message that says what it is ("7 new events")
            heading = count_of(lang, "new_events", len(event_ids))
            parts = [await eventviews.render_burst(self.db, event_ids, lang, heading)]
        first: int | None = None
        for part in parts:
            outcome = await self.deliver(chat_id, part, None)
            if outcome.kind == "gone":
                await self.write(
                    deliveries.drop_chat, chat_id=outcome.chat_id, reason=outcome.error
                )
                return False
            if outcome.kind != "sent":
                # A crash or a failure here resends the digest from its first part next time:
                # a repeated part is better than a lost day.
                log.warning("digest for chat %s not sent: %s", chat_id, outcome.error)
                return False
            chat_id = outcome.chat_id  # a migrated group continues in the supergroup
            first = first or outcome.message_id
        await self.write(
            deliveries.mark_digested,
            chat_id=chat_id,
            event_ids=event_ids,
            message_id=first or 0,
            from_status=from_status,
        )
        return True


def digest_slot(now: datetime, hour: int, timezone: str) -> datetime | None:
    """Today's digest moment in the chat's zone (as UTC) if it has passed, else None."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    local = now.astimezone(zone)
    slot = local.replace(hour=hour % 24, minute=0, second=0, microsecond=0)
    return slot.astimezone(now.tzinfo) if local >= slot else None


# -- jobs --------------------------------------------------------------------------------


def _sender(context: Context) -> DeliverySender:
    sender = context.bot_data.sender
    if sender is None:
        raise RuntimeError("the delivery jobs run before schedule_delivery_jobs made the sender")
    return sender


async def deliver_due(context: Context) -> None:
    """Start draining the outbox (in the background, so the tick returns at once)."""
    _sender(context).start_drain()


async def edit_grown_alerts(context: Context) -> None:
    await _sender(context).edit_grown()


async def send_digests(context: Context) -> None:
    await _sender(context).send_digests()


def schedule_delivery_jobs(app: BotApplication) -> DeliverySender:
    """Create the sender and its three jobs; call from post_init once coopwatch is open."""
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
    db = app.bot_data.opened().db
    # Stop between messages once the application stops, so shutdown never waits for a
    # 10,000-chat fan-out; what is left stays pending for the next start. Stop as well the
    # moment this instance may no longer be sure it leads (coopwatch/leadership.py).
    leadership = app.bot_data.leadership
    if leadership is None:
        sender = DeliverySender(app.bot, db, keep_going=lambda: app.running)
    else:
        sender = DeliverySender(
            app.bot,
            db,
            keep_going=lambda: app.running and leadership.is_leader(),
            claimant=leadership.claimant(),
        )
    app.bot_data.sender = sender
    once = {"max_instances": 1, "coalesce": True}
    jobs = app.job_queue
    jobs.run_repeating(
        deliver_due, interval=SEND_TICK_SECONDS, first=0.5, name="deliver", job_kwargs=once
    )
    jobs.run_repeating(
        edit_grown_alerts, interval=EDIT_TICK_SECONDS, first=5, name="edit", job_kwargs=once
    )
    jobs.run_repeating(
        send_digests, interval=DIGEST_TICK_SECONDS, first=10, name="digest", job_kwargs=once
    )
    return sender
