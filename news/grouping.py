"""The grouping decider: which open event a newly labelled item belongs to.

Pure and incremental (the lemon24/reader idea of a decider apart from the I/O): the live
pipeline loads the recent `EventState`s from the database, builds a `Grouper`, feeds it one
`Candidate` per positive item in publication order and stores what `assign` returns.

The rule, in order:
1. Same country set (a report that also names a third party joins only on strong content).
2. Compatible type: a visit, the talks held during it and the documents signed during it are
   one event, so visit/meeting/agreement are mutually compatible; a call only joins a call.
3. Overlapping time, on the *event's* date: a date stated in the text ("on 5-6 January",
   "yesterday") is trusted to a day; without one, the event happened in the few days before
   publication. An announcement weeks ahead therefore meets the report made on the day.
4. Content: shared officials, place, figures, document kinds and, within one language,
   content words. These break ties, keep apart a Monday meeting and a Friday signing of the
   same pair, and let a late undated recap join when the content clearly agrees.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from news.records import EventType

# How far before its publication an undated report's event may lie (reports come the same
# day or the next; a weekend delays some).
UNDATED_LOOKBACK = timedelta(days=2)
# The longest an event's window may grow by joins (a state visit lasts two or three days).
MAX_EVENT_SPAN = timedelta(days=3)
# A stated date is trusted to a day either way: time zones and "overnight" reporting.
DATE_TOLERANCE = timedelta(days=1)
# An undated recap may come this long after the event, but only with strong content.
LATE_RECAP = timedelta(days=10)
# One report naming a third party must be backed by content (officials, place, words) to join.
PAIR_MISMATCH = 2.5
MAX_KEY_CHARS = 24
MAX_TOKENS = 300  # per event: enough for a few reports, bounded for storage

_TYPE_CODE: dict[str, str] = {
    "visit": "visit",
    "meeting": "talks",
    "call": "call",
    "agreement": "agr",
    "none": "none",
}
# Visit, talks and signing of one trip are one event; a call is a different thing.
_FAMILY: dict[str, str] = {"visit": "trip", "meeting": "trip", "agreement": "trip", "call": "call"}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A positive item reduced to what grouping needs (language-neutral where possible)."""

    item_id: str
    published: datetime | None
    countries: tuple[str, ...]  # sorted ISO codes
    event_type: EventType
    event_start: date  # the stated event date, else the publication date
    event_end: date
    date_stated: bool  # True when the date comes from the text, not from publication
    officials: tuple[str, ...] = ()  # "KZ:kz-tokayev"
    place: str | None = None  # language-neutral place key, e.g. "TJ:dushanbe"
    numbers: tuple[str, ...] = ()  # normalised figures: "1000000000", "15"
    documents: tuple[str, ...] = ()  # canonical kinds: "agreement", "memorandum", ...
    tokens: tuple[str, ...] = ()  # "en:dushanb": content stems, prefixed by language
    # An announcement with no day: its window is the weeks ahead, and no day is the event's.
    announced: bool = False
    # An undated report of an arrival or a visit's start: its publication day is a day of
    # the visit (a recap's is not).
    arrival: bool = False


@dataclass(frozen=True, slots=True)
class EventState:
    """An open event as the storage layer persists it: plain values only."""

    key: str
    pair: tuple[str, ...]
    event_type: str  # the type of the first report; a visit absorbs talks and signings
    start: date
    end: date
    date_stated: bool
    last_published: date
    members: int = 1
    officials: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    announced: bool = False  # only announcements with no day have reported it so far
    arrival: bool = False  # an undated arrival report gave it its (unstated) days

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        for name in ("start", "end", "last_published"):
            data[name] = data[name].isoformat()
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EventState:
        data = json.loads(text)
        for name in ("start", "end", "last_published"):
            data[name] = date.fromisoformat(data[name])
        for name in ("pair", "officials", "places", "numbers", "documents", "tokens"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)


def compatible_types(a: str, b: str) -> bool:
    """True when reports of type `a` and `b` may describe one event."""
    family_a, family_b = _FAMILY.get(a), _FAMILY.get(b)
    return family_a is not None and family_a == family_b


def _published_day(candidate: Candidate) -> date:
    return candidate.published.date() if candidate.published else candidate.event_end


def _window(start: date, end: date, stated: bool) -> tuple[date, date]:
    """The days the event may fall on, given how its date was learnt."""
    if stated:
        return start - DATE_TOLERANCE, end + DATE_TOLERANCE
    return start - UNDATED_LOOKBACK, end


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _shared(a: Iterable[str], b: Iterable[str]) -> int:
    return len(set(a) & set(b))


def _officials_clash(mine: Iterable[str], theirs: Iterable[str]) -> bool:
    """True when, for one country, both name its officials and no one is named by both."""
    by_country: dict[str, tuple[set[str], set[str]]] = {}
    for side, officials in enumerate((mine, theirs)):
        for official in officials:
            by_country.setdefault(official.split(":")[0], (set(), set()))[side].add(official)
    return any(a and b and not a & b for a, b in by_country.values())


def content_score(candidate: Candidate, event: EventState) -> float:
    """How much the candidate's content agrees with the event (negative when it clashes)."""
    score = 0.0
    if candidate.officials and event.officials:
        if _officials_clash(candidate.officials, event.officials):
            # Japarov's call with Putin and his call with Mishustin the same day: one side's
            # officials differ entirely, so these are two events.
            score -= 1.5
        else:
            score += 1.5 if _shared(candidate.officials, event.officials) else -1.0
    if candidate.place and event.places:
        score += 1.0 if candidate.place in event.places else -1.0
    if _shared(candidate.numbers, event.numbers):
        score += 1.0
    if _shared(candidate.documents, event.documents):
        score += 0.5
    if candidate.tokens:
        languages = {e[:3] for e in event.tokens}
        same_language = [t for t in candidate.tokens if t[:3] in languages]
        if len(same_language) >= 3:
            # Containment rather than Jaccard: the event's vocabulary grows with each report.
            found = _shared(same_language, event.tokens) / len(set(same_language))
            score += 3.0 * found - 0.6
    return score


def match_score(candidate: Candidate, event: EventState) -> float | None:
    """The score of joining `event`, or None when a hard rule keeps them apart."""
    penalty = _pair_penalty(candidate.countries, event.pair)
    if penalty is None:
        return None
    if not compatible_types(candidate.event_type, event.event_type):
        return None
    if candidate.event_type == "call" and _officials_clash(candidate.officials, event.officials):
        return None  # a call has one person on each side: another person, another call
    cand = _window(candidate.event_start, candidate.event_end, candidate.date_stated)
    known = _window(event.start, event.end, event.date_stated)
    content = content_score(candidate, event)
    if candidate.published is None and not candidate.date_stated:
        # No time at all (an undated item in an offline file): only content can tell.
        return content - penalty - 1.0 if content - penalty >= 3.5 else None
    if _overlap(cand, known):
        bonus = 1.0 if candidate.date_stated and event.date_stated else 0.0
        if candidate.event_type == event.event_type:
            bonus += 0.5
        # Overlapping days make one event likely; a clash of content (other officials, another
        # city, other words) can still keep two apart, more easily when no date was stated.
        stated = 1.0 if candidate.date_stated or event.date_stated else 0.0
        return content + bonus + stated - penalty
    late = not candidate.date_stated and event.end < _published_day(candidate) <= (
        event.end + LATE_RECAP
    )
    if late and content - penalty >= 2.5:
        return content - penalty - 1.0
    return None


def _pair_penalty(countries: tuple[str, ...], pair: tuple[str, ...]) -> float | None:
    """0 for the same parties; a cost when one report names a third party the other does not
    (a trilateral mention, or a classifier that missed one); None for another pair."""
    mine, theirs = set(countries), set(pair)
    if mine == theirs:
        return 0.0
    if (mine <= theirs or theirs <= mine) and len(mine & theirs) >= 2:
        return PAIR_MISMATCH
    return None


def _ascii_pair(pair: tuple[str, ...]) -> str:
    codes = [c for c in pair if c.isascii() and c.isalnum()] or ["XX"]
    return "-".join(codes[:2]) + ("+" if len(codes) > 2 else "")


def make_key(pair: tuple[str, ...], day: date, event_type: str, taken: set[str]) -> str:
    """A short ASCII key such as "KZ-TJ-2021-05-19-visit", with "-2", "-3"... when taken."""
    code = _TYPE_CODE.get(event_type, "ev")
    base = f"{_ascii_pair(pair)}-{day.isoformat()}-{code}"
    if len(base) + 2 > MAX_KEY_CHARS:
        base = f"{_ascii_pair(pair)}-{day:%Y%m%d}-{code}"
    if base not in taken:
        return base
    suffixes = [str(n) for n in range(2, 10)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    for suffix in suffixes:
        key = f"{base}-{suffix}"
        if key not in taken:
            return key
    raise ValueError(f"more than {len(suffixes) + 1} events share the key {base}")


def _merge(old: tuple[str, ...], new: Iterable[str], cap: int = 64) -> tuple[str, ...]:
    merged = list(old)
    merged.extend(v for v in dict.fromkeys(new) if v not in set(old))
    return tuple(merged[:cap])


def _absorb(event: EventState, candidate: Candidate) -> EventState:
    """The event after `candidate` joined it: its window and features widen."""
    if event.announced and not candidate.announced and not candidate.date_stated:
        # The first report of the event itself: its day replaces the weeks announced.
        start, end, stated = candidate.event_start, candidate.event_end, False
    elif candidate.date_stated and not event.date_stated:
        # The stated days replace the publication days of undated reports, which may be
        # recaps published after the event ("held talks" on the 21st, "on 19 May" after).
        start, end, stated = candidate.event_start, candidate.event_end, True
        visit = "visit" in (event.event_type, candidate.event_type)
        if visit and event.arrival and event.start < start and end - event.start <= MAX_EVENT_SPAN:
            # An arrival reported on the day, then the talks dated the next: both days count.
            start = event.start
    elif not candidate.date_stated and candidate.event_start > event.end + UNDATED_LOOKBACK:
        # A late undated recap: its publication day says nothing about when the event was.
        start, end, stated = event.start, event.end, event.date_stated
    elif candidate.date_stated == event.date_stated:
        start = min(event.start, candidate.event_start)
        end = max(event.end, candidate.event_end)
        stated = event.date_stated
        if end - start > MAX_EVENT_SPAN:
            # Reports of one pair every day must not chain into one endless event.
            start, end = event.start, event.end
    else:
        start, end, stated = event.start, event.end, event.date_stated
    # A visit stays a visit when its talks are reported; talks become a visit when a later
    # report says it was one, so the alert shows the broader type.
    event_type = (
        "visit" if "visit" in (event.event_type, candidate.event_type) else event.event_type
    )
    return replace(
        event,
        event_type=event_type,
        start=start,
        end=end,
        date_stated=stated,
        announced=event.announced and candidate.announced,
        arrival=(event.arrival or candidate.arrival) and not stated,
        last_published=max(event.last_published, _published_day(candidate)),
        members=event.members + 1,
        officials=_merge(event.officials, candidate.officials),
        places=_merge(event.places, [candidate.place] if candidate.place else []),
        numbers=_merge(event.numbers, candidate.numbers),
        documents=_merge(event.documents, candidate.documents),
        tokens=_merge(event.tokens, candidate.tokens, MAX_TOKENS),
    )


class Grouper:
    """Holds the open events and assigns each new candidate to one of them or to a new one."""

    def __init__(self, events: Iterable[EventState] = ()) -> None:
        self._events: dict[str, EventState] = {e.key: e for e in events}

    @property
    def events(self) -> tuple[EventState, ...]:
        """The open events, in the order they were opened or loaded."""
        return tuple(self._events.values())

    def event(self, key: str) -> EventState:
        return self._events[key]

    def assign(self, candidate: Candidate) -> tuple[str, bool]:
        """The key of the event `candidate` reports, and whether that event is new."""
        best: tuple[float, str] | None = None
        for event in self._events.values():
            score = match_score(candidate, event)
            if score is not None and score >= 0.0 and (best is None or score > best[0]):
                best = (score, event.key)
        if best is not None:
            key = best[1]
            self._events[key] = _absorb(self._events[key], candidate)
            return key, False
        state = self._open(candidate)
        self._events[state.key] = state
        return state.key, True

    def _open(self, candidate: Candidate) -> EventState:
        key = make_key(
            candidate.countries, candidate.event_start, candidate.event_type, set(self._events)
        )
        return EventState(
            key=key,
            pair=tuple(candidate.countries),
            event_type=candidate.event_type,
            start=candidate.event_start,
            end=candidate.event_end,
            date_stated=candidate.date_stated,
            announced=candidate.announced,
            arrival=candidate.arrival,
            last_published=_published_day(candidate),
            officials=tuple(dict.fromkeys(candidate.officials)),
            places=(candidate.place,) if candidate.place else (),
            numbers=tuple(dict.fromkeys(candidate.numbers)),
            documents=tuple(dict.fromkeys(candidate.documents)),
            tokens=tuple(dict.fromkeys(candidate.tokens))[:MAX_TOKENS],
        )

    def reopen(self, events: Iterable[EventState]) -> None:
        """Open again events that were pruned (their newer state wins when still open)."""
        for event in events:
            self._events.setdefault(event.key, event)

    def prune(self, before: date) -> None:
        """Forget events whose last report is older than `before` (they can no longer grow)."""
        self._events = {k: e for k, e in self._events.items() if e.last_published >= before}
