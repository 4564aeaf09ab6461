"""Telegram's HTML parse mode, as strict as the real server and a little stricter.

Modelled on tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp): the same supported tags,
the same error texts and UTF-8 byte offsets, entities measured in UTF-16 code units. Two
deliberate differences make the fake catch escaping bugs the real server would forgive: a bare
``&`` that does not start ``&lt; &gt; &amp; &quot;`` or a numeric reference is an error (Telegram
keeps it literally), and attribute values must be quoted (Telegram accepts bare name tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

# Tag name -> entity type; span and blockquote are refined by their attributes.
_TAG_ENTITY: dict[str, str] = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_SPACE = " \t\r\n\f\v"
PARSE_ERROR_PREFIX = "can't parse entities: "


class EntityParseError(ValueError):
    """Not valid Telegram HTML; str() is Telegram's description after "Bad Request: "."""


@dataclass(frozen=True, slots=True)
class Entity:
    """A MessageEntity as Telegram returns it: offset and length in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "custom_emoji_id"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class FormattedText:
    """Plain text and its entities, what Telegram stores for a message."""

    text: str
    entities: tuple[Entity, ...] = ()


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters outside the BMP take two code units."""
    return len(text.encode("utf-16-le")) // 2


def is_valid_url(url: str) -> bool:
    """http(s) with a host, or a tg:// link: what Telegram accepts for buttons and links."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname) and " " not in url.strip()
    return parts.scheme == "tg" and bool(parts.netloc or parts.path)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _fail(message: str) -> EntityParseError:
    return EntityParseError(PARSE_ERROR_PREFIX + message)


def _decode_entity(source: str, i: int) -> tuple[str, int]:
    """The character a reference at source[i] == "&" stands for, and the index after it."""
    match = _ENTITY_RE.match(source, i)
    if match is None:
        raise _fail(f'bare "&" at byte offset {_byte_offset(source, i)}; escape it as "&amp;"')
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_ENTITIES[named], match.end()
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _fail(f"invalid character reference at byte offset {_byte_offset(source, i)}")
    return chr(code), match.end()


def _read_attributes(source: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Attributes of a start tag from source[i] up to ">"; returns them and the index of ">"."""
    attributes: dict[str, str] = {}
    n = len(source)
    while True:
        while i < n and source[i] in _SPACE:
            i += 1
        if i >= n:
            raise _fail(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        if source[i] == ">":
            return attributes, i
        name_start = i
        while i < n and source[i] not in _SPACE and source[i] not in "=>":
            i += 1
        name = source[name_start:i].lower()
        if not name:
            offset = _byte_offset(source, begin)
            raise _fail(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while i < n and source[i] in _SPACE:
            i += 1
        if i >= n or source[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attributes[name] = ""
                continue
            raise _fail(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(source, begin)}"
            )
        i += 1
        while i < n and source[i] in _SPACE:
            i += 1
        if i >= n or source[i] not in "\"'":
            raise _fail(
                f'attribute "{name}" of the tag "{tag}" must be quoted '
                f"at byte offset {_byte_offset(source, i)}"
            )
        quote = source[i]
        i += 1
        value: list[str] = []
        while i < n and source[i] != quote:
            if source[i] == "&":
                char, i = _decode_entity(source, i)
                value.append(char)
            else:
                value.append(source[i])
                i += 1
        if i >= n:
            raise _fail(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        attributes[name] = "".join(value)
        i += 1


def _tag_argument(tag: str, attributes: dict[str, str], source: str, begin: int) -> str:
    """The one attribute each tag cares about, checked as Telegram checks it."""
    if tag == "a":
        return attributes.get("href", "")
    if tag == "code":
        css = attributes.get("class", "")
        return css.removeprefix("language-") if css.startswith("language-") else ""
    if tag == "span":
        if attributes.get("class") != "tg-spoiler":
            raise _fail(
                'Tag "span" must have class "tg-spoiler" '
                f"at byte offset {_byte_offset(source, begin)}"
            )
        return ""
    if tag == "tg-emoji":
        emoji_id = attributes.get("emoji-id", "")
        if not emoji_id.isdigit() or int(emoji_id) == 0:
            raise _fail("Invalid custom emoji identifier specified")
        return emoji_id
    if tag == "blockquote":
        return "expandable" if "expandable" in attributes else ""
    return ""


def _make_entity(tag: _OpenTag, end: int) -> Entity | None:
    """The entity a closed tag produces, or None (empty span, link without a valid URL)."""
    length = end - tag.utf16_offset
    if length <= 0:
        return None
    kind = _TAG_ENTITY[tag.name]
    if kind == "text_link":
        # Telegram silently drops a link whose href it cannot use; the text stays.
        if not is_valid_url(tag.argument):
            return None
        return Entity(kind, tag.utf16_offset, length, url=tag.argument)
    if kind == "custom_emoji":
        return Entity(kind, tag.utf16_offset, length, custom_emoji_id=tag.argument)
    if kind == "code" and tag.argument:
        return Entity(kind, tag.utf16_offset, length, language=tag.argument)
    if kind == "blockquote" and tag.argument:
        return Entity("expandable_blockquote", tag.utf16_offset, length)
    return Entity(kind, tag.utf16_offset, length)


def _close_pre(entities: list[Entity], pre: Entity) -> None:
    """<pre><code class="language-x">…</code></pre> is one pre entity with a language."""
    if entities:
        last = entities[-1]
        same_span = (last.offset, last.length) == (pre.offset, pre.length)
        if last.type == "code" and same_span:
            entities[-1] = replace(pre, language=last.language)
            return
    entities.append(pre)


class _Parser:
    """One pass over the source, producing plain text and entities or an EntityParseError."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.text: list[str] = []
        self.utf16 = 0
        self.open: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def append(self, char: str) -> None:
        self.text.append(char)
        self.utf16 += 2 if ord(char) > 0xFFFF else 1

    def run(self) -> FormattedText:
        source, i = self.source, 0
        while i < len(source):
            char = source[i]
            if char == "&":
                decoded, i = _decode_entity(source, i)
                self.append(decoded)
            elif char == "<":
                i = self.end_tag(i) if source.startswith("</", i) else self.start_tag(i)
            else:
                self.append(char)
                i += 1
        if self.open:
            raise _fail(f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"')
        ordered = sorted(self.entities, key=lambda e: (e.offset, -e.length))
        return FormattedText("".join(self.text), tuple(ordered))

    def start_tag(self, begin: int) -> int:
        source, i = self.source, begin + 1
        while i < len(source) and source[i] not in _SPACE and source[i] != ">":
            i += 1
        name = source[begin + 1 : i].lower()
        if name not in _TAG_ENTITY:
            raise _fail(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, begin)}'
            )
        if i >= len(source):
            raise _fail(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        attributes, i = _read_attributes(source, i, name, begin)
        argument = _tag_argument(name, attributes, source, begin)
        self.open.append(_OpenTag(name, argument, self.utf16))
        return i + 1

    def end_tag(self, begin: int) -> int:
        source, i = self.source, begin + 2
        offset = _byte_offset(source, begin)
        if not self.open:
            raise _fail(f"Unexpected end tag at byte offset {offset}")
        while i < len(source) and source[i] not in _SPACE and source[i] != ">":
            i += 1
        name = source[begin + 2 : i].lower()
        while i < len(source) and source[i] in _SPACE:
            i += 1
        if i >= len(source) or source[i] != ">":
            raise _fail(f"Unclosed end tag at byte offset {offset}")
        tag = self.open.pop()
        if name and name != tag.name:
            raise _fail(
                f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", '
                f'found "</{name}>"'
            )
        entity = _make_entity(tag, self.utf16)
        if entity is not None and entity.type == "pre":
            _close_pre(self.entities, entity)
        elif entity is not None:
            self.entities.append(entity)
        return i + 1


def parse_html(source: str) -> FormattedText:
    """Plain text and entities of an HTML-formatted message; EntityParseError if invalid."""
    return _Parser(source).run()


def strip_text(formatted: FormattedText) -> FormattedText:
    """Trim leading and trailing whitespace as Telegram does, keeping entities on their text."""
    text = formatted.text
    stripped = text.strip(_SPACE)
    if stripped == text:
        return formatted
    shift = utf16_len(text[: len(text) - len(text.lstrip(_SPACE))])
    size = utf16_len(stripped)
    entities: list[Entity] = []
    for entity in formatted.entities:
        start = max(entity.offset - shift, 0)
        end = min(entity.offset + entity.length - shift, size)
        if end > start:
            entities.append(replace(entity, offset=start, length=end - start))
    return FormattedText(stripped, tuple(entities))
