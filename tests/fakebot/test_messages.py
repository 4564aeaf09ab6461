"""sendMessage and edits through PTB's real Bot and HTTP stack, checked as Telegram checks."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.fakebot import Entity, FakeTelegram

CHAT = 4242


@pytest.fixture(autouse=True)
def _subscriber(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(CHAT, "private", first_name="Aigerim")


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"b{i}", callback_data=d)] for i, d in enumerate(data)]
    )


async def test_get_me_answers_the_bot_of_the_token(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    me = await fake_bot.get_me()

    assert me.is_bot
    assert me.id == fake_telegram.bot_id == 123456789
    assert me.username == fake_telegram.bot_username


async def test_valid_html_is_stored_as_the_user_sees_it(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    html = (
        '🤝 <b>Kazakhstan – Tajikistan</b> · state visit\n<a href="https://astanatimes.com/x">'
        "Source</a> &amp; more"
    )
    sent = await fake_bot.send_message(
        CHAT, html, parse_mode=ParseMode.HTML, reply_markup=keyboard("event:1")
    )

    stored = fake_telegram.last_message(CHAT)
    assert stored.text == "🤝 Kazakhstan – Tajikistan · state visit\nSource & more"
    assert stored.html == html
    assert stored.entities == (
        Entity("bold", 3, 23),
        Entity("text_link", 41, 6, url="https://astanatimes.com/x"),
    )
    assert stored.buttons[0][0].callback_data == "event:1"
    assert (sent.message_id, sent.text, sent.chat.id) == (stored.message_id, stored.text, CHAT)
    assert [e.type for e in sent.entities] == ["bold", "text_link"]


async def test_message_ids_increase_per_chat(fake_bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(77, "private")
    first = await fake_bot.send_message(CHAT, "one")
    second = await fake_bot.send_message(CHAT, "two")
    other = await fake_bot.send_message(77, "elsewhere")

    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert [m.text for m in fake_telegram.messages(CHAT)] == ["one", "two"]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (
            "Hello, world<script>alert(1)</script>",
            'Unsupported start tag "script" at byte offset 12',
        ),
        ("trade < $1 billion", 'Unsupported start tag "" at byte offset 6'),
        ("Procter & Gamble", 'bare "&"'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ],
)
async def test_invalid_html_is_refused_and_nothing_is_sent(
    fake_bot: Bot, fake_telegram: FakeTelegram, html: str, reason: str
) -> None:
    with pytest.raises(BadRequest) as error:
        await fake_bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)

    # PTB strips the "Bad Request: " prefix from the description it raises.
    assert str(error.value).startswith("Can't parse entities")
    assert reason.lower() in str(error.value).lower()
    assert fake_telegram.messages(CHAT) == []


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("&amp;" * 4096, True),  # one character each after decoding
        ("&amp;" * 4097, False),
        ("😀" * 2048, True),  # outside the BMP: two UTF-16 code units each
        ("😀" * 2048 + "a", False),
    ],
)
async def test_length_is_counted_after_parsing_in_utf16_units(
    fake_bot: Bot, fake_telegram: FakeTelegram, text: str, accepted: bool
) -> None:
    if accepted:
        await fake_bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)
        assert len(fake_telegram.messages(CHAT)) == 1
    else:
        with pytest.raises(BadRequest, match="Message is too long"):
            await fake_bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)


async def test_text_empty_after_parsing_is_refused(fake_bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await fake_bot.send_message(CHAT, "<b> </b>\n", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("data", "accepted"),
    [("x" * 64, True), ("x" * 65, False), ("ж" * 32, True), ("ж" * 33, False)],
)
async def test_callback_data_is_limited_to_64_utf8_bytes(
    fake_bot: Bot, data: str, accepted: bool
) -> None:
    if accepted:
        await fake_bot.send_message(CHAT, "pick", reply_markup=keyboard(data))
    else:
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await fake_bot.send_message(CHAT, "pick", reply_markup=keyboard(data))


async def test_url_button_needs_a_usable_url(fake_bot: Bot) -> None:
    good = InlineKeyboardMarkup([[InlineKeyboardButton("open", url="https://example.org/a")]])
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("open", url="example.org/a")]])

    await fake_bot.send_message(CHAT, "ok", reply_markup=good)
    with pytest.raises(BadRequest, match="Button_url_invalid"):
        await fake_bot.send_message(CHAT, "no", reply_markup=bad)


async def test_edit_applies_and_identical_edit_is_not_modified(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await fake_bot.send_message(
        CHAT, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard("a")
    )

    edited = await fake_bot.edit_message_text(
        "<b>v2</b>", CHAT, sent.message_id, parse_mode="HTML", reply_markup=keyboard("a")
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        # Same text and entities spelled differently is still the same message.
        await fake_bot.edit_message_text(
            "<strong>v2</strong>",
            CHAT,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("a"),
        )

    assert isinstance(edited, Message) and edited.edit_date is not None
    assert [m.text for m in fake_telegram.messages(CHAT)] == ["v2"]
    assert fake_telegram.last_message(CHAT).html == "<b>v2</b>"


async def test_edit_without_markup_removes_the_keyboard(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await fake_bot.send_message(CHAT, "v1", reply_markup=keyboard("a"))

    await fake_bot.edit_message_text("v2", CHAT, sent.message_id)

    assert fake_telegram.last_message(CHAT).buttons == []


async def test_edit_reply_markup_and_errors_on_unknown_messages(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await fake_bot.send_message(CHAT, "v1", reply_markup=keyboard("a"))

    await fake_bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await fake_bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await fake_bot.edit_message_text("x", CHAT, 999)

    assert fake_telegram.last_message(CHAT).buttons[0][0].callback_data == "b"


async def test_delete_hides_the_message_and_twice_is_an_error(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await fake_bot.send_message(CHAT, "gone soon")

    assert await fake_bot.delete_message(CHAT, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await fake_bot.delete_message(CHAT, sent.message_id)

    assert fake_telegram.messages(CHAT) == []
    assert [m.deleted for m in fake_telegram.messages(CHAT, include_deleted=True)] == [True]


async def test_markdown_is_refused_by_the_fake(fake_bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await fake_bot.send_message(CHAT, "*x*", parse_mode=ParseMode.MARKDOWN_V2)


async def test_channel_is_reachable_by_its_username(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_chat(-1001234567890, "channel", title="CA news", username="@ca_news")

    sent = await fake_bot.send_message("@ca_news", "post")

    assert sent.chat.id == -1001234567890
    assert sent.sender_chat is not None and sent.sender_chat.id == -1001234567890
    assert [m.text for m in fake_telegram.messages(-1001234567890)] == ["post"]


async def test_reply_to_a_missing_message_fails_unless_allowed(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_user_message(CHAT, "/start")
    (asked,) = await fake_bot.get_updates(timeout=0)
    assert asked.message is not None

    await asked.message.reply_text("answer", do_quote=True)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await fake_bot.send_message(CHAT, "to nothing", reply_to_message_id=999)
    await fake_bot.send_message(
        CHAT, "anyway", reply_to_message_id=999, allow_sending_without_reply=True
    )

    assert [m.text for m in fake_telegram.messages(CHAT)] == ["answer", "anyway"]
