"""A classified report reduced to what grouping needs: its facts and its `Candidate`.

The live pipeline (coopwatch/pipeline.py), `coopwatch scan` and `coopwatch group`
(news/group_stream.py) all build candidates here, so the three group alike.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from news.facts import Facts, announced_window, extract_facts, reports_arrival
from news.grouping import Candidate
from news.records import CENTRAL_ASIA, Classification

_WORD = re.compile(r"[^\W\d_]{4,}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:[  ]\d{3})*")
_SCALES = {
    "trillion": 10**12,
    "трлн": 10**12,
    "billion": 10**9,
    "bn": 10**9,
    "млрд": 10**9,
    "миллиард": 10**9,
    "million": 10**6,
    "mln": 10**6,
    "m": 10**6,
    "млн": 10**6,
    "миллион": 10**6,
    "thousand": 10**3,
    "тыс": 10**3,
    "тысяч": 10**3,
}
# Words every report of the same pair shares: they say nothing about *which* event it is.
_STOPWORD_TEXT = """
    that this with from have been were will their they which also about after during between
    over into more other said says told according president presidents minister ministers prime
    foreign affairs republic head state states country countries sides side both parties party
    cooperation bilateral relations visit visits official talks meeting held news today year
    years government which where while would could should being there these those agency
    service press ministry report reported republic's что этот этого того также который которые
    было были будет будут между после время президент президента президентом министр министра
    министров премьер глава главы республики республика страны стран стороны сторон
    сотрудничества сотрудничество двусторонних двустороннего отношений визит визита визитом
    переговоры переговоров встреча встречи сообщает сообщили пресс службы службе году года
    сегодня
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def content_tokens(text: str, language: str, limit: int = 80) -> tuple[str, ...]:
    """Distinct content stems of `text`, prefixed by language ("en:dushan")."""
    stems: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        stems.setdefault(f"{language}:{word[:6]}", None)
        if len(stems) >= limit:
            break
    return tuple(stems)


def _figure(span: str) -> str | None:
    """The value of a written figure ("$1.5 billion", "800 млн долларов") as digits."""
    number = _NUMBER.search(span)
    if number is None:
        return None
    value = _number_value(number.group(0))
    rest = span[number.end() :].lower()
    for word, scale in _SCALES.items():
        if re.match(rf"\s*{word}", rest):
            value *= scale
            break
    return f"{value:.0f}"


def _number_value(written: str) -> float:
    digits = written.replace(" ", "").replace("\u00a0", "")
    if "," in digits and "." in digits:
        digits = digits.replace(",", "")  # 1,500.5
    elif digits.count(",") == 1 and len(digits.split(",")[1]) != 3:
        digits = digits.replace(",", ".")  # 1,5 (Russian decimal comma)
    else:
        digits = digits.replace(",", "")  # 1,500
    if digits.count(".") > 1:
        digits = digits.replace(".", "")  # 1.000.000
    return float(digits)


def is_event(result: Classification) -> bool:
    """A positive that names two parties, one of them Central Asian: what gets grouped."""
    return (
        result.label
        and result.event_type != "none"
        and len(result.countries) >= 2
        and bool(CENTRAL_ASIA.intersection(result.countries))
    )


def event_candidate(
    item_id: str,
    title: str,
    text: str,
    *,
    published: datetime | None,
    classification: Classification,
    fallback_day: date,
    reference: date | None = None,
) -> tuple[Facts, Candidate]:
    """The facts of a positive item and its grouping view (the pipeline, scan and group).

    `reference`: for an item with no publication time, a day it was published by (a month
    or year given alone), against which its dates are read.
    """
    when = published
    if when is None and reference is not None:
        when = datetime(reference.year, reference.month, reference.day, 12, tzinfo=UTC)
    facts = extract_facts(title, text, language=classification.language, published=when)
    candidate = candidate_for(
        item_id,
        title,
        text,
        published=published,
        classification=classification,
        facts=facts,
        fallback_day=fallback_day,
    )
    return facts, candidate


def candidate_for(
    item_id: str,
    title: str,
    text: str,
    *,
    published: datetime | None,
    classification: Classification,
    facts: Facts,
    fallback_day: date,
) -> Candidate:
    """The grouping view of one positive item; ``facts`` are what ``extract_facts`` reads in
    ``title`` and ``text`` against ``published`` (as ``event_candidate`` gives them)."""
    spans = [s for ev in classification.evidence for s in ev.spans]
    day = published.date() if published else fallback_day
    language = classification.language
    # An announcement with no day ("in the coming weeks", "in November") stays open for the
    # reports of the visit itself; its date is still not a stated one.
    # (Asked only without a stated day, and told so: `facts` are extract_facts' reading of
    # the same lead against the same day, and reading its dates again would say the same.)
    window = (
        None
        if facts.event_date
        else announced_window(title, text, published=published, dated=False)
    )
    ahead = window[1] if window else None
    figures = [f"${f.amount:.0f}" for f in facts.figures if f.amount is not None]
    figures += [f"#{v}" for v in map(_figure, facts.counts) if v]
    return Candidate(
        item_id=item_id,
        published=published,
        countries=tuple(sorted(classification.countries)),
        event_type=classification.event_type,
        event_start=facts.event_date or day,
        event_end=facts.event_end or facts.event_date or ahead or day,
        date_stated=facts.event_date is not None,
        officials=tuple(dict.fromkeys(s.value for s in spans if s.kind == "person")),
        place=facts.place_country,
        numbers=tuple(dict.fromkeys(figures)),
        documents=tuple(k for k in facts.document_kinds if k != "documents"),
        tokens=content_tokens(f"{title}\n{text[:600]}", language),
        announced=ahead is not None,
        arrival=facts.event_date is None and reports_arrival(title, text),
    )
