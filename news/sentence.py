"""One sentence read for parties, triggers, roles and cues (docs/classifier.md).

A trigger is an event word ("visit", "переговоры"), a role an office or institution word, a
cue a word that qualifies the event (negation, summit, sport ...); mentions are gazetteer
hits: countries, places, institutions and office holders resolved at the item's date.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any, Final

from news.gazetteer import Entry, Gazetteer, Lexicon
from news.records import EventType, Evidence, Span
from news.text import Token, WordScreen, tokenize

# When a sentence holds several triggers: a call is the most specific, signing documents is
# the outcome worth reporting, a visit frames any talks held during it.
TYPE_PRECEDENCE: tuple[EventType, ...] = ("call", "agreement", "visit", "meeting")
STRONG = frozenset({"person", "office", "institution"})
# "discuss" is a meeting only between two officials ("Lavrov and Saidov discussed ..."); the
# classifier decides that, as it knows the parties.
_TRIGGERS: Final = frozenset({*TYPE_PRECEDENCE, "discuss"})
_TRIGGER_WORDS: Final = frozenset({*_TRIGGERS, "document"})
# Office words of a head of state or government: "President", "Prime Minister", "премьер",
# "King"; "head of state", "глава правительства", "председатель правительства".
_LEADER_HEADS: Final = frozenset(
    [
        "president",
        "президент",
        "prime",
        "premier",
        "премьер",
        "king",
        "король",
        "emir",
        "эмир",
        "amir",
        "sultan",
        "султан",
        "chancellor",
        "канцлер",
        "crown",
        "наследный",
        "leader",
        "лидер",
    ]
)
_HEAD_OF: Final = frozenset(
    ["head", "глава", "председатель", "chairman", "national", "национальный"]
)
_STATE_OR_GOVERNMENT: Final = frozenset(
    ["state", "government", "государство", "правительство", "leader", "лидер"]
)
_CONNECTORS: Final = frozenset({"and", "и", "&"})
# Words allowed between an office and its country: "Minister of Investments and Foreign Trade
# of Uzbekistan". Lower-case English words outside this list ("said that") break the link.
_OFFICE_GLUE: Final = frozenset({"of", "the", "for", "and", "on", "from", "и", "по", "при", "из"})
# A country word right before one of these names a company's or fund's nationality ("a
# Turkish company", "Китайской торгово-промышленной корпорации"): not a state party.
_COMPANY_REACH: Final = 3
_BANK: Final[tuple[str, ...]] = ("bank", "банк", "банка", "банку", "банком", "банке")
_STATE_BANK: Final = frozenset({"national", "central", "национальный", "центральный", "нацбанк"})
# "Tashkent Congress Center", "конгресс-центр": a building, not the US Congress
_BUILDINGS: Final = frozenset(
    ["center", "centre", "hall", "hotel", "palace", "street", "avenue", "arena", "центр", "зал"]
)
_PLACE_PREPOSITIONS: Final = frozenset({"в", "во", "на", "in", "at"})
# "в Кыргызстан ... прибыл": a Russian visit names its destination before the verb too.
_TO: Final = frozenset({"в", "во", "to"})
_CLAUSE_WORDS: Final = frozenset({"что", "который", "как", "чтобы", "когда", "где", "said", "that"})
_ROLES: Final[tuple[str, ...]] = ("office", "institution")
_KIND_RANK: Final = {"name": 0, "adjective": 1, "demonym": 1, "prefix": 1, "institution": 2}


class Mention:
    """A gazetteer hit in a sentence, in token positions.

    Plain classes (Mention, Marker), like news.text's Token and Match, which mypyc compiles to
    C structs: several are made per sentence and their fields read in every rule; a
    NamedTuple was made through tuple.__new__ and read by name (issue 14), and a frozen
    dataclass's __init__ (one object.__setattr__ per field) costs more.
    """

    def __init__(self, start: int, end: int, kind: str, code: str, detail: str) -> None:
        self.start = start
        self.end = end
        self.kind = kind  # country | location | institution | person
        self.code = code
        self.detail = detail  # name/adjective/demonym/prefix, capital/city, or "<ISO>:<id>"

    def _key(self) -> tuple[int, int, str, str, str]:
        return (self.start, self.end, self.kind, self.code, self.detail)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mention):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        start, end, kind, code, detail = self._key()
        return f"Mention({start=}, {end=}, {kind=}, {code=}, {detail=})"


class Marker:
    """A lexicon hit: a trigger (kind = event type) or a role (office / institution)."""

    def __init__(self, kind: str, start: int, end: int) -> None:
        self.kind = kind
        self.start = start
        self.end = end

    def _key(self) -> tuple[str, int, int]:
        return (self.kind, self.start, self.end)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Marker):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        kind, start, end = self._key()
        return f"Marker({kind=}, {start=}, {end=})"


class Analysis:
    """One sentence read for parties, triggers, roles and cues.

    A plain class, which mypyc compiles to a C struct with its methods called directly: as a
    NamedTuple (not compilable to one), each method call went through a bound method object
    and Python's argument parsing, and each field was read by name (issue 14). Not a frozen
    dataclass: its __init__ (one object.__setattr__ per field) cost 2-3 µs each.
    """

    def __init__(
        self,
        sentence: str,
        tokens: tuple[Token, ...],
        mentions: tuple[Mention, ...],
        triggers: tuple[Marker, ...],
        roles: tuple[Marker, ...],
        cues: Mapping[str, tuple[int, ...]],
        cued: bool,
    ) -> None:
        self.sentence = sentence
        self.tokens = tokens
        self.mentions = mentions
        self.triggers = triggers
        self.roles = roles
        self.cues = cues  # cue category -> token positions
        self.cued = cued  # False: not read for cues yet (no trigger word; see read)
        # computed once (office -> country links, main types): several rules ask for them
        self.memo: dict[str, Any] = {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Analysis):
            return NotImplemented
        return self._key() == other._key()

    def _key(self) -> tuple[object, ...]:
        return (
            self.sentence,
            self.tokens,
            self.mentions,
            self.triggers,
            self.roles,
            self.cues,
            self.cued,
            self.memo,
        )

    @property
    def trigger_types(self) -> set[str]:
        return {t.kind for t in self.triggers}

    def main_types(self, *, frames: bool = False) -> set[str]:
        """Trigger types of what the sentence reports, not of its background.

        A visit named as the frame of the reported act ("received the minister, who arrived
        on an official visit", "находящимся в Астане с визитом", "discussed preparations for
        the state visit", "met on the sidelines of the president's visit") is not the event
        when the sentence reports a meeting, call or agreement as well.
        """
        key = "types, frames" if frames else "types"  # not an f-string: asked often
        known: set[str] | None = self.memo.get(key)
        if known is None:
            known = self.memo[key] = self._main_types(frames)
        return set(known)

    def _main_types(self, frames: bool) -> set[str]:
        kinds = {"meeting" if t.kind == "discuss" else t.kind for t in self.triggers}
        if "visit" not in kinds or len(kinds) == 1:
            return kinds
        background = [*self.cues.get("preparation", ()), *self.cues.get("subordinate", ())]
        if frames:  # "during", "as part of", "в рамках": the visit frames the reported act
            background += self.cues.get("frame", ())
        visits = [t for t in self.triggers if t.kind == "visit"]
        if all(any(t.start - 8 <= p < t.start for p in background) for t in visits):
            kinds.discard("visit")
        return kinds

    def mentioned_countries(self) -> set[str]:
        return {m.code for m in self.mentions if m.kind != "location"}

    def parties(self, carried: Mapping[str, str] | None = None) -> dict[str, str]:
        """Anchored countries: code -> person/institution/office/destination/pair.

        ``carried`` maps an office phrase to the country it was anchored to earlier in the
        item, so "... met with the Crown Prince" after "Saudi Arabia's Crown Prince" counts.
        """
        parties = {m.code: m.kind for m in self.mentions if m.kind in ("person", "institution")}
        countries = [m for m in self.mentions if m.kind == "country"]
        links = self._links(countries)
        for _, i in links:
            parties.setdefault(countries[i].code, "office")
        linked_roles = {r for r, _ in links}
        offices = carried or {}
        for r, role in enumerate(self.roles if offices else ()):  # an office carried here
            code = offices.get(self._text(role.start, role.end).lower())
            definite = role.start > 0 and self.tokens[role.start - 1].forms[0] == "the"
            if code and definite and r not in linked_roles:
                parties.setdefault(code, "office")
        destination = self._destination(set(parties))
        if destination and any(how in STRONG for how in parties.values()):
            parties.setdefault(destination, "destination")
        for code in self._pairs(countries):
            parties.setdefault(code, "pair")
        return parties

    def subject_is_leader(self, is_leader: Callable[[str], bool]) -> bool:
        """Whether the first official the sentence names is a head of state or government
        ("Iran's President ... during his visit", not "the foreign ministers met on the
        sidelines of the President's visit")."""
        first_person = next((m for m in self.mentions if m.kind == "person"), None)
        first_office = next((r for r in self.roles if r.kind == "office"), None)
        if first_person and (first_office is None or first_person.start <= first_office.start):
            return is_leader(first_person.detail.split(":", 1)[-1])
        return first_office is not None and self._leader_office(first_office)

    def _leader_office(self, role: Marker) -> bool:
        head = set(self.tokens[role.start].forms)
        if head & _LEADER_HEADS:
            return True
        # "head of state", "глава государства", "national leader"
        following = self.tokens[role.start + 1 : role.start + 3]
        return bool(head & _HEAD_OF) and any(_STATE_OR_GOVERNMENT & set(t.forms) for t in following)

    def role_countries(self) -> dict[str, str]:
        """Office phrases of this sentence tied to exactly one country ("crown prince": SA)."""
        if not self.roles or not self.mentions:
            return {}  # asked of every sentence; most have no office word or no mention
        countries = [m for m in self.mentions if m.kind == "country"]
        found: dict[str, set[str]] = {}
        for r, i in self._links(countries):
            role = self.roles[r]
            found.setdefault(self._text(role.start, role.end).lower(), set()).add(countries[i].code)
        return {text: codes.pop() for text, codes in found.items() if len(codes) == 1}

    def _links(self, countries: list[Mention]) -> list[tuple[int, int]]:
        """(role index, country index) pairs: the country mention the office word anchors."""
        if not self.roles or not countries:
            return []
        links: list[tuple[int, int]] | None = self.memo.get("links")
        if links is None:
            links = self.memo["links"] = self._find_links(countries)
        return links

    def _find_links(self, countries: list[Mention]) -> list[tuple[int, int]]:
        # Only an office word at most two words after a country or six before it can be its
        # office (what _near allows): the others are not asked about.
        close = [
            (r, i)
            for i, m in enumerate(countries)
            for r, role in enumerate(self.roles)
            if 0 <= role.start - m.end <= 2 or 0 <= m.start - role.end <= 6
        ]
        if not close:
            return []
        blocked = {i for m in self.mentions for i in range(m.start, m.end)}
        blocked.update(i for t in self.triggers for i in range(t.start, t.end))
        companies = self.cues.get("company", ())
        # once per country (close pairs repeat countries: many in a long sentence)
        of_company = {
            i: self._of_company(countries[i], companies, blocked) for i in {i for _, i in close}
        }
        links = [
            (r, i)
            for r, i in close
            if not of_company[i] and self._near(self.roles[r], countries[i], blocked)
        ]
        anchored = {i: r for r, i in links}
        coordinated = self._coordination(countries) if anchored else []
        for _ in range(len(countries)):  # members of "Kazakhstan, Kyrgyzstan and ..." share
            grown = {
                j: r
                for i, r in anchored.items()
                for j in (i - 1, i + 1)
                if 0 <= j < len(countries) and coordinated[min(i, j)]
            }
            if grown.keys() <= anchored.keys():
                break
            anchored = {**grown, **anchored}
        return sorted({*links, *((r, i) for i, r in anchored.items())})

    def _of_company(self, m: Mention, companies: Sequence[int], known: set[int]) -> bool:
        """A country word naming a company's nationality: a company word ("a Turkish
        company", "Китайской торгово-промышленной корпорации") or Latin capitals no role or
        mention explains ("китайской CNPC", "Kazakh KMG") within three words after it."""
        reach = range(m.end, min(m.end + _COMPANY_REACH, len(self.tokens)))
        if companies and any(p in reach for p in companies):
            return True
        for i in reach:
            token = self.tokens[i]
            text, forms = token.text, token.forms
            if forms[0].endswith(_BANK):
                return True  # "Сбербанка", "Sberbank"
            if text.isupper() and len(text) >= 2 and text.isascii() and not text.isdigit():
                roles = {k for r in self.roles for k in range(r.start, r.end)}
                return i not in known and i not in roles
        return False

    def _near(self, role: Marker, m: Mention, blocked: set[int]) -> bool:
        if role.start >= m.end:  # "Uzbek President", "Kazakhstan's Foreign Minister"
            gap = range(m.end, role.start)
            return len(gap) <= 2 and blocked.isdisjoint(gap) and not self._corporate(gap)
        if m.start >= role.end:  # "President of Uzbekistan", "глава МИД Казахстана"
            gap = range(role.end, m.start)
            if len(gap) > 6:
                return False  # too far, whatever lies between (checked first: it is cheap)
            if self._corporate(gap):
                return False  # "Chairman of the Board of Russia's ...": a company's officer
            if gap and self.tokens[m.start - 1].forms[0] in _PLACE_PREPOSITIONS:
                return False  # "глав государств ШОС в Китае": where, not whose
            return len(gap) <= 6 and blocked.isdisjoint(gap) and self._glue(gap)
        return False

    def _corporate(self, gap: range) -> bool:
        """A company, bank or NGO between an office and its country ("Chairman of the Board
        of Russia's Sberbank"); a national or central bank is a state body."""
        bank = False
        for i in gap:  # a plain loop: asked for most office-country pairs
            forms = self.tokens[i].forms
            if not _STATE_BANK.isdisjoint(forms):
                return False
            bank = bank or forms[0].endswith(_BANK)
        if bank:
            return True
        companies = self.cues.get("company", ())
        return any(p in gap for p in companies)

    def _glue(self, gap: range) -> bool:
        for i in gap:
            token = self.tokens[i]
            if not _CLAUSE_WORDS.isdisjoint(token.forms):
                return False
            if (
                token.text.isascii()
                and not token.capitalised
                and _OFFICE_GLUE.isdisjoint(token.forms)
            ):
                return False
        return True

    def _coordination(self, countries: list[Mention]) -> list[bool]:
        """``_coordinated(countries, i)`` for each i: asked again and again of long lists."""
        known: list[bool] | None = self.memo.get("coordinated")
        if known is None:
            coordinated = self._coordinated
            known = [coordinated(countries, i) for i in range(len(countries) - 1)]
            self.memo["coordinated"] = known
        return known

    def _coordinated(self, countries: list[Mention], i: int) -> bool:
        gap = range(countries[i].end, countries[i + 1].start)
        return len(gap) <= 1 and all(self.tokens[k].forms[0] in _CONNECTORS for k in gap)

    def _pairs(self, countries: list[Mention]) -> set[str]:
        """Bare "X and Y" names, or "Turkmen–Afghan talks": a pair acting together."""
        pairs: set[str] = set()
        starts = {t.start for t in self.triggers}
        coordinated = self._coordination(countries)
        for i in range(len(countries) - 1):
            a, b = countries[i], countries[i + 1]
            if a.code == b.code or not coordinated[i]:
                continue
            both_names = a.detail == b.detail == "name"
            if both_names or b.end in starts or b.end + 1 in starts:
                pairs.update((a.code, b.code))
        return pairs

    def destination(self) -> str | None:
        """Where the sentence's visit goes, if it names a country or place for it."""
        return self._destination(set())

    def before_clause_break(self) -> Analysis | None:
        """The sentence up to "while ...", "в то время как ...": what lies beyond is another
        clause with its own actors ("Putin's visit to Astana comes while Erdogan and his
        Iranian counterpart are in Uzbekistan"). None when there is no such break."""
        breaks = [p for p in self.cues.get("clause_break", ()) if p > 0]
        if not breaks:
            return None
        end = min(breaks)
        return Analysis(
            self.sentence,
            self.tokens,
            tuple(m for m in self.mentions if m.end <= end),
            tuple(t for t in self.triggers if t.end <= end),
            tuple(r for r in self.roles if r.end <= end),
            {k: tuple(p for p in v if p < end) for k, v in self.cues.items()},
            self.cued,
        )

    def _destination(self, strong: set[str]) -> str | None:
        """Where a visit goes: the first country name or place right after the trigger.

        Or, in Russian word order, "в Кыргызстан с визитом прибыл": a country or place
        after "в" in the few words before the trigger.
        """
        organisations = self.cues.get("organisation", ())
        trigger_starts = [t.start for t in self.triggers]  # in order, as matched
        for trigger in (t for t in self.triggers if t.kind == "visit"):
            for m in self.mentions:
                if not (m.end <= trigger.start and trigger.start - m.end <= 4):
                    continue  # not just before the trigger (tested first: most are not)
                place = m.kind == "location" or (m.kind == "country" and m.detail == "name")
                to = m.start > 0 and self.tokens[m.start - 1].forms[0] in _TO
                if place and to and m.code not in strong:
                    return m.code
            # The first trigger and organisation word after this trigger: a mention beyond
            # either is not its destination (found once, not asked per mention).
            end = trigger.end
            k = bisect_left(trigger_starts, end)
            next_trigger = trigger_starts[k] if k < len(trigger_starts) else None
            k = bisect_left(organisations, end)  # cue positions are in order too
            next_organisation = organisations[k] if k < len(organisations) else None
            visitor = False  # "визит президента Казахстана Токаева в Россию"
            for m in self.mentions:
                if m.start < end or m.start - end > (10 if visitor else 6):
                    continue
                if next_trigger is not None and next_trigger < m.start:
                    break
                if m.kind == "person":
                    visitor = True
                    continue
                to = m.start > 0 and self.tokens[m.start - 1].forms[0] in _TO
                if visitor and not to:
                    continue
                if next_organisation is not None and next_organisation < m.start:
                    break  # "visit the UN headquarters in New York": not a visit to the US
                place = m.kind == "location" or (m.kind == "country" and m.detail == "name")
                if place and m.code not in strong:
                    return m.code
        return None

    def evidence(self) -> Evidence:
        spans = [
            _span(self._text(m.start, m.end), m.kind, m.detail if m.kind == "person" else m.code)
            for m in self.mentions
        ]
        spans += [_span(self._text(r.start, r.end), r.kind, r.kind) for r in self.roles]
        spans += [_span(self._text(t.start, t.end), "trigger", t.kind) for t in self.triggers]
        return Evidence(self.sentence, tuple(spans))

    def _text(self, start: int, end: int) -> str:
        return self.sentence[self.tokens[start].start : self.tokens[end - 1].end]


_SPANS: Final[dict[tuple[str, str, str], Span]] = {}
MAX_SPANS = 65_536  # cleared when full


def _span(text: str, kind: str, value: str) -> Span:
    """``Span(text, kind, value)``, made once per phrase, kind and value: the same words
    recur, and a frozen dataclass costs a few µs to make (a Span is immutable, so shared)."""
    key = (text, kind, value)
    span = _SPANS.get(key)
    if span is None:
        if len(_SPANS) >= MAX_SPANS:
            _SPANS.clear()
        span = _SPANS[key] = Span(text, kind, value)
    return span


def analyse(sentence: str, gazetteer: Gazetteer, lexicon: Lexicon, day: date) -> Analysis:
    """Tokenise ``sentence`` once and find mentions, triggers, roles and cues in it."""
    return with_mentions(read(sentence, lexicon), gazetteer, lexicon, day)


@lru_cache(maxsize=4)
def trigger_screen(lexicon: Lexicon) -> WordScreen:
    """A screen passing every sentence that ``read`` could find a trigger word in."""
    return WordScreen(lexicon.core.required_keys(lambda category: category in _TRIGGER_WORDS))


@lru_cache(maxsize=4)
def office_screen(lexicon: Lexicon) -> WordScreen:
    """A screen passing every sentence that ``read`` could find an office or institution
    word (a role) in."""
    return WordScreen(lexicon.core.required_keys(lambda category: category in _ROLES))


def unread(sentence: str) -> Analysis:
    """What ``read`` makes of a sentence that has no trigger word and no office word (neither
    screen passes it), without tokenising it: no markers, not read for cues. Nothing asks for
    such a sentence's tokens before ``with_cues``, which makes them."""
    return Analysis(sentence, (), (), (), (), {}, False)


def read(sentence: str, lexicon: Lexicon, words: list[str] | None = None) -> Analysis:
    """Tokenise ``sentence`` and find triggers, roles and cues; mentions are left empty.

    Most news items have no event trigger at all, and then nobody named in them decides
    anything: the classifier runs the gazetteer, the largest matcher, only where it can matter
    (``with_mentions``); a sentence without any trigger word is not even read for cues until
    its item turns out to hold an event (``with_cues``). ``words``: the sentence's
    ``news.text.words_of``, when the caller has them.
    """
    tokens = tokenize(sentence, words)
    core = lexicon.core.find(tokens)
    signed = False
    roles: list[Marker] = []
    found: list[tuple[str, int, int]] = []  # trigger words, kept if active (needs the cues)
    for match in core:
        for category in match.payloads:
            if category in _ROLES:
                roles.append(Marker(category, match.start, match.end))
            elif category in _TRIGGER_WORDS:
                found.append((category, match.start, match.end))
            elif category == "sign":
                signed = True
    if not found:
        return Analysis(sentence, tuple(tokens), (), (), tuple(roles), {}, False)
    cues = _cues(tokens, lexicon)
    triggers: list[Marker] = []
    for category, start, end in found:
        if category == "document" and not signed:
            continue
        kind = "agreement" if category == "document" else category
        if _active(kind, start, cues):
            triggers.append(Marker(kind, start, end))
    if "summit" in cues and triggers:
        inside = {i for t in triggers for i in range(t.start, t.end)}
        # "video conference" is a call, not a conference
        cues["summit"] = [p for p in cues["summit"] if p not in inside]
    frozen_cues = {k: tuple(v) for k, v in cues.items() if v}
    return Analysis(sentence, tuple(tokens), (), tuple(triggers), tuple(roles), frozen_cues, True)


def with_cues(a: Analysis, lexicon: Lexicon) -> Analysis:
    """``a`` read for cues too (a sentence ``read`` left without, having no trigger word)."""
    if a.cued:
        return a
    tokens = a.tokens or tuple(tokenize(a.sentence))  # `unread` left them out
    cues = {k: tuple(v) for k, v in _cues(list(tokens), lexicon).items()}
    return Analysis(a.sentence, tokens, a.mentions, a.triggers, a.roles, cues, True)


def _cues(tokens: list[Token], lexicon: Lexicon) -> dict[str, list[int]]:
    cues: dict[str, list[int]] = {}
    for match in lexicon.cues.find(tokens):
        for category in match.payloads:
            cues.setdefault(category, []).append(match.start)
    return cues


def with_mentions(a: Analysis, gazetteer: Gazetteer, lexicon: Lexicon, day: date) -> Analysis:
    """``a`` with its country, place, institution and person mentions found."""
    mentions = tuple(_mentions(a.tokens, gazetteer, lexicon, day))
    return Analysis(a.sentence, a.tokens, mentions, a.triggers, a.roles, a.cues, a.cued)


def _active(kind: str, start: int, cues: Mapping[str, list[int]]) -> bool:
    """False for "will not visit", "не посетит" and "invited the PM of Japan to visit"."""
    if any(start - 3 <= p < start for p in cues.get("particle", ())):
        return False
    # "invited the Prime Minister of Hungary Viktor Orban to pay a state visit": 12 words
    return kind != "visit" or not any(start - 12 <= p < start for p in cues.get("invitation", ()))


def _mentions(
    tokens: Sequence[Token], gazetteer: Gazetteer, lexicon: Lexicon, day: date
) -> list[Mention]:
    found: list[Mention] = []
    for match in gazetteer.find(tokens):
        people, best, best_without_institution = _what_entries_name(match.payloads)
        if people and _name_like(tokens[match.start : match.end], lexicon):
            term = gazetteer.resolve(people, day)
            if term is not None:
                detail = f"{term.country}:{term.official_id}"
                found.append(Mention(match.start, match.end, "person", term.country, detail))
            continue
        if (
            best is not best_without_institution
            and match.end - match.start == 1
            and not _institution_word(tokens, match.start)
        ):
            # "конгресс-центр", "the party congress": an institution's one-word name is
            # written with a capital ("Congress", "Кремль")
            best = best_without_institution
        if best is not None:
            found.append(Mention(match.start, match.end, best.kind, best.code, best.detail))
    return found


@lru_cache(maxsize=65_536)
def _what_entries_name(
    entries: tuple[Entry, ...],
) -> tuple[tuple[str, ...], Entry | None, Entry | None]:
    """What a phrase's gazetteer entries name, whatever the sentence: the people (official
    ids), and the mention its other entries make (None unless they all name one country),
    with and without its institution entries. Kept per tuple of entries: phrases recur."""
    people = tuple(e.detail for e in entries if e.kind == "person")
    others = [e for e in entries if e.kind != "person"]
    best = _one_country(others)
    if not any(e.kind == "institution" for e in others):
        return people, best, best
    return people, best, _one_country([e for e in others if e.kind != "institution"])


def _one_country(entries: list[Entry]) -> Entry | None:
    if not entries or len({e.code for e in entries}) != 1:
        return None
    return min(entries, key=lambda e: _KIND_RANK.get(e.detail, 3))


def _institution_word(tokens: Sequence[Token], i: int) -> bool:
    """A one-word institution name is capitalised and not part of a building's name."""
    following = tokens[i + 1].forms[0] if i + 1 < len(tokens) else ""
    return tokens[i].capitalised and following not in _BUILDINGS


def _name_like(tokens: Sequence[Token], lexicon: Lexicon) -> bool:
    """A person's name is capitalised; one word must not be an ordinary word ("May")."""
    first = tokens[0]
    if not first.capitalised:
        return False
    if len(tokens) == 1:
        return not first.text.isupper() and first.forms[0] not in lexicon.not_person_names
    return True
