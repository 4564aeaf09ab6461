"""Telegram's HTML parse mode as the fake implements it (no server needed)."""

from __future__ import annotations

import pytest

from tests.fakebot.html import Entity, EntityParseError, parse_html, strip_text, utf16_len


def test_plain_text_and_entities_in_utf16_units() -> None:
    parsed = parse_html("😀 <b>bold</b> <i>it</i>")

    assert parsed.text == "😀 bold it"
    # The emoji outside the BMP takes two UTF-16 code units, as in Telegram's offsets.
    assert parsed.entities == (Entity("bold", 3, 4), Entity("italic", 8, 2))


def test_every_supported_tag_gives_its_entity() -> None:
    source = (
        "<b>b</b><strong>b</strong><i>i</i><em>i</em><u>u</u><ins>u</ins><s>s</s>"
        "<strike>s</strike><del>s</del><tg-spoiler>x</tg-spoiler>"
        '<span class="tg-spoiler">x</span><a href="https://example.org/?a=1&amp;b=2">l</a>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code>'
        "<blockquote>q</blockquote><blockquote expandable>e</blockquote>"
    )
    kinds = [(e.type, e.url, e.custom_emoji_id) for e in parse_html(source).entities]

    assert kinds == [
        ("bold", None, None),
        ("bold", None, None),
        ("italic", None, None),
        ("italic", None, None),
        ("underline", None, None),
        ("underline", None, None),
        ("strikethrough", None, None),
        ("strikethrough", None, None),
        ("strikethrough", None, None),
        ("spoiler", None, None),
        ("spoiler", None, None),
        ("text_link", "https://example.org/?a=1&b=2", None),
        ("custom_emoji", None, "5368324170671202286"),
        ("code", None, None),
        ("blockquote", None, None),
        ("expandable_blockquote", None, None),
    ]


def test_pre_with_nested_code_is_one_pre_entity_with_language() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre>')

    assert parsed.entities == (Entity("pre", 0, 5, language="python"),)


def test_entities_and_numeric_references_decode_to_one_character() -> None:
    parsed = parse_html("&lt;a&gt; &amp; &quot;q&quot; &#39; &#x27; &#128512;")

    assert parsed.text == "<a> & \"q\" ' ' 😀"


def test_tags_are_case_insensitive_and_nesting_is_kept() -> None:
    parsed = parse_html("<B>bold <I>both</I></B>")

    assert parsed.text == "bold both"
    assert parsed.entities == (Entity("bold", 0, 9), Entity("italic", 5, 4))


def test_link_with_unusable_href_keeps_text_but_no_entity() -> None:
    assert parse_html('<a href="javascript:alert(1)">x</a>').entities == ()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Hello, world<script>x</script>", 'Unsupported start tag "script" at byte offset 12'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Ähm <br>", 'Unsupported start tag "br" at byte offset 5'),
        ("AT&T", 'bare "&" at byte offset 2'),
        ("&nbsp;", 'bare "&" at byte offset 0'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<a href=https://x.org>x</a>", 'attribute "href" of the tag "a" must be quoted'),
        ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier"),
        ('<a href="x&y">x</a>', 'bare "&" at byte offset 10'),
        ('<a ="x">x</a>', 'Empty attribute name in the tag "a"'),
    ],
)
def test_invalid_html_is_refused_with_telegrams_reason(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as error:
        parse_html(source)

    assert str(error.value).startswith("can't parse entities: ")
    assert message in str(error.value)


def test_strip_trims_whitespace_and_moves_entities() -> None:
    stripped = strip_text(parse_html("\n  <b>hi</b> there \n"))

    assert stripped.text == "hi there"
    assert stripped.entities == (Entity("bold", 0, 2),)


def test_utf16_len_counts_astral_characters_twice() -> None:
    assert utf16_len("a😀б") == 4
