"""Hostile feed bodies (issue 10), shared by the tests and by bench/hostile.py.

Each builder returns bytes as a hostile server would send them; sizes are parameters so the
tests use small, fast versions and the benchmark the full ones.
"""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime, timedelta

MiB = 1024 * 1024

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<rss version="2.0"><channel><title>Laughs</title>
<item><title>&g;</title><description>&g;&g;&g;&g;</description></item>
</channel></rss>
"""


def quadratic(
    codec: str = "utf-8", *, value_chars: int = 50_000, references: int = 2_000, bom: bool = False
) -> bytes:
    """One long entity referenced many times: "safe" by feedparser's rule, huge once expanded.

    Written without an XML declaration, so only a BOM or the HTTP charset tells the encoding.
    """
    text = (
        f'<!DOCTYPE rss [<!ENTITY x "{"x" * value_chars}">]>'
        '<rss version="2.0"><channel><title>Quadratic</title>'
        f"<item><title>q</title><description>{'&x;' * references}</description></item>"
        "</channel></rss>"
    )
    body = text.encode(codec)
    if bom:
        body = "\ufeff".encode(codec) + body
    return body


def entity_before_doctype(
    codec: str = "utf-8", *, value_chars: int = 10, references: int = 3, declaration: bool = True
) -> bytes:
    """An entity declared before the DOCTYPE (security review 3, finding 1).

    feedparser collects every `<!ENTITY` ahead of the first element wherever it sits and
    puts the "safe" ones back once a DOCTYPE exists, so its loose parser expands them.
    """
    head = f'<?xml version="1.0" encoding="{codec}"?>\n' if declaration else ""
    text = (
        f'{head}<!ENTITY a "{"A" * value_chars}">\n<!DOCTYPE rss>\n'
        '<rss version="2.0"><channel><title>Before</title>'
        f"<item><title>x</title><description>{'&a;' * references}</description></item>"
        "</channel></rss>"
    )
    return text.encode(codec)


def nested(size: int) -> bytes:
    """`size` bytes of ever deeper elements that never close: slow for the loose parser."""
    head = b'<rss version="2.0"><channel><title>Nested</title><item><title>n</title>'
    return head + b"<a>" * ((size - len(head)) // 3)


def unclosed(size: int) -> bytes:
    """`size` bytes of <item> tags that never close: each opens a new entry inside the last."""
    head = b'<rss version="2.0"><channel><title>Unclosed</title>'
    return head + b"<item><title>x" * ((size - len(head)) // 14)


def many_items(count: int, *, start: datetime | None = None, shuffle: bool = False) -> bytes:
    """A valid RSS feed of `count` small dated items (newest first unless shuffled)."""
    start = start or datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    order = list(range(count))
    if shuffle:
        random.Random(3).shuffle(order)
    # Compact, so 85,000 of them stay under the fetcher's 10 MiB cap and reach the parser.
    entries = "".join(
        f'<item><title>{n}</title><guid isPermaLink="false">i{n}</guid>'
        f"<pubDate>{email.utils.format_datetime(start - timedelta(minutes=n))}</pubDate></item>"
        for n in order
    )
    return (
        '<rss version="2.0"><channel><title>Many</title><link>https://many.example/</link>'
        f"{entries}</channel></rss>"
    ).encode()


def random_bytes(size: int, seed: int = 11) -> bytes:
    return random.Random(seed).randbytes(size)


HTML = b"""<!DOCTYPE html><html><head><title>Not a feed</title></head>
<body><h1>Welcome</h1><p>Nothing to see.</p></body></html>"""
