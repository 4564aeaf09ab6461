"""The gazetteer: countries, places and office holders, loaded from news/data/*.json.

Country names, adjectives, demonyms and compound prefixes name possible *parties*; capitals
and cities are *locations* and never parties; office holders resolve to a country through
their term dates at the item's date, so "Japarov" means Kyrgyzstan in 2024 and nobody in 2015.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from news import data
from news.text import Match, PhraseMatcher, Token, tokenize

# Which list of countries.json a string comes from, and what it says about a mention.
_COUNTRY_FIELDS = {
    "names": "name",
    "adjectives": "adjective",
    "demonyms": "demonym",
    "compound_prefixes": "prefix",
}
_PLACE_FIELDS = {"capitals": "capital", "cities": "city"}
# Offices whose holder's trip abroad is itself the event ("visit"); a minister's trip is the
# frame of the talks he holds ("meeting") — the labelling practice of data/dev*.jsonl.
LEADER_OFFICES = frozenset(
    {"president", "prime_minister", "monarch", "chancellor", "crown_prince", "head_of_state"}
)


MAX_RESOLVED = 65_536  # (names, day) answers kept by Gazetteer.resolve; cleared when full


class GazetteerError(Exception):
    """The gazetteer files are missing or malformed."""


class Entry(NamedTuple):
    """What a matched phrase names: kind is country/location/institution/person.

    A NamedTuple: a tuple of them is hashed in C (news.sentence keeps what a match's entries
    say per tuple of entries).
    """

    kind: str
    code: str  # ISO code of the country (for a person: the country of that office term)
    detail: str  # name/adjective/demonym/prefix, capital/city, the institution, the official id


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name_en: str
    name_ru: str
    central_asian: bool


@dataclass(frozen=True, slots=True)
class Term:
    """One office held by one person over a period; ``end`` None means still in office."""

    official_id: str
    country: str
    office: str
    start: date
    end: date | None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Gazetteer:
    """Countries, places and office holders with one phrase matcher over all their names."""

    def __init__(
        self,
        countries: Mapping[str, Country],
        terms: Sequence[Term],
        matcher: PhraseMatcher[Entry],
    ) -> None:
        self.countries = dict(countries)
        self._terms: dict[str, list[Term]] = {}
        for term in terms:
            self._terms.setdefault(term.official_id, []).append(term)
        self._matcher = matcher
        self._resolved: dict[tuple[tuple[str, ...], date], Term | None] = {}

    @classmethod
    def load(cls, directory: Path | None = None) -> Gazetteer:
        """Read countries.json and officials.json: the bundled ones (news.data's shared
        loaders), or those in ``directory``."""
        try:
            if directory is None:
                countries, officials = data.countries(), data.officials()
            else:
                countries = data.read_json(directory / "countries.json")
                officials = data.read_json(directory / "officials.json")
        except data.DataFileError as exc:
            raise GazetteerError(f"cannot read the gazetteer: {exc}") from exc
        return cls.from_data(countries, officials)

    @classmethod
    def from_data(cls, countries: Mapping[str, Any], officials: Iterable[Any]) -> Gazetteer:
        """Build from the parsed JSON (schema in docs/gazetteer.md)."""
        try:
            ambiguous = {s.casefold() for s in countries.get("_ambiguous", [])}
            matcher: PhraseMatcher[Entry] = PhraseMatcher()
            table = {
                code: _add_country(matcher, code, raw, ambiguous)
                for code, raw in countries.items()
                if not code.startswith("_")
            }
            terms = [_add_official(matcher, raw) for raw in officials]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise GazetteerError(f"malformed gazetteer entry: {exc!r}") from exc
        return cls(table, terms, matcher)

    def find(self, tokens: Sequence[Token]) -> list[Match[Entry]]:
        """Every country, place, institution and person name in ``tokens``."""
        return self._matcher.find(tokens)

    def is_central_asian(self, code: str) -> bool:
        country = self.countries.get(code)
        return bool(country and country.central_asian)

    def resolve(self, official_ids: Iterable[str], on_date: date) -> Term | None:
        """The office term the people behind a name hold on ``on_date``.

        A name shared by people of two countries in office on that day is ambiguous (None).
        With nobody in office that day the person still belongs to one country, so the
        latest term is returned when all candidates share a country (a former leader
        is still a national of his country, and undated reports default to today).
        """
        ids = tuple(dict.fromkeys(official_ids))
        key = (ids, on_date)  # a name and a day: both recur, so the answer is kept
        if key in self._resolved:
            return self._resolved[key]
        if len(self._resolved) >= MAX_RESOLVED:
            self._resolved.clear()
        term = self._resolved[key] = self._resolve(ids, on_date)
        return term

    def _resolve(self, ids: tuple[str, ...], on_date: date) -> Term | None:
        terms = [t for i in ids for t in self._terms.get(i, [])]
        current = [t for t in terms if t.covers(on_date)]
        pool = current or terms
        if not pool or len({t.country for t in pool}) != 1:
            return None
        return max(pool, key=lambda t: t.start)

    def is_leader(self, official_id: str) -> bool:
        """Whether this person held a head of state or government office (any term)."""
        return any(t.office in LEADER_OFFICES for t in self._terms.get(official_id, ()))

    def resolve_person(self, name: str, on_date: date) -> tuple[str, str, str] | None:
        """``(official id, country, office)`` of the person called ``name`` on ``on_date``."""
        tokens = tokenize(name)
        for match in self.find(tokens):
            if match.start == 0 and match.end == len(tokens):
                ids = [e.detail for e in match.payloads if e.kind == "person"]
                term = self.resolve(ids, on_date)
                if term is not None:
                    return term.official_id, term.country, term.office
        return None


def _add_country(
    matcher: PhraseMatcher[Entry], code: str, raw: Mapping[str, Any], ambiguous: set[str]
) -> Country:
    def add(field: str, kind: str, detail: str) -> None:
        for phrases in raw.get(field, {}).values():
            for phrase in phrases:
                if phrase.casefold() not in ambiguous:
                    matcher.add(phrase, Entry(kind, code, detail))

    for field, detail in _COUNTRY_FIELDS.items():
        add(field, "country", detail)
    for field, detail in _PLACE_FIELDS.items():
        add(field, "location", detail)
    add("institutions", "institution", "institution")
    name = raw["name"]
    return Country(code, name["en"], name["ru"], bool(raw.get("central_asian", False)))


def _add_official(matcher: PhraseMatcher[Entry], raw: Mapping[str, Any]) -> Term:
    term = Term(
        official_id=raw["id"],
        country=raw["country"],
        office=raw["office"],
        start=date.fromisoformat(raw["from"]),
        end=date.fromisoformat(raw["to"]) if raw.get("to") else None,
    )
    for phrases in raw["names"].values():
        matcher.add_all(phrases, Entry("person", term.country, term.official_id), inflect=False)
    return term


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Trigger words, office words and cues (news/data/lexicon.json) as two matchers.

    ``core`` holds what builds an event (triggers, offices, institutions); ``cues`` what
    qualifies it (bilateral markers, summits, negation, sport, statistics ...). They are kept
    apart because matching is longest-first: "meeting with" as a cue must not swallow
    "meeting" as a trigger.
    """

    core: PhraseMatcher[str]
    cues: PhraseMatcher[str]
    not_person_names: frozenset[str]

    @classmethod
    def load(cls, path: Path | None = None) -> Lexicon:
        """The bundled lexicon (news.data's shared loader), or the one at ``path``."""
        try:
            raw = data.lexicon() if path is None else data.read_json(path)
            return cls(
                _category_matcher(raw["core"]),
                _category_matcher(raw["cues"]),
                frozenset(raw.get("not_person_names", [])),
            )
        except (data.DataFileError, KeyError, TypeError, AttributeError) as exc:
            where = path or "lexicon.json"
            raise GazetteerError(f"cannot read the lexicon {where}: {exc!r}") from exc


def _category_matcher(groups: Mapping[str, Mapping[str, Iterable[str]]]) -> PhraseMatcher[str]:
    matcher: PhraseMatcher[str] = PhraseMatcher()
    for category, languages in groups.items():
        for phrases in languages.values():
            matcher.add_all(phrases, category)
    return matcher
