"""The update processor and the rate limiter: one chat's trouble stays in that chat."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram import Chat, Message, Update, User
from telegram.error import RetryAfter

from bot.fairness import ChatOrderedProcessor, ChatRateLimiter
from handlers.guard import CommandRateLimit


def _update(update_id: int, chat_id: int, user_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.SUPERGROUP)
    user = User(user_id, "Tester", is_bot=False)
    message = Message(update_id, None, chat, from_user=user, text="hello")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_chat_in_order_other_chats_meanwhile() -> None:
    processor = ChatOrderedProcessor(CommandRateLimit())
    done: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    await asyncio.gather(
        processor.process_update(_update(1, 10, 10), handle("A1 slow", 0.3)),
        processor.process_update(_update(2, 10, 10), handle("A2", 0.0)),
        processor.process_update(_update(3, 20, 20), handle("B1", 0.0)),
    )
    assert done == ["B1", "A1 slow", "A2"]


async def test_a_silenced_users_updates_are_dropped_before_they_queue() -> None:
    limiter = CommandRateLimit(max_actions=1, window=60)
    limiter.check(10)
    assert limiter.check(10) == "notify"
    processor = ChatOrderedProcessor(limiter)
    ran: list[int] = []

    async def handle(n: int) -> None:
        ran.append(n)

    await processor.process_update(_update(1, 10, 10), handle(1))
    await processor.process_update(_update(2, 20, 20), handle(2))
    assert ran == [2]


async def test_a_429_holds_back_only_its_chat() -> None:
    limiter = ChatRateLimiter()
    refused: set[int] = set()
    sent: dict[int, float] = {}
    started = time.monotonic()

    async def send(chat_id: int) -> dict[str, Any]:
        if chat_id == 1 and chat_id not in refused:
            refused.add(chat_id)
            raise RetryAfter(1)
        sent[chat_id] = time.monotonic() - started
        return {"ok": True}

    async def request(chat_id: int) -> object:
        return await limiter.process_request(
            send, (chat_id,), {}, "sendMessage", {"chat_id": chat_id}, None
        )

    first = asyncio.create_task(request(1))  # a 429: waits 1.1 s, then resends
    await asyncio.sleep(0.05)
    await request(2)  # another chat meanwhile
    await first
    assert sent[2] < 0.5 and sent[1] >= 1.0
