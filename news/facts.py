"""Facts a report states: the event's date, its place, what was signed, sectors, figures.

Nothing is invented: every fact is a span of the title or text (the place is given in its
dictionary form from the gazetteer, as the text names it). Dates are resolved against the
publication time; the year rule is kept simple on purpose:
- a year in the text wins;
- otherwise the publication year, except that an announcement (a future verb in the same
  sentence) naming a month earlier than the publication month means next year, and a past
  report naming a date more than two months after publication means last year;
- dates further than `MAX_PAST` before or `MAX_AHEAD` after publication are background
  ("signed in 2015"), not the event's date.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache

from news import data
from news.errors import FeedError

# The records and the month names live in light modules of their own, so that rendering an
# event (bot.render: `coopwatch export`, alerts) does not compile this module's patterns
# (issue 14). Re-exported here for the pipeline, the grouping and the tests.
from news.months import EN_MONTHS as EN_MONTHS
from news.months import RU_MONTHS_GENITIVE as RU_MONTHS_GENITIVE
from news.months import RU_MONTHS_PREPOSITIONAL, RU_MONTHS_SHORT
from news.patterns import guarded
from news.records import Facts as Facts
from news.records import Figure as Figure

MAX_PAST = timedelta(days=31)
MAX_AHEAD = timedelta(days=120)
_LEAD_CHARS = 1500  # the event's date and place are named near the top of a report

_RU_ABBREVIATIONS = tuple(m for m in RU_MONTHS_SHORT if m != "май")
_MONTH = (
    {m: i + 1 for i, m in enumerate(EN_MONTHS)}
    | {m[:3]: i + 1 for i, m in enumerate(EN_MONTHS)}
    | {"sept": 9}
    | {m: i + 1 for i, m in enumerate(RU_MONTHS_GENITIVE)}
    | {m: RU_MONTHS_SHORT.index(m) + 1 for m in _RU_ABBREVIATIONS}
    | {"сент": 9, "нояб": 11}
)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


_EN_M = (
    r"(?P<m>"
    + "|".join(
        [
            *EN_MONTHS,
            "jan",
            "feb",
            "mar",
            "apr",
            "jun",
            "jul",
            "aug",
            "sept",
            "sep",
            "oct",
            "nov",
            "dec",
        ]
    )
    + r")\.?"
)
_RU_M = (
    r"(?P<m>" + "|".join([*RU_MONTHS_GENITIVE, "сент", "нояб", *_RU_ABBREVIATIONS]) + r")\.?(?!\w)"
)
_RANGE = r"(?:\s*(?:-|–|—|to|and|through|по|и|\s)\s*(?P<d2>\d{1,2})(?:st|nd|rd|th)?)?"
_YEAR = r"(?:,?\s+(?P<y>(?:19|20)\d\d)(?:\s*(?:года|г\.))?)?"
_DATE_PATTERNS = (
    guarded(r"\b" + _EN_M + r"\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?" + _RANGE + _YEAR + r"\b", re.I),
    re.compile(
        r"\b(?P<d1>\d{1,2})(?:st|nd|rd|th)?" + _RANGE + r"\s+(?:of\s+)?" + _EN_M + _YEAR, re.I
    ),
    re.compile(r"(?<!\w)(?:с\s+)?(?P<d1>\d{1,2})" + _RANGE + r"\s+" + _RU_M + _YEAR, re.I),
    guarded(r"\b(?P<y>(?:19|20)\d\d)-(?P<mm>\d\d)-(?P<d1>\d\d)\b"),
    re.compile(r"\b(?P<d1>\d{1,2})\.(?P<mm>\d\d)\.(?P<y>(?:19|20)\d\d)\b"),
)
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "понедельник": 0,
    "вторник": 1,
    "среду": 2,
    "четверг": 3,
    "пятницу": 4,
    "субботу": 5,
    "воскресенье": 6,
}
_RELATIVE = guarded(
    r"\b(?P<w>day after tomorrow|послезавтра|позавчера|today|tonight|сегодня|yesterday|вчера"
    r"|tomorrow|завтра|(?:next|last|this) week|на (?:следующей|будущей|прошлой|этой) неделе"
    r"|(?:on |в(?:о)? )(?:" + "|".join(_WEEKDAYS) + r"))\b",
    re.I,
)
_DAY_OFFSET = {
    "today": 0,
    "tonight": 0,
    "сегодня": 0,
    "yesterday": -1,
    "вчера": -1,
    "tomorrow": 1,
    "завтра": 1,
    "day after tomorrow": 2,
    "послезавтра": 2,
    "позавчера": -2,
}
_WEEK_OFFSET = {
    "next week": 1,
    "на следующей неделе": 1,
    "на будущей неделе": 1,
    "last week": -1,
    "на прошлой неделе": -1,
    "this week": 0,
    "на этой неделе": 0,
}
# "…, the ministry reported today": that "today" dates the report, not the event.
_REPORTING_BEFORE = re.compile(
    r"(?:reported|said|announced|reports|says|affirmed|confirmed|stated|told|сообщил[аи]?"
    r"|сообщает|заявил[аи]?|подтвердил[аи]?)\s*$",
    re.I,
)
_FUTURE = guarded(
    r"\b(?:will|shall|is to|are to|to visit|to pay|is expected|are expected|is scheduled|"
    r"plans? to|upcoming|forthcoming|will be|будет|будут|состоится|посетит|совершит|проведут|"
    r"проведет|проведёт|пройд[её]т|подпишут|встретится|отправится|прибудет|приедет|приедут|"
    r"прилетит|прилетят|нанес[её]т|планиру\w+|намерен\w*|"
    r"ожида\w+|предстоящ\w+|готови\w+|готовится|preparing|prepares|in preparation)\b",
    re.I,
)
# "…discussed the SCO summit, which will take place on 31 August": a date in a relative
# clause belongs to the other event the clause describes.
_OTHER_EVENT_BEFORE = re.compile(
    r"(?:котор\w+|где)\s+(?:\w+\s+){0,3}?(?:состоится|состоятся|пройд[её]т|пройдут|"
    r"будет проходить|будет|запланирован\w*)\s+(?:[^,.;]{0,40}\s)?$"
    r"|(?:which|that|where)\s+(?:will|is to|is due to|is scheduled to)\s+"
    r"(?:take place|be held|open|run)\s+(?:[^,.;]{0,40}\s)?$",
    re.I,
)
# "…, сообщили сегодня в МИД": a reporting verb right after "today" dates the report.
_REPORTING_AFTER = re.compile(
    r"^\s*(?:reported|said|announced|сообщил\w*|заявил\w*|переда[её]т|информиру\w+)\b", re.I
)
# A past-tense sentence that reports the event itself ("arrived", "held talks", "прибыл"):
# once the lead has one, a later sentence about the programme ahead ("on Wednesday he will
# hold talks") says what comes next, not when the event began.
_PAST_EVENT = guarded(
    r"\b(?:arrived|began|started|held|met|signed|paid|visited|прибыл\w*|начал\w*|"
    r"провел\w*|провёл\w*|встретил\w*|подписал\w*|посетил\w*|состоял\w*)\b",
    re.I,
)
# The report of a visit's first day: "arrived in Tashkent", "began a state visit", "прибыл",
# "находится с официальным визитом". Not a recap ("paid a visit", "held talks").
_ARRIVAL = guarded(
    r"\b(?:arrived|arrives|has arrived|landed|(?:began|begins|started|starts|kicked off|"
    r"embarked on)\s+(?:\w+\s+){0,3}?(?:visit|trip|tour)|is on an?\s+(?:\w+\s+)?visit|"
    r"прибыл\w*|прилетел\w*|(?:начал\w*|стартовал\w*)\s+(?:\w+\s+){0,3}?визит\w*|"
    r"находится\s+с\s+(?:\w+\s+){0,2}?визитом)\b",
    re.I,
)
# A dateline: a place (and a region) before the date, the agency or the lead after it.
# "Москва. 27 августа. INTERFAX.RU -", "TEHRAN, May 29 (MNA) –", "DUSHANBE, Tajikistan,
# January 4. In ...": that date is the report's, which publication already gives.
_DATELINE_BEFORE = re.compile(
    r"^\s*[A-ZА-ЯЁ][\w’'\-]+(?:\s+[\w’'\-]+)?(?:,\s*[A-Z][\w ]{2,20})?[,.]\s*$"
)
_DATELINE_AFTER = re.compile(r"^\s*[.,]?\s*(?:\(|/|—|–|-|[A-ZА-ЯЁ]{2,}|[A-ZА-ЯЁ][a-zа-яё])")
_SPAN_DAYS = timedelta(days=3)  # "arrived on Oct. 14 ... on Oct. 15 met": one visit
_SENTENCE_END = re.compile(r"[.!?…](?=\s+[A-ZА-ЯЁ«\"“])")

_DOCUMENTS = {
    "memorandum": r"memorand(?:um|a|ums)(?: of understanding)?|меморандум\w*",
    "roadmap": r"road ?maps?|дорожн\w+ карт\w*",
    "treaty": r"treat(?:y|ies)|договор(?:а|ов|ы|у)?",
    "protocol": r"protocols?|протокол\w*",
    "declaration": r"declarations?|joint statements?|деклараци\w+|совместн\w+ заявлени\w+",
    "programme": r"programmes?|programs?|action plans?|программ\w*|план\w* действий",
    "agreement": r"agreements?|accords?|соглашени\w+",
    "contract": r"contracts?|контракт\w*",
    "documents": r"documents?|документ\w*",
}
_DOCUMENT_RE = {kind: guarded(r"\b(?:" + p + r")\b", re.I) for kind, p in _DOCUMENTS.items()}
_SECTORS = guarded(
    r"\b(?:health ?care|public health|trade|energy|transport(?:ation)?|logistics|agricultur\w*|"
    r"education|culture|sports?|tourism|aerospace|space|infrastructure|investments?|security|"
    r"defen[cs]e|water(?: resources)?|customs|finance|banking|industr(?:y|ial cooperation)|"
    r"digital(?:isation|ization)?|science|migration|environment(?:al protection)?|mining|oil|"
    r"gas|railways?|aviation|foreign affairs|"
    r"здравоохранени\w+|торгов\w+|энергетик\w*|транспорт\w*|логистик\w*|сельск\w+ хозяйств\w+|"
    r"образовани\w+|культур\w+|спорт\w*|туризм\w*|космос\w*|космическ\w+|инфраструктур\w+|"
    r"инвестиц\w+|безопасност\w+|оборон\w+|водн\w+ ресурс\w+|таможен\w+|финанс\w+|"
    r"промышленност\w+|цифров\w+|наук\w+|миграци\w+|экологи\w+|горнодобыва\w+|нефт\w+|газ(?:а|у|ом)?|"
    r"железнодорожн\w+|авиаци\w+)\b",
    re.I,
)
_NUM = r"\d+(?:[.,]\d+)*(?:[  ]\d{3})*"
_SCALE = (
    r"(?:trillion|billion|million|thousand|bln|bn|mln|m|миллиард\w*|миллион\w*|тысяч\w*|"
    r"(?:трлн|млрд|млн|тыс)\.?)"
)
_CURRENCY = (
    r"(?:US\s?dollars|dollars|USD|euros?|EUR|yuan|rubles|roubles|tenge|soums?|somoni|"
    r"долл(?:ар\w*|\.)(?: США)?|евро|рубл\w*|юан\w*|тенге|сум\w*|сомони|сом\w*)"
)
_MONEY = re.compile(
    rf"(?:[$€£]\s?{_NUM}(?:\s*{_SCALE})?|(?:USD|EUR)\s?{_NUM}(?:\s*{_SCALE})?"
    rf"|{_NUM}(?:\s*{_SCALE})?\s*(?:[$€]|{_CURRENCY}))(?!\w)",
    re.I,
)
_COUNTED = (
    r"(?:documents?|agreements?|memorand(?:a|ums)|deals|contracts|roadmaps|treaties|"
    r"projects|документ\w*|соглашени\w*|меморандум\w*|контракт\w*|договор\w*|"
    r"проект\w*)"
)
_COUNTS = re.compile(rf"\b\d{{1,4}}\s+(?:\w+\s+)?{_COUNTED}\b", re.I)


_MEASURES = (
    (
        "trade",
        r"trade(?: turnover)?|turnover|товарооборот\w*|торгов\w+ оборот\w*|торговл\w+",
    ),
    ("investment", r"invest\w*|инвестиц\w+|вложени\w+"),
    ("loan", r"loans?|credits?|credit line|кредит\w*|за[её]м\w*"),
    ("contracts", r"contracts?|deals?|контракт\w*|сделк\w+"),
    ("agreements", r"agreements?|соглашени\w+"),
    ("projects", r"projects?|проект\w*"),
    ("exports", r"exports?|экспорт\w*"),
    ("imports", r"imports?|импорт\w*"),
)
_MEASURE_RE = tuple((name, guarded(r"\b(?:" + p + r")\b", re.I)) for name, p in _MEASURES)
# Words that make a figure a goal rather than an outcome.
_TARGET = guarded(
    r"\b(?:target\w*|goal|aim\w*|to reach|could reach|can reach|will reach|to bring|to boost|"
    r"to increase|to raise|to grow|plans?|planned|expected|projected|potential|could|would|will|"
    r"цел\w+|довести|достичь|нарастить|увеличить|планиру\w+|ожида\w+|намерен\w*|задач\w+|"
    r"может|могут|сможет|потенциал\w*)\b",
    re.I,
)
_PERIODS = (
    (
        "last year",
        r"last year|in the past year|в прошлом году|по итогам прошлого года|за прошлый год",
    ),
    ("this year", r"this year|в этом году|в текущем году|по итогам (?:этого|текущего) года"),
    (
        "since January",
        r"since the (?:start|beginning) of (?:the|this) year|с начала (?:этого )?года",
    ),
)
_PERIOD_RE = tuple((name, re.compile(p, re.I)) for name, p in _PERIODS)
_YEAR_PERIOD = guarded(
    r"(?<!\w)(in|by|for|by the end of|в|к|за|по итогам)\s+((?:19|20)\d\d)\b", re.I
)
# "by 2025", "к 2025 году": a deadline for a goal, not the year a sum was counted in.
_DEADLINE = {"by", "by the end of", "к"}
# Where one clause of a sentence ends and another begins: what a figure measures, and when,
# is read inside its own clause ("raise it to $2 billion by 2025; Kazakhstan will invest
# $500 million": the $2 billion is not an investment, the $500 million not for 2025).
_CLAUSE_BREAK = re.compile(r";|,\s+(?:and|but|while|whereas|а|и|но|тогда как|при этом)\s", re.I)
_CURRENCY_CODES = (
    ("USD", r"\$|US\s?dollars|dollars|USD|долл\w*"),
    ("EUR", r"€|euros?|EUR|евро"),
    ("CNY", r"yuan|юан\w*"),
    ("RUB", r"rubles|roubles|рубл\w*"),
    ("KZT", r"tenge|тенге"),
    ("UZS", r"soums?|сум\w*"),
    ("TJS", r"somoni|сомони"),
    ("KGS", r"som\b|сом\w*"),
)
_SCALE_VALUES = (
    (r"trillion|трлн|триллион", 10**12),
    (r"billion|bln|bn|млрд|миллиард", 10**9),
    (r"million|mln|m\b|млн|миллион", 10**6),
    (r"thousand|тыс", 10**3),
)


class FactsError(FeedError):
    """The gazetteer of places could not be read."""


def extract_facts(title: str, text: str, *, language: str, published: datetime | None) -> Facts:
    """The facts `title` and `text` state, with dates resolved against `published`."""
    lead = f"{title}.\n{text[:_LEAD_CHARS]}" if title.strip() else text[:_LEAD_CHARS]
    body = f"{title}.\n{text[:20_000]}"
    start, end, date_text = _event_date(lead, published.date() if published else None)
    place, place_country = _place(lead, language)
    documents, kinds = _documents(body)
    return Facts(
        event_date=start,
        event_end=end,
        date_text=date_text,
        place=place,
        place_country=place_country,
        documents=documents,
        document_kinds=kinds,
        sectors=_unique(m.group(0) for m in _SECTORS.finditer(body)),
        money=_unique(m.group(0).strip() for m in _MONEY.finditer(body)),
        counts=_unique(m.group(0) for m in _COUNTS.finditer(body)),
        figures=figures(body),
        visit_kind=_visit_kind(lead),
    )


# How specific a visit kind is: a report that says "state visit" beats one that says "visit".
_KIND_RANK = {"state": 3, "official": 2, "working": 1}
MERGED_TERMS = 12  # documents, sectors, sums, counts an event keeps from all its reports
MERGED_FIGURES = 6


def merge_facts(kept: Facts, joining: Facts) -> Facts:
    """What an event states once ``joining`` (a further report) adds to ``kept``.

    The details must not depend on which outlet was polled first: the more specific visit
    kind wins (state > official > working > plain visit); a place fills a gap; documents,
    sectors, sums and counts are the union, bounded; figures are merged by what they measure
    (a report's "trade $800 million" is not repeated by another's, a new noun is added).
    Dates are the grouper's business (its span), so ``kept``'s stay.
    """
    kind = max((kept.visit_kind, joining.visit_kind), key=lambda k: _KIND_RANK.get(k or "", 0))
    place, place_country = kept.place, kept.place_country
    if place is None:
        place, place_country = joining.place, joining.place_country
    return replace(
        kept,
        visit_kind=kind,
        place=place,
        place_country=place_country,
        documents=_unique((*kept.documents, *joining.documents))[:MERGED_TERMS],
        document_kinds=tuple(dict.fromkeys((*kept.document_kinds, *joining.document_kinds))),
        sectors=_unique((*kept.sectors, *joining.sectors))[:MERGED_TERMS],
        money=_unique((*kept.money, *joining.money))[:MERGED_TERMS],
        counts=_unique((*kept.counts, *joining.counts))[:MERGED_TERMS],
        figures=_merge_figures(kept.figures, joining.figures),
    )


def _merge_figures(kept: tuple[Figure, ...], joining: tuple[Figure, ...]) -> tuple[Figure, ...]:
    measures = {f.measure for f in kept if f.measure}
    sums = {(f.amount, f.currency) for f in kept if f.amount is not None}
    written = {f.written.lower() for f in kept}
    merged = list(kept)
    for figure in joining:
        if (
            figure.measure in measures
            or (figure.amount, figure.currency) in sums
            or figure.written.lower() in written
        ):
            continue  # the same noun, or the same sum under another noun: said already
        written.add(figure.written.lower())
        if figure.measure:
            measures.add(figure.measure)
        if figure.amount is not None:
            sums.add((figure.amount, figure.currency))
        merged.append(figure)
    return tuple(merged[:MERGED_FIGURES])


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return tuple(seen.values())


# _SENTENCE_END with its lookahead captured: where the capital that lets it end a sentence is.
_SENTENCE_END_AHEAD = re.compile(r"[.!?…](?=(\s+[A-ZА-ЯЁ«\"“]))")


class _Sentences:
    """The sentence around a position of one lead, and whether it is future, for many
    positions: the sentence ends are found once (a scan of the lead up to each date or verb
    was quadratic in a long lead) and each sentence's tense is read once.

    A position's sentence starts after the last ``_SENTENCE_END`` found in the text before
    it, i.e. whose look-ahead (the spaces and the capital) ends by the position, and ends
    with the first one at or after it (tests/news/test_patterns.py keeps the old reading).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._at: list[int] = []  # where each end's punctuation is
        self._reach: list[int] = []  # where its lookahead ends
        for m in _SENTENCE_END_AHEAD.finditer(text):
            self._at.append(m.start())
            self._reach.append(m.end(1))
        self._future: dict[tuple[int, int], bool] = {}

    def around(self, pos: int) -> tuple[int, int]:
        before = bisect.bisect_right(self._reach, pos)
        begin = self._at[before - 1] + 1 if before else 0
        after = bisect.bisect_left(self._at, pos)
        return begin, self._at[after] + 1 if after < len(self._at) else len(self.text)

    def sentence(self, pos: int) -> str:
        begin, end = self.around(pos)
        return self.text[begin:end]

    def is_future(self, pos: int) -> bool:
        """``_is_future`` of the sentence around ``pos``."""
        span = self.around(pos)
        future = self._future.get(span)
        if future is None:
            future = self._future[span] = _is_future(self.text[span[0] : span[1]])
        return future


def _event_date(lead: str, ref: date | None) -> tuple[date | None, date | None, str | None]:
    found: list[tuple[int, date, date, str, bool]] = []  # position, first, last, text, future
    sentences = _Sentences(lead)
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(lead):
            if _in_dateline(lead, m) or _OTHER_EVENT_BEFORE.search(
                lead[max(0, m.start() - 80) : m.start()]
            ):
                continue
            future = sentences.is_future(m.start())
            days = _resolve_absolute(m, ref, future)
            if days is not None:
                found.append((m.start(), days[0], days[1], m.group(0).strip(), future))
    if ref is not None:
        for m in _RELATIVE.finditer(lead):
            if _REPORTING_BEFORE.search(lead[max(0, m.start() - 20) : m.start()]):
                continue
            if _REPORTING_AFTER.match(lead[m.end() : m.end() + 30]):
                continue
            future = sentences.is_future(m.start())
            first, last = _resolve_relative(m.group("w").lower(), ref, future)
            found.append((m.start(), first, last, m.group(0), future))
    plausible = [f for f in found if ref is None or ref - MAX_PAST <= f[1] <= ref + MAX_AHEAD]
    reported = _first_past_event(lead, sentences)
    if reported is not None:
        plausible = [f for f in plausible if not (f[4] and f[0] > reported)]
    if not plausible:
        return None, None, None
    plausible.sort(key=lambda f: f[0])
    _, first, last, written, future = plausible[0]
    for _, other, other_last, _, other_future in plausible[1:]:
        # A later day of the same report's programme widens the span (arrival, then talks).
        if other_future == future and last < other <= first + _SPAN_DAYS:
            last = max(last, other_last)
    return first, last, written


def _in_dateline(lead: str, m: re.Match[str]) -> bool:
    line_start = lead.rfind("\n", 0, m.start()) + 1
    before = lead[line_start : m.start()]
    return bool(_DATELINE_BEFORE.match(before)) and bool(_DATELINE_AFTER.match(lead[m.end() :]))


def _first_past_event(lead: str, sentences: _Sentences) -> int | None:
    """Where the first sentence reporting the event in the past tense starts, if any."""
    for m in _PAST_EVENT.finditer(lead):
        if not sentences.is_future(m.start()):
            # the first place the sentence's text occurs (an earlier sentence may repeat it)
            return lead.find(sentences.sentence(m.start()))
    return None


def reports_arrival(title: str, text: str) -> bool:
    """True when the report's lead tells of an arrival or the start of a visit, as news.

    Such a report, published before the days another report states, dates the visit's
    first day; a recap published after them says nothing about the event's days.
    """
    lead = f"{title}.\n{text[:600]}"
    sentences = _Sentences(lead)
    return any(not sentences.is_future(m.start()) for m in _ARRIVAL.finditer(lead))


def _is_future(sentence: str) -> bool:
    return _FUTURE.search(sentence) is not None


def _resolve_absolute(m: re.Match[str], ref: date | None, future: bool) -> tuple[date, date] | None:
    groups = m.groupdict()
    if groups.get("m") == "may":
        return None  # the modal verb, not the month
    month = int(groups["mm"]) if groups.get("mm") else _MONTH.get(groups["m"].lower().rstrip("."))
    if month is None:
        return None
    if groups.get("y"):
        return _days(int(groups["y"]), month, groups)
    if ref is None:
        return None
    year = ref.year + (1 if future and month < ref.month else 0)
    span = _days(year, month, groups)
    if span and not future and span[0] > ref + timedelta(days=60):
        span = _days(year - 1, month, groups)
    if span and not ref - MAX_PAST <= span[0] <= ref + MAX_AHEAD:
        # The tense was missed ("пройдёт", "is set for"): the year nearest to publication.
        nearest = [_days(y, month, groups) for y in (ref.year - 1, ref.year + 1)]
        span = min((s for s in nearest if s), key=lambda s: abs(s[0] - ref), default=span)
    return span


def _days(year: int, month: int, groups: dict[str, str | None]) -> tuple[date, date] | None:
    try:
        first = date(year, month, int(groups["d1"] or 0))
        last = date(year, month, int(groups.get("d2") or groups["d1"] or 0))
    except ValueError:
        return None
    return first, max(first, last)


def _resolve_relative(word: str, ref: date, future: bool) -> tuple[date, date]:
    word = " ".join(word.split())
    if word in _DAY_OFFSET:
        day = ref + timedelta(days=_DAY_OFFSET[word])
        return day, day
    if word in _WEEK_OFFSET:
        monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=_WEEK_OFFSET[word])
        return monday, monday + timedelta(days=6)
    weekday = _WEEKDAYS[word.split()[-1]]
    # "on Monday" in a report means the last Monday; in an announcement, the next one.
    delta = (weekday - ref.weekday()) % 7 if future else -((ref.weekday() - weekday) % 7)
    day = ref + timedelta(days=delta)
    return day, day


def _documents(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    spans: list[tuple[int, str]] = []
    kinds: list[str] = []
    taken: set[int] = set()  # every position of a match kept (a list of spans was quadratic)
    for kind, pattern in _DOCUMENT_RE.items():
        for m in pattern.finditer(body):
            if m.start() in taken:
                continue  # "joint statement" is a declaration, not also a "statement"
            taken.update(range(m.start(), m.end()))
            spans.append((m.start(), m.group(0)))
            if kind not in kinds:
                kinds.append(kind)
    return _unique(s for _, s in sorted(spans)), tuple(kinds)


# --- announcements ---------------------------------------------------------------------------

ANNOUNCED_AHEAD = timedelta(days=21)  # "in the coming weeks", "soon": a visit within weeks
_SOON = guarded(
    r"\b(?:in the coming (?:days|weeks)|soon|shortly|в ближайш\w+ (?:дни|недели|время)|"
    r"в скором времени|совсем скоро|скоро|"
    r"в (?:начале|середине|конце) (?:этого |следующего )?месяца)\b",
    re.I,
)
_MONTH_ONLY = guarded(
    r"\b(?:in|в)\s+(?P<m>" + "|".join([*EN_MONTHS, *RU_MONTHS_PREPOSITIONAL]) + r")\b", re.I
)


def announced_window(
    title: str, text: str, *, published: datetime | None, dated: bool | None = None
) -> tuple[date, date] | None:
    """The days an announcement with no day leaves open for its event, or None.

    "Pezeshkian will make a working visit to Tajikistan in the coming weeks": from publication
    to three weeks on; "the state visit in November": that month. Only for a report whose
    event is still ahead (a future verb in its lead) and that states no day.

    ``dated``: whether the lead states a day, when the caller knows (``extract_facts`` with
    the same ``published`` gave the event date); None reads the lead's dates to know.
    """
    if published is None:
        return None
    lead = f"{title}.\n{text[:_LEAD_CHARS]}" if title.strip() else text[:_LEAD_CHARS]
    ref = published.date()
    if dated is None:
        dated = _event_date(lead, ref)[0] is not None
    if dated:
        return None
    sentences = _Sentences(lead)
    for m in _MONTH_ONLY.finditer(lead):
        if not sentences.is_future(m.start()):
            continue
        word = m.group("m").lower()
        month = (
            RU_MONTHS_PREPOSITIONAL.index(word) + 1
            if word in RU_MONTHS_PREPOSITIONAL
            else EN_MONTHS.index(word) + 1
        )
        year = ref.year + (1 if month < ref.month else 0)
        first = date(year, month, 1)
        if first <= ref + MAX_AHEAD:
            return max(first, ref), month_end(first)
    for m in _SOON.finditer(lead):
        if sentences.is_future(m.start()):
            return ref, ref + ANNOUNCED_AHEAD
    return None


# --- figures ---------------------------------------------------------------------------------

# An alert shows three or four sums; a report listing hundreds (a table, garbled or hostile
# text) must not cost the pipeline time or the event's stored facts room.
MAX_FIGURES = 20
_FIGURE_BREAK = re.compile(r"\. ")


def figures(body: str) -> tuple[Figure, ...]:
    """The sums in `body` (the first MAX_FIGURES distinct ones) with the noun each measures,
    its role and period, read in its clause.

    Linear in the text: the sentence breaks are found once, not searched from every sum.
    """
    found: list[Figure] = []
    previous_end, previous_sentence, previous_measure = 0, -1, None
    breaks = [m.start() for m in _FIGURE_BREAK.finditer(body)]  # every ". ", in order
    for m in _MONEY.finditer(body):
        if len(found) >= MAX_FIGURES:
            break
        at = bisect.bisect_left(breaks, m.start())
        # The ". " that ends the previous sentence may overlap the sum's own first character.
        before_break = bisect.bisect_right(breaks, m.start() - 2)
        sentence_start = breaks[before_break - 1] + 1 if before_break else 0
        # A sentence's earlier figure ends what this one's words can be ("reached $800 million
        # last year; the target is $1 billion"), and lends its noun when this one has none.
        same_sentence = sentence_start == previous_sentence
        start = max(sentence_start, m.start() - 160, previous_end if same_sentence else 0)
        after_break = bisect.bisect_left(breaks, m.end(), lo=at)
        sentence_end = breaks[after_break] if after_break < len(breaks) else len(body)
        before = body[start : m.start()]
        if same_sentence and start == previous_end:
            # "…$800 million last year, and a target of $1 billion": up to the comma is the
            # earlier figure's period.
            before = before[before.find(",") + 1 :] if "," in before else before
        breaks_before = list(_CLAUSE_BREAK.finditer(before))
        # Across a ";" a new clause starts with its own subject: nothing is lent to it.
        lend = same_sentence and not any(b.group(0) == ";" for b in breaks_before)
        before = before[breaks_before[-1].end() :] if breaks_before else before
        after = body[m.end() : min(sentence_end, m.end() + 60)]
        next_money = _MONEY.search(after)
        after = after[: next_money.start()] if next_money else after
        clause_end = _CLAUSE_BREAK.search(after)
        after = after[: clause_end.start()] if clause_end else after
        measure = _measure(before, after) or (previous_measure if lend else None)
        previous_end, previous_sentence, previous_measure = m.end(), sentence_start, measure
        written = m.group(0).strip()
        amount, currency = _amount(written)
        figure = Figure(
            written=written,
            measure=measure,
            role=_role(before, after),
            period=_period(before, after),
            amount=amount,
            currency=currency,
        )
        _add_figure(found, figure)
    return tuple(found)


def _add_figure(found: list[Figure], figure: Figure) -> None:
    """Append `figure` unless it repeats one already found ("$629 млн." in the lead and "$629
    млн" in the text), keeping whichever of the two says more."""
    for index, known in enumerate(found):
        if figure.amount is None:
            if known.written.lower() == figure.written.lower():
                return
            continue
        if (known.amount, known.currency) != (figure.amount, figure.currency):
            continue
        if known.role and figure.role and known.role != figure.role:
            continue  # "$1 billion last year, and $1 billion again the target": two figures
        said = sum(v is not None for v in (figure.measure, figure.role, figure.period))
        if said > sum(v is not None for v in (known.measure, known.role, known.period)):
            found[index] = figure
        return
    found.append(figure)


def _measure(before: str, after: str) -> str | None:
    best: tuple[int, str] | None = None
    for name, pattern in _MEASURE_RE:
        for m in pattern.finditer(before):
            distance = len(before) - m.end()
            if best is None or distance < best[0]:
                best = (distance, name)
        m2 = pattern.search(after[:40])
        if m2 and (best is None or m2.start() + 5 < best[0]):
            best = (m2.start() + 5, name)  # "$1 billion in investment"
    return best[1] if best else None


def _role(before: str, after: str) -> str | None:
    near = before[-70:]
    if _TARGET.search(near) or re.match(r"\s*(?:target|goal)\b", after, re.I):
        return "target"
    if re.search(
        r"\b(?:reached|amounted|totall?ed|stood|was|were|grew|rose|increased|составил\w*|"
        r"достиг\w*|превысил\w*|вырос\w*|увеличил\w*)\b",
        near,
        re.I,
    ):
        return "result"
    return None


def _period(before: str, after: str) -> str | None:
    clause = before[-80:] + " " + after[:50]
    for name, pattern in _PERIOD_RE:
        if pattern.search(clause):
            return name
    year = _YEAR_PERIOD.search(clause)
    if year is None:
        return None
    deadline = year.group(1).lower() in _DEADLINE
    return f"by {year.group(2)}" if deadline else year.group(2)


# Above this no state's trade, budget or loan goes in any of the currencies read (Uzbekistan's
# budget is some 3e14 soums): a bigger or non-finite number is hostile or garbled text.
MAX_AMOUNT = 1e15


def _amount(written: str) -> tuple[float | None, str | None]:
    number = re.search(_NUM, written)
    if number is None:
        return None, None
    digits = number.group(0).replace(" ", "").replace("\u00a0", "")
    rest = written[number.end() :].lower()
    scaled = any(re.match(rf"\s*(?:{pattern})", rest) for pattern, _ in _SCALE_VALUES)
    if "," in digits and "." in digits:
        digits = digits.replace(",", "")
    elif digits.count(",") == 1 and (len(digits.split(",")[1]) != 3 or scaled):
        digits = digits.replace(",", ".")  # "1,5 млрд", "12,986 миллиарда": a decimal comma
    else:
        digits = digits.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None, None
    for pattern, scale in _SCALE_VALUES:
        if re.match(rf"\s*(?:{pattern})", rest):
            value *= scale
            break
    if not math.isfinite(value) or value > MAX_AMOUNT:
        return None, None  # not a sum any report means: shown as written, never computed on
    currency = next(
        (code for code, pattern in _CURRENCY_CODES if re.search(pattern, written, re.I)), None
    )
    return value, currency


_VISIT_KINDS = (
    ("state", r"state visit|государственн\w+ визит\w*|госвизит\w*"),
    ("official", r"official visit|официальн\w+ визит\w*"),
    ("working", r"working visit|рабоч\w+ визит\w*"),
)


_VISIT_KIND_RE = tuple((kind, guarded(p, re.I)) for kind, p in _VISIT_KINDS)


def _visit_kind(lead: str) -> str | None:
    found = [(m.start(), kind) for kind, p in _VISIT_KIND_RE if (m := p.search(lead))]
    return min(found)[1] if found else None


# --- places ---------------------------------------------------------------------------------

_PLACE_BEFORE = {"en": r"(?:\b(?:in|to|at|from)\s+)", "ru": r"(?:(?<!\w)(?:в|во|из)\s+)"}


@cache
def known_places(language: str) -> tuple[tuple[str, str], ...]:
    """(city, ISO code) for every capital and listed city of the gazetteer, in `language`."""
    try:
        countries: dict[str, dict[str, dict[str, list[str]]]] = data.countries()
    except data.DataFileError as exc:
        raise FactsError(f"cannot read the gazetteer: {exc}") from exc
    lang = "ru" if language == "ru" else "en"
    return tuple(
        (name, code)
        for code, entry in countries.items()
        if not code.startswith("_") and isinstance(entry, dict)
        for field in ("capitals", "cities")
        for name in (entry.get(field) or {}).get(lang, [])
    )


@cache
def _place_pattern(language: str) -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    """One pattern for every known city, and the city and country of each spelling it matches.

    Longest names first, each name's case forms (Russian) longest first: at the leftmost
    place a city is named, the longest name that fits wins ("Nur-Sultan" before "Sultan").
    One alternation instead of a pattern per city: the lead is scanned once, not once per
    city of the gazetteer (the largest cost of reading a report in a profile of a poll).
    """
    lang = "ru" if language == "ru" else "en"
    entries = sorted(known_places(lang), key=lambda e: -len(e[0]))
    spellings: dict[str, tuple[str, str]] = {}
    alternatives: list[str] = []
    for name, code in entries:
        forms = _ru_forms(name) if lang == "ru" else [name]
        for form in sorted(forms, key=len, reverse=True):
            # A spelling shared by two cities belongs to the first, as it would match first.
            spellings.setdefault(form, (name, code))
            alternatives.append(re.escape(form))
    pattern = re.compile(_PLACE_BEFORE[lang] + "(" + "|".join(alternatives) + r")(?!\w)")
    return pattern, spellings


def _ru_forms(name: str) -> list[str]:
    """The case forms of a Russian city name that follow "в"/"из" (a simple declension)."""
    head, sep, last = name.rpartition("-") if "-" in name else ("", "", name)
    prefix = head + sep
    if last.endswith(("а", "я")):
        stem = last[:-1]
        endings = ["е", "ы", "и", "у"]
    elif last.endswith("ь"):
        stem, endings = last[:-1], ["и", "е", "я"]
    elif last[-1:].lower() in "еиоуыэю":
        return [name]  # Душанбе, Алматы, Баку: indeclinable
    else:
        stem, endings = last, ["е", "а", "у"]
    return [name] + [prefix + stem + ending for ending in endings]


def _place(lead: str, language: str) -> tuple[str | None, str | None]:
    pattern, spellings = _place_pattern(language)
    m = pattern.search(lead)
    return spellings[m.group(1)] if m else (None, None)
