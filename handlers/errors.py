"""The one global error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import Context
from bot.i18n import language_of, t
from storage import StorageError

log = logging.getLogger(__name__)


async def error_handler(update: object, context: Context) -> None:
    """Log the error with its update and tell the chat, if there is one, to try again."""
    chat = update.effective_chat if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    log.error(
        "error while handling update %s",
        update.to_dict() if isinstance(update, Update) else update,
        exc_info=context.error,
        extra={"chat": chat.id if chat else None, "user": user.id if user else None},
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    key = "storage_error" if isinstance(context.error, StorageError) else "error"
    try:
        await update.effective_chat.send_message(
            t(language_of(user.language_code if user else None), key)
        )
    except TelegramError:
        # The chat may be gone or the API down; the error is already logged.
        log.warning("could not tell chat %s about the error", update.effective_chat.id)
