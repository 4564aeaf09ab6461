"""/filter WORD …, /filter, /filter off: push only events that mention one of the words."""

from __future__ import annotations

import html

from telegram import Update

from bot.context import Context
from bot.i18n import t
from handlers.common import chat_language, reply_html
from handlers.subscriptions import may_change
from news.topics import (
    FilterError,
    FilterTooLong,
    keyword_filter,
    parse_filter_words,
    topic_names,
)
from storage import chats

OFF = ("off", "выкл", "нет")
# A whole /filter line longer than this is refused before it is even split into words.
MAX_FILTER_TEXT = 400


def _words(words: tuple[str, ...], lang: str) -> str:
    """The words as shown, a topic name marked as standing for its whole topic."""
    named = keyword_filter(" ".join(words))
    shown = []
    for word in words:
        topic_word = not keyword_filter(word).topics.isdisjoint(named.topics)
        text = f"<b>{html.escape(word)}</b>"
        shown.append(t(lang, "filter_topic_word", word=text) if topic_word else text)
    return ", ".join(shown)


def _usage(lang: str) -> str:
    return t(lang, "filter_usage", topics=html.escape(", ".join(topic_names(lang))))


async def filter_command(update: Update, context: Context) -> None:
    """Show, set or clear the words an event must mention to be pushed to this chat."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await chat_language(update, context)
    db = context.coopwatch.db
    info = await db.run(chats.get_chat, chat_id=chat.id)
    if info is None:
        await reply_html(update, t(lang, "filter_start_first"))
        return
    args = context.args or []
    if not args:
        if info.filter_words:
            await reply_html(update, t(lang, "filter_show", words=_words(info.filter_words, lang)))
        else:
            await reply_html(update, t(lang, "filter_none") + "\n\n" + _usage(lang))
        return
    if not await may_change(update, context):
        await reply_html(update, t(lang, "group_admins_only"))
        return
    if len(args) == 1 and args[0].lower() in OFF:
        await db.run(chats.set_filter, chat_id=chat.id, words=())
        await reply_html(update, t(lang, "filter_off"))
        return
    try:
        if sum(len(arg) for arg in args) > MAX_FILTER_TEXT:
            raise FilterTooLong("too long")
        words = parse_filter_words(args)
    except FilterTooLong:
        await reply_html(update, t(lang, "filter_too_long") + "\n\n" + _usage(lang))
        return
    except FilterError:
        await reply_html(update, _usage(lang))
        return
    await db.run(chats.set_filter, chat_id=chat.id, words=words)
    await reply_html(update, t(lang, "filter_set", words=_words(words, lang)))
