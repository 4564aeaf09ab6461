"""Exceptions of the feed-ingestion core: one root, `FeedError`, so callers can catch it once."""

from __future__ import annotations


class FeedError(Exception):
    """Root of every error raised by the feed-ingestion core."""


class UnsafeURLError(FeedError):
    """The URL is not allowed: bad scheme, credentials, or a non-public address (SSRF guard)."""


class UnresolvableHostError(FeedError):
    """The feed's host name does not resolve (DNS failure)."""


class FeedParseError(FeedError):
    """The body could not be turned into a feed."""


class EntityDeclarationError(FeedParseError):
    """The body declares XML entities; refused before parsing (billion laughs)."""


class NotAFeedError(FeedParseError):
    """The body is not a feed: an HTML page, no recognisable format, or no entries."""


class OpmlError(FeedError):
    """An OPML document could not be read."""


class ParseLimitError(FeedParseError):
    """Parsing the feed ran over its time or memory limit; the worker process was replaced."""
