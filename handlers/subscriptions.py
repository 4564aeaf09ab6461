"""/subscribe, /unsubscribe, /settings (with its buttons), /lang and /addchannel."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError

from bot.context import Context
from bot.i18n import LANGUAGES, language_of, t
from bot.render import country_name
from handlers.common import admin_only, chat_language, reply_html
from handlers.paging import cut, join_within
from news.countries import resolve_country, suggest_country
from news.records import CENTRAL_ASIA, EVENT_TYPES
from storage import Database, chats
from storage.chats import ChatInfo

ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
MODES = ("instant", "digest")
MAX_PHRASE_WORDS = 4  # "United Arab Emirates", "Объединённые Арабские Эмираты"
MAX_NAMES_SHOWN = 60  # countries named in one reply (about 1,000 characters)
MAX_UNKNOWN_SHOWN = 40  # unknown words answered one by one; beyond them, a count


# -- who may change what ----------------------------------------------------------------


async def may_change(update: Update, context: Context) -> bool:
    """Anyone in a private chat; only administrators in a group or a channel.

    A command in a channel can only have been posted by its administrators; a button under
    a channel post can be pressed by any reader, so the presser is checked.
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    if chat.type == Chat.PRIVATE:
        return True
    if chat.type == Chat.CHANNEL and update.callback_query is None:
        return True
    message = update.effective_message
    if (
        update.callback_query is None  # under a button, the message is the bot's own post
        and message is not None
        and message.sender_chat
        and message.sender_chat.id == chat.id
    ):
        return True  # an anonymous administrator writes as the group itself
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    return member.status in ADMINS


async def _refuse_non_admin(update: Update, context: Context) -> bool:
    if await may_change(update, context):
        return False
    await reply_html(update, t(await chat_language(update, context), "group_admins_only"))
    return True


async def _ensure_chat(update: Update, context: Context) -> ChatInfo | None:
    """The chat's row, created on first use (a group may /subscribe before anyone /starts)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return None
    db = context.coopwatch.db
    info = await db.run(chats.get_chat, chat_id=chat.id)
    if info is None:
        info, _ = await db.run(
            chats.register_chat,
            chat_id=chat.id,
            chat_type=chat.type,
            language=language_of(user.language_code if user else None),
            title=chat.title,
            username=chat.username,
        )
        await db.run(chats.set_countries, chat_id=chat.id, countries=CENTRAL_ASIA)
        info = await db.run(chats.get_chat, chat_id=chat.id)
    return info


# -- countries --------------------------------------------------------------------------


def parse_countries(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """(ISO codes, the words that name no country); longest phrase first, commas allowed."""
    tokens = [w for w in " ".join(words).replace(",", " ").split() if w]
    codes: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            code = resolve_country(" ".join(tokens[i : i + size]))
            if code is not None:
                codes.append(code)
                i += size
                break
        else:
            unknown.append(tokens[i])
            i += 1
    return list(dict.fromkeys(codes)), unknown


def _names(codes: Sequence[str], lang: str) -> str:
    # A chat may follow every country there is: the list stays well within a message.
    names = [html.escape(country_name(code, lang)) for code in codes]
    if len(names) > MAX_NAMES_SHOWN:
        rest = len(names) - MAX_NAMES_SHOWN
        names = [*names[:MAX_NAMES_SHOWN], t(lang, "list_more", n=rest)]
    return ", ".join(names)


def _following(info: ChatInfo, lang: str) -> str:
    if not info.active:
        return t(lang, "unsub_all")
    codes = sorted(info.countries or CENTRAL_ASIA, key=lambda c: country_name(c, lang))
    return t(lang, "sub_now", countries=_names(codes, lang))


def _unknown_message(words: list[str], lang: str) -> str:
    distinct = list(dict.fromkeys(words))
    lines = []
    for word in distinct[:MAX_UNKNOWN_SHOWN]:
        text = cut(word, 64)
        guess = suggest_country(word)
        if guess is not None:
            lines.append(t(lang, "sub_suggest", text=text, name=_names([guess], lang)))
        else:
            lines.append(t(lang, "sub_unknown", text=text))
    # Whatever the user typed, the answer is one message within Telegram's limit.
    return join_within(
        lines, more=lambda n: t(lang, "list_more", n=n), left_out=len(distinct) - len(lines)
    )


async def subscribe(update: Update, context: Context) -> None:
    """Follow the countries named (none: the five Central Asian states again)."""
    if await _refuse_non_admin(update, context):
        return
    info = await _ensure_chat(update, context)
    if info is None:
        return
    lang, db = info.language, context.coopwatch.db
    codes, unknown = parse_countries(context.args or [])
    if unknown:
        # Change nothing when part of the request is unclear: the user retypes it whole.
        await reply_html(update, _unknown_message(unknown, lang))
        return
    if not codes and info.active:
        await reply_html(update, _following(info, lang) + "\n" + t(lang, "sub_usage"))
        return
    updated = await db.run(
        chats.add_countries, chat_id=info.id, countries=codes or CENTRAL_ASIA, default=CENTRAL_ASIA
    )
    if updated is not None:
        await reply_html(update, _following(updated, lang))


async def unsubscribe(update: Update, context: Context) -> None:
    """Stop following the countries named (none: stop every alert)."""
    if await _refuse_non_admin(update, context):
        return
    info = await _ensure_chat(update, context)
    if info is None:
        return
    lang, db = info.language, context.coopwatch.db
    codes, unknown = parse_countries(context.args or [])
    if unknown:
        await reply_html(update, _unknown_message(unknown, lang))
        return
    if not codes:
        await db.run(chats.unsubscribe_all, chat_id=info.id)
        await reply_html(update, t(lang, "unsub_all"))
        return
    updated = await db.run(
        chats.remove_countries, chat_id=info.id, countries=codes, default=CENTRAL_ASIA
    )
    if updated is not None:
        await reply_html(update, _following(updated, lang))


# -- /settings --------------------------------------------------------------------------


def settings_text(info: ChatInfo) -> str:
    lang = info.language
    types = ", ".join(t(lang, f"type_{kind}") for kind in info.event_types) or "—"
    return t(
        lang,
        "settings",
        following=_following(info, lang),
        types=types,
        mode=t(lang, f"mode_{info.mode}"),
        hour=info.digest_hour,
        timezone=html.escape(info.timezone),
        language=t(lang, "language_name"),
    )


def settings_keyboard(info: ChatInfo) -> InlineKeyboardMarkup:
    """Buttons whose callback data is "set:<what>:<value>", always well under 64 bytes."""
    lang = info.language

    def button(label: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=data)

    types = [
        button(
            ("✅ " if kind in info.event_types else "▫️ ") + t(lang, f"type_{kind}"), f"set:t:{kind}"
        )
        for kind in EVENT_TYPES
    ]
    other_mode = "digest" if info.mode == "instant" else "instant"
    rows = [
        types[:2],
        types[2:],
        [button(t(lang, f"btn_mode_{other_mode}"), f"set:m:{other_mode}")],
    ]
    if info.mode == "digest":
        rows.append([button("−1 h", "set:h:-1"), button("+1 h", "set:h:+1")])
    other_lang = "ru" if lang == "en" else "en"
    rows.append([button(t(other_lang, "language_name"), f"set:l:{other_lang}")])
    return InlineKeyboardMarkup(rows)


async def settings(update: Update, context: Context) -> None:
    """Show the filters with buttons; "/settings hour 18" and "/settings tz Europe/Moscow"."""
    args = context.args or []
    if args and await _refuse_non_admin(update, context):
        return
    info = await _settings_of(update, context)
    if info is None or update.effective_chat is None:
        return
    if args:
        error = await _apply_setting_args(update, context, info, args)
        if error:
            await reply_html(update, error)
            return
        info = await context.coopwatch.db.run(chats.get_chat, chat_id=info.id) or info
    await update.effective_chat.send_message(
        settings_text(info), parse_mode=ParseMode.HTML, reply_markup=settings_keyboard(info)
    )


async def _settings_of(update: Update, context: Context) -> ChatInfo | None:
    """The chat's settings; for a group nobody set up yet, only an administrator's look
    registers it (registering switches its alerts on), anyone else sees the defaults."""
    chat = update.effective_chat
    if chat is None:
        return None
    info = await context.coopwatch.db.run(chats.get_chat, chat_id=chat.id)
    if info is not None or await may_change(update, context):
        return info or await _ensure_chat(update, context)
    return chats.unsaved_chat(
        chat_id=chat.id, chat_type=chat.type, language=await chat_language(update, context)
    )


async def _apply_setting_args(
    update: Update, context: Context, info: ChatInfo, args: list[str]
) -> str | None:
    """Apply "/settings hour N" or "/settings tz ZONE"; the error text, or None when done."""
    lang, db = info.language, context.coopwatch.db
    what, value = args[0].lower(), " ".join(args[1:]).strip()
    if what in ("hour", "час") and value.isdigit() and int(value) < 24:
        await db.run(chats.set_digest_hour, chat_id=info.id, hour=int(value))
        return None
    if what in ("tz", "timezone", "пояс") and value:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return t(lang, "settings_bad_tz", tz=html.escape(value[:64]))
        await db.run(chats.set_timezone, chat_id=info.id, timezone=value)
        return None
    return t(lang, "settings_usage")


async def settings_button(update: Update, context: Context) -> None:
    """A /settings button: toggle a type, switch mode, move the hour, change language."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    db = context.coopwatch.db
    parts = (query.data or "").split(":")
    if len(parts) != 3 or not _valid(parts[1], parts[2]):
        await query.answer(t(await chat_language(update, context), "stale_button"))
        return
    if not await may_change(update, context):
        lang = await chat_language(update, context)
        await query.answer(t(lang, "group_admins_only"), show_alert=True)
        return
    info = await _ensure_chat(update, context)  # the defaults shown to a member, set up now
    if info is None:
        return
    refusal = await _apply_button(db, info, parts[1], parts[2])
    if refusal:
        await query.answer(t(info.language, refusal), show_alert=True)
        return
    info = await db.run(chats.get_chat, chat_id=chat.id) or info
    # An old settings message may no longer be editable: the change is saved all the same.
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(
            settings_text(info), parse_mode=ParseMode.HTML, reply_markup=settings_keyboard(info)
        )
    await query.answer(t(info.language, "settings_saved"))


def _valid(what: str, value: str) -> bool:
    """Only data our own keyboard produces; anything forged or from old versions is stale."""
    allowed = {
        "t": EVENT_TYPES,
        "m": MODES,
        "h": ("-1", "+1"),
        "l": LANGUAGES,
    }
    return value in allowed.get(what, ())


async def _apply_button(db: Database, info: ChatInfo, what: str, value: str) -> str | None:
    """Save the change; a locale key to refuse with, or None."""
    if what == "t":
        kinds = [k for k in EVENT_TYPES if (k in info.event_types) != (k == value)]
        if not kinds:
            return "settings_last_type"
        await db.run(chats.set_event_types, chat_id=info.id, event_types=kinds)
    elif what == "m":
        await db.run(chats.set_mode, chat_id=info.id, mode=value)
    elif what == "h":
        await db.run(chats.set_digest_hour, chat_id=info.id, hour=info.digest_hour + int(value))
    elif what == "l":
        await db.run(chats.set_language, chat_id=info.id, language=value)
    return None


# -- /lang ------------------------------------------------------------------------------


async def lang(update: Update, context: Context) -> None:
    """/lang en or /lang ru."""
    args = [a.lower() for a in context.args or []]
    if not args or args[0] not in LANGUAGES:
        await reply_html(update, t(await chat_language(update, context), "lang_usage"))
        return
    if await _refuse_non_admin(update, context):
        return
    info = await _ensure_chat(update, context)
    if info is None:
        return
    await context.coopwatch.db.run(chats.set_language, chat_id=info.id, language=args[0])
    await reply_html(update, t(args[0], "lang_set"))


# -- /addchannel ------------------------------------------------------------------------


@admin_only
async def addchannel(update: Update, context: Context) -> None:
    """Subscribe a channel the bot administers to the five Central Asian states."""
    lang = await chat_language(update, context)
    args = context.args or []
    if len(args) != 1 or not args[0].startswith("@") or len(args[0]) < 2:
        await reply_html(update, t(lang, "addchannel_usage"))
        return
    name = html.escape(args[0][:64])
    try:
        channel = await context.bot.get_chat(args[0])
    except TelegramError:
        # The console transport has no channels: say so rather than blame the @name.
        key = "addchannel_console" if context.coopwatch.settings.console_mode else None
        await reply_html(update, t(lang, key or "addchannel_not_found", name=name))
        return
    if channel.type != Chat.CHANNEL:
        await reply_html(update, t(lang, "addchannel_not_channel", name=name))
        return
    try:
        me = await context.bot.get_chat_member(channel.id, context.bot.id)
    except TelegramError:
        me = None
    if me is None or me.status not in ADMINS or getattr(me, "can_post_messages", True) is False:
        await reply_html(update, t(lang, "addchannel_not_admin", name=name))
        return
    db = context.coopwatch.db
    _, created = await db.run(
        chats.register_chat,
        chat_id=channel.id,
        chat_type=Chat.CHANNEL,
        language=lang,
        title=channel.title,
        username=channel.username,
    )
    if created:
        await db.run(chats.set_countries, chat_id=channel.id, countries=CENTRAL_ASIA)
    title = html.escape(channel.title or args[0])
    await reply_html(update, t(lang, "addchannel_done", title=title))


_MUTE = re.compile(r"^mute:([A-Z]{2})$")


async def mute_button(update: Update, context: Context) -> None:
    """[Mute <country>] under an alert: stop following that country in this chat."""
    query = update.callback_query
    if query is None:
        return
    lang = await chat_language(update, context)
    found = _MUTE.match(query.data or "")
    chat = update.effective_chat
    if found is None or chat is None:
        await query.answer(t(lang, "stale_button"))
        return
    if not await may_change(update, context):
        await query.answer(t(lang, "mute_admins_only"), show_alert=True)
        return
    code = found.group(1)
    info = await context.coopwatch.db.run(
        chats.remove_countries, chat_id=chat.id, countries={code}, default=CENTRAL_ASIA
    )
    if info is None:
        await query.answer(t(lang, "stale_button"))
        return
    name = country_name(code, lang)
    await query.answer(t(lang, "muted", country=name))
    await reply_html(update, t(lang, "muted_detail", country=html.escape(name), code=code))
