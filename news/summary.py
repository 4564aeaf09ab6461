"""The alert's summary: the report's own sentences, chosen for what they say, in its language.

The first sentence is the event: the earliest sentence of the lead that, read alone, is an
event between the item's parties (who, what, where: "Tokayev began a two-day visit to
Dushanbe and held talks with Rahmon"), found by running the classifier on each sentence;
background before it ("Relations between the two countries are at a high level.") is
skipped. The second, when the report has one, says what came of it: documents signed,
areas agreed. Nothing is written here, only chosen and removed: the dateline
("NUR-SULTAN –", "ТАШКЕНТ, 5 мая — Sputnik."), bylines, bracketed agency names ("(Xinhua)",
"/TASS/", "[AKIpress]"), titles of honour ("Honorable") and the media attribution that ends
many leads (", the ministry's press service reported today").
The cut falls on a sentence boundary, or on a word boundary with "…" when one sentence is
already too long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from news.facts import known_places
from news.text import clean_text, split_sentences

_CAPS_CITY = r"[A-ZА-ЯЁ][A-ZА-ЯЁ'’\-]{2,}(?: [A-ZА-ЯЁ][A-ZА-ЯЁ'’\-]+){0,2}"
_TITLE_CITY = r"[A-ZА-ЯЁ][a-zа-яё'’\-]+(?: [A-ZА-ЯЁ][a-zа-яё'’\-]+)?"
_DAY = (
    r"(?:\d{1,2}\s+[A-Za-zА-Яа-яё]{3,9}\.?|[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\.\d{1,2}\.\d{2,4})"
    r"(?:,?\s+\d{4})?"
)
_AGENCY = r"(?:\s*\([^()]{1,50}\)|\s*/[^/\n]{1,30}/)"
_DASH = r"\s*:?\s*[-–—]{1,2}\s*|\s*:\s+|\.+\s+"
# "NUR-SULTAN –", "ASTANA, May 19 (Xinhua) --", "ТАШКЕНТ, 5 мая — ", "MOSCOW, October 3.. ",
# "Dushanbe, 19 May. ", "Tashkent, Uzbekistan, Aug. 7. ", "Бишкек (АКИpress) – ",
# "Ulaanbaatar /MONTSAME/. ": a place, a date or an agency, and a separator.
_DATELINE = re.compile(
    rf"^(?:{_CAPS_CITY}(?:,\s*{_DAY}|,\s*{_TITLE_CITY}(?:,\s*{_DAY})?)?(?:\.?{_AGENCY})?"
    rf"|{_TITLE_CITY}(?:,\s*{_TITLE_CITY})?(?:,\s*{_DAY}{_AGENCY}?|{_AGENCY}))"
    rf"(?:{_DASH})(?:/[^/\n]{{1,30}}/\.?\s*)?"
)
# The agency right after a dateline's dash: "— Sputnik. ", "— РИА Новости. ", "(Kazinform) - ".
_AGENCY_AFTER = re.compile(r"^(?:[A-ZА-ЯЁ«\"][\w«»\"'’\- ]{1,28}?)\.\s+(?=[A-ZА-ЯЁ«\"“])")
# "(MENAFN) ", "[AKIpress] ", "Arzuw.news. ": the outlet's mark before the lead.
_LEADING_MARK = re.compile(
    r"^(?:[(\[][A-Z][\w .\-]{1,30}[)\]]\s*[-–—:_]?\s*"
    r"|[A-Za-z0-9\-]+\.(?:news|com|kz|uz|kg|tj|tm|ru|org|net|info)\.?\s+)"
)
# A sentence that only says where the news came from.
_ATTRIBUTION_ONLY = re.compile(
    r"^(?:Об этом (?:сообщ|пиш|говор|заяв|информир)\w*|Подробнее\b|Read more\b|Source:|"
    r"Источник:|(?:The )?[Pp]ress service of [^.]{0,80} report(?:s|ed)\.?$)"
)
_BYLINE = re.compile(
    r"^(?:By|Author:|Автор:|Текст:)\s+[^\n.]{1,60}?(?:\n|\s+[|•]\s+|[-–—]\s*[\w.]{1,20}\.\s+)"
)
_AGENCIES = (
    r"Xinhua|Reuters|AP|AFP|TASS|ТАСС|Sputnik|Спутник|Kazinform|Казинформ|Kabar|Кабар|Khovar|"
    r"Ховар|Trend|Тренд|AKIpress|24\.kg|Interfax|Интерфакс|RIA Novosti|РИА Новости|UzA|УзА|"
    r"Dunyo|Дунё|Anadolu|Азаттык|Azattyk|Fergana|Фергана|Asia-Plus|Азия-Плюс|BelTA|БелТА"
)
_BRACKETED = re.compile(
    rf"\s*(?:\[[^\[\]\n]{{1,40}}\]|/(?:{_AGENCIES})/|\((?:(?:[МН]?ИА|IA)\b[^()]{{0,40}}|"
    rf"(?:{_AGENCIES})(?:[ ,][^()]{{0,20}})?)\))",
    re.I,
)
# ", the press service of the Ministry reported today." — the outlet's attribution, not news.
# A dot inside a word ("El.kz", "Kun.uz", "24.kg") is part of an outlet's name, not a stop.
_NOT_STOP = r"(?:[^.!?]|\.(?=\w))"
_ATTRIBUTION_EN = re.compile(
    r",\s*(?:the\s+|as\s+)?(?:[^,.;]|\.(?=\w)){0,120}?\b(?:report(?:ed|s)|learn(?:t|ed))"
    r"(?:\s+(?:today|yesterday|(?:on\s+)?\w+day))?"
    rf"(?:,?\s+(?:citing|via|from|according to)\s{_NOT_STOP}{{0,80}})?\s*(?=[.!]?$)",
)
_ATTRIBUTION_RU = re.compile(
    r",\s*(?:—\s*)?(?:как\s+)?(?:сообщает|сообщают|сообщили|сообщило|передает|передаёт|пишет|"
    rf"информирует|со ссылкой на)\b{_NOT_STOP}{{0,160}}(?=[.!]?$)"
)
# A sentence that opens by pointing back ("Об этом сообщили на переговорах…", "Такое мнение
# высказал…", "This was said at…") means nothing without the sentence before it.
_ANAPHORIC = re.compile(
    r"^(?:(?:Об этом|О том|Такое (?:мнение|заявление)|Такую (?:оценку|позицию)|Это|This|That|"
    r"These|"
    # a pronoun as subject, a "there" of place: "He said this at a meeting with …", "Там …"
    r"He|She|They|Он|Она|Они|Там)\b|"
    # the parties in the plural: "The two presidents then held talks", "Стороны обсудили" —
    # not "The presidents of Kazakhstan and …", "Лидеры Казахстана и …", which name them
    r"(?:Стороны|Лидеры|Президенты|Главы (?:государств|правительств|МИД)|"
    r"Оба (?:президента|лидера|министра)|Both (?:presidents|leaders|ministers|sides)|"
    r"The (?:two )?(?:presidents|leaders|ministers|sides|heads of state|prime ministers))\b"
    r"(?!\s+(?:of\b|[A-ZА-ЯЁ])))"
)
# '"…," he said at a meeting with …', "«…», — сказал он на встрече с …": a pronoun speaker.
_QUOTED_PRONOUN = re.compile(
    r"[,.!?]?\s*[\"»”]\s*,?\s*(?:[-–—]\s*)?(?:(?:he|she|they)\s+(?:said|added|noted|stressed|"
    r"told|emphasi[sz]ed)|(?:сказал|заявил|отметил|подчеркнул|добавил)[аи]?\s+(?:он|она|они))\b"
)
# A relative clause or participial phrase between commas: what can go when a sentence is too
# long ("Tokayev, who arrived on Monday, held talks" → "Tokayev held talks"), if the sentence
# still names the parties and the event without it.
_ASIDE = re.compile(
    r",\s+(?:who|which|whose|where|having|including|accompanied by|котор\w+|где|включая|"
    r"в том числе|находящ\w+|прибывш\w+|возглавляем\w+|состоявш\w+|отметив\w*)\b"
    r"[^,;.!?]*(?:,|(?=[.;!?]?$))"
)
_QUOTE_PAIRS = (("«", "»"), ("“", "”"))
_OPENING_QUOTES = ('"', "«", "“")
_QUOTE_JOIN = 4  # a quotation spans at most this many split pieces

# "NUR-SULTAN. KAZINFORM President…": an agency's name in capitals after a dateline.
_CAPS_AGENCY = re.compile(r"^([A-ZА-ЯЁ][A-ZА-ЯЁ\-]{2,})\s+(?=[A-ZА-ЯЁ])")
_REPORTED_TODAY = re.compile(r"\s*\b(?:reported today|сообщили сегодня)\b", re.I)
_SPACES = re.compile(r"[ \t]+")


MAX_SUMMARY = 600  # about three short lines in Telegram
_LEAD_SENTENCES = 6  # the event is told near the top; later sentences are background
_OUTCOME = re.compile(
    r"\b(?:signed|sign|adopted|agreed|reached|concluded|exchanged|memorand\w+|agreements?|"
    r"roadmap|подписа\w+|подпис\w+|принял[аи]?|договорил\w+|соглашени\w+|меморандум\w*|"
    r"дорожн\w+ карт\w+|документ\w*)\b",
    re.I,
)
# Titles of honour that say nothing about the event and cost a line.
_HONORIFICS = re.compile(
    r"(?:the )?Founder of Peace and National Unity\s*[-–—]\s*Leader of the Nation,\s*|"
    r"Основател\w+ мира и национального единства\s*[-–—]\s*Лидер\w* нации,\s*|"
    r"\b(?:Honorable|His Excellency|Her Excellency|уважаем\w+)\s+",
)


def summarise(
    title: str,
    text: str,
    *,
    language: str,
    countries: Sequence[str] = (),
    max_chars: int = MAX_SUMMARY,
) -> str:
    """The event sentence, then what came of it (the title when the text says nothing).

    `countries`: the item's parties as the classifier found them; the event sentence is the
    first one naming them all (without them, the first one the classifier finds an event in).
    """
    lead = _lead(title, text)
    # "Об этом сообщает пресс-служба." goes; "Об этом сообщили на переговорах Смаилова с
    # Дин Сюэсяном" says who met whom and stays.
    lead = lead[:1] + [s for s in lead[1:] if not _attribution_only(s)]
    sentences = [s for s in (_clean_sentence(s, language) for s in lead) if s]
    if not sentences:
        return ""
    wanted = _wanted(sentences, title, language, countries)
    choice = _event_sentence(sentences, language, wanted)
    headline = _headline(title)
    if (
        (choice is None or not choice.event)
        and headline
        and _names_event(headline, language, countries)
    ):
        # the text never says it in one sentence; the headline does
        choice, core = None, [headline]
    elif choice is None:
        core = [headline if len(headline) >= 40 and headline[-2:-1] != "?" else sentences[0]]
    elif choice.points_back:
        core = sentences[choice.index - 1 : choice.index + 1]  # "Об этом", "He" need theirs
    else:
        core = [sentences[choice.index]]
    first = choice.index if choice is not None else None
    extras: list[str] = []
    if (
        first is not None
        and first + 1 < len(sentences)
        and _points_back(sentences[first + 1])
        and _names_event(sentences[first + 1], language, wanted, before=sentences[first])
    ):
        # "Такое мнение высказал … на встрече с …" completes the sentence before it; "Об этом
        # пишет «Синьхуа»" (one party at most, no event) is an attribution and stays out.
        extras.append(sentences[first + 1])
    after = sentences[first + 1 :] if first is not None else sentences[1:]
    outcome = next((s for s in after if _OUTCOME.search(s)), None)
    if outcome is not None and outcome not in core + extras:
        extras.append(outcome)
    elif first is None and len(sentences) > 1 and len(core[0]) < 160:
        extras.append(sentences[1])
    keep = _keeps(language, wanted)
    return _fit(core, extras, max_chars, keep)


def sentence_mentions(sentence: str, language: str) -> tuple[frozenset[str], bool]:
    """The countries a sentence names (by country, demonym, capital or official) and whether
    it names an event (a visit, talks, a call, a signing), as the classifier reads it.

    Read from the sentence's own gazetteer mentions and trigger words, whether or not the
    classifier would call the sentence alone an event: its evidence lists mentions only for
    a sentence with two anchored parties ("talks in Moscow of the Turkmen delegation" names
    Russia by its capital, a venue the classifier never takes for a party).
    """
    from news.classify import classify_item, shared_reading

    result = classify_item("", sentence, language=language)
    analysis = shared_reading(sentence)
    named = {
        m.code
        for m in analysis.mentions
        if m.kind in ("country", "person", "institution") or m.detail == "capital"
    }
    return frozenset(named | set(result.countries)), bool(analysis.triggers)


@dataclass(frozen=True, slots=True)
class _Choice:
    """The sentence chosen to open the summary."""

    index: int
    event: bool  # it names an event word too, not only the parties
    points_back: bool  # it needs the sentence before it ("Об этом…", "He said…")


def _wanted(
    sentences: list[str], title: str, language: str, countries: Sequence[str]
) -> frozenset[str]:
    """The parties the opening sentence must name: the classifier's, else the whole item's."""
    if countries:
        return frozenset(countries)
    from news.classify import classify_item

    whole = classify_item(title, " ".join(sentences), language=language)
    return frozenset(whole.countries) if whole.event_type != "none" else frozenset()


def _event_sentence(sentences: list[str], language: str, wanted: frozenset[str]) -> _Choice | None:
    """The first sentence that names every party and the event (else every party).

    A sentence that points back ("He said this at a meeting with Hungary's foreign minister",
    "The two presidents then held talks") names whom the sentence before it names too, and
    is chosen with it.
    """
    if not wanted:
        return None
    named: _Choice | None = None
    for index, sentence in enumerate(sentences[:_LEAD_SENTENCES]):
        before = sentences[index - 1] if index > 0 else None
        found, event = _mentions_with(sentence, language, before)
        if not wanted <= found:
            continue
        choice = _Choice(index, event, before is not None and _points_back(sentence))
        if event:
            return choice
        if named is None:
            named = choice  # both parties, no event word: better than background
    return named


def _points_back(sentence: str) -> bool:
    """Whether `sentence` means nothing without the one before it (see `_ANAPHORIC`)."""
    # a quotation the sentence opens with: 'Tokayev met Rahmon, "a good day," he said' names
    # its speaker itself
    quoted = sentence[:1] in _OPENING_QUOTES and bool(_QUOTED_PRONOUN.search(sentence))
    return bool(_ANAPHORIC.match(sentence)) or quoted


def _mentions_with(sentence: str, language: str, before: str | None) -> tuple[frozenset[str], bool]:
    """`sentence_mentions`, with the names of `before` when `sentence` points back to it."""
    found, event = sentence_mentions(sentence, language)
    if before is not None and _points_back(sentence):
        found = found | sentence_mentions(before, language)[0]
    return found, event


def _attribution_only(sentence: str) -> bool:
    return bool(_ATTRIBUTION_ONLY.match(sentence)) and len(sentence.split()) <= 12


def _headline(title: str) -> str:
    headline = _SPACES.sub(" ", _strip_dateline(clean_text(title))).strip()
    return headline + "." if headline and headline[-1] not in ".!?…" else headline


def _names_event(
    sentence: str, language: str, countries: Iterable[str], *, before: str | None = None
) -> bool:
    wanted = set(countries)
    found, event = _mentions_with(sentence, language, before)
    return event and bool(wanted) and wanted <= found


def _keeps(language: str, wanted: frozenset[str]) -> Callable[[str, str], bool]:
    """Whether a shortened sentence still names what the whole one did of the event."""

    def keep(whole: str, short: str) -> bool:
        was, was_event = sentence_mentions(whole, language)
        now, now_event = sentence_mentions(short, language)
        return (now_event or not was_event) and (was & wanted) <= now

    return keep


def _lead(title: str, text: str) -> list[str]:
    body = clean_text(text[:20_000])
    body = _BYLINE.sub("", _strip_dateline(_BYLINE.sub("", body, count=1)), count=1)
    sentences = _join_quotations(split_sentences(body))[: _LEAD_SENTENCES + 2]
    if not sentences:
        sentences = split_sentences(_strip_dateline(clean_text(title)))[:1]
    return sentences


def _strip_dateline(body: str) -> str:
    # Up to three marks in a row: "ASTANA. KAZINFORM - ", "(MENAFN) ", "DUSHANBE, May 19. /TASS/."
    for _ in range(3):
        mark = _LEADING_MARK.match(body)
        if mark is not None:
            body = body[mark.end() :]
            continue
        match = _DATELINE.match(body)
        if match is None or not _is_dateline(match.group(0)):
            break
        body = body[match.end() :]
        agency = _AGENCY_AFTER.match(body)
        after_dash = match.group(0).rstrip().endswith(("-", "–", "—"))
        if after_dash and agency and len(agency.group(0).split()) <= 3:
            body = body[agency.end() :]
        caps = _CAPS_AGENCY.match(body)
        if caps is not None and caps.group(1) in _agency_words():
            body = body[caps.end() :]  # "NUR-SULTAN. KAZINFORM " has no dash to go by
    return body


def _is_dateline(mark: str) -> bool:
    """A bare "WORD –" is a dateline only when WORD is a known place or agency ("EU –" is not)."""
    if any(ch.isdigit() or ch in "(/" for ch in mark):
        return True
    head = mark.split(",")[0].rstrip(" .:-–—").upper()
    return head in _dateline_words()


@cache
def _agency_words() -> frozenset[str]:
    return frozenset(word.upper() for word in _AGENCIES.replace("\\", "").split("|"))


@cache
def _dateline_words() -> frozenset[str]:
    places = [name for lang in ("en", "ru") for name, _ in known_places(lang)]
    agencies = _AGENCIES.replace("\\", "").split("|")
    return frozenset(word.upper() for word in [*places, *agencies])


def _clean_sentence(sentence: str, language: str) -> str:
    sentence = _HONORIFICS.sub("", _BRACKETED.sub("", sentence))
    attribution = _ATTRIBUTION_RU if language == "ru" else _ATTRIBUTION_EN
    sentence = attribution.sub("", sentence)
    sentence = _REPORTED_TODAY.sub("", sentence)
    sentence = _SPACES.sub(" ", sentence.replace("\n", " ")).strip(" ,;:-–—")
    if sentence and sentence[-1].isalnum():
        sentence += "."  # the attribution took the full stop with it
    return sentence


def _fit(
    core: list[str], extras: list[str], max_chars: int, keep: Callable[[str, str], bool]
) -> str:
    """The opening (one sentence, or a sentence and the one it points back to), then what
    fits of `extras`. Too long, the opening loses its asides first and its background
    sentence before its event sentence: the cut never takes the event out when avoidable."""
    if len(" ".join(core)) > max_chars:
        core = [_without_asides(s, max_chars, keep) for s in core]
    *background, event = core
    if len(event) > max_chars:
        summary = _cut_words(event, max_chars)
    elif background:
        room = max_chars - len(event) - 1
        before = background[0]
        if len(before) > room:
            before = _cut_words(before, room) if room >= 80 else ""
        summary = f"{before} {event}".strip()
    else:
        summary = event
    for sentence in extras:
        if len(summary) + 1 + len(sentence) <= max_chars:
            summary = f"{summary} {sentence}"
    return summary


def _without_asides(sentence: str, max_chars: int, keep: Callable[[str, str], bool]) -> str:
    """`sentence` without its relative clauses and participial phrases, longest first, while
    it is too long and still names what it did of the event."""
    while len(sentence) > max_chars:
        asides = sorted(_ASIDE.finditer(sentence), key=lambda m: m.end() - m.start())
        for aside in reversed(asides):
            shorter = sentence[: aside.start()] + sentence[aside.end() :]
            shorter = _SPACES.sub(" ", shorter).replace(" .", ".").strip()
            if keep(sentence, shorter):
                sentence = shorter
                break
        else:
            return sentence
    return sentence


def _join_quotations(pieces: list[str]) -> list[str]:
    """Pieces split inside a quotation joined again: '"We are in contact. Trade is up," he
    said at a meeting with …' is one sentence, its end says who spoke and where."""
    joined: list[str] = []
    i = 0
    while i < len(pieces):
        sentence, j = pieces[i], i + 1
        while _open_quote(sentence) and j < len(pieces) and j - i < _QUOTE_JOIN:
            sentence, j = f"{sentence} {pieces[j]}", j + 1
        if _open_quote(sentence):
            sentence, j = pieces[i], i + 1  # never closed within reach: leave it as split
        joined.append(sentence)
        i = j
    return joined


def _open_quote(text: str) -> bool:
    if text.count('"') % 2:
        return True
    return any(text.count(opening) > text.count(closing) for opening, closing in _QUOTE_PAIRS)


def _cut_words(sentence: str, max_chars: int) -> str:
    """`sentence` cut at the last whole word that fits, marked with an ellipsis."""
    room = sentence[: max(1, max_chars - 1)]
    cut = room.rsplit(" ", 1)[0] if " " in room else room
    return cut.rstrip(" ,;:-–—") + "…"
