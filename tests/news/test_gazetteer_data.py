"""The gazetteer data files (news/data/countries.json, officials.json), checked as plain JSON.

These tests read the files directly rather than through news.gazetteer, so a broken file is
reported here with the offending entry even when the loader would fail in a less helpful way.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "news" / "data"

# The 193 UN member states (ISO 3166-1 alpha-2).
_UN_CODES = """
    AF AL DZ AD AO AG AR AM AU AT AZ BS BH BD BB BY BE BZ BJ BT BO BA BW BR BN BG BF BI CV KH
    CM CA CF TD CL CN CO KM CG CR CI HR CU CY CZ KP CD DK DJ DM DO EC EG SV GQ ER EE SZ ET FJ
    FI FR GA GM GE DE GH GR GD GT GN GW GY HT HN HU IS IN ID IR IQ IE IL IT JM JP JO KZ KE KI
    KW KG LA LV LB LS LR LY LI LT LU MG MW MY MV ML MT MH MR MU MX FM MC MN ME MA MZ MM NA NR
    NP NL NZ NI NE NG MK NO OM PK PW PA PG PY PE PH PL PT QA KR MD RO RU RW KN LC VC WS SM ST
    SA SN RS SC SL SG SK SI SB SO ZA SS ES LK SD SR SE CH SY TJ TH TL TG TO TT TN TR TM TV UG
    UA AE GB TZ US UY UZ VU VE VN YE ZM ZW
"""
UN_MEMBERS = frozenset(_UN_CODES.split())
CENTRAL_ASIA = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})
# Non-UN entities that Central Asian news mentions; each must be marked un_member: false.
NON_UN_ALLOWED = frozenset({"TW", "PS", "VA", "XK"})
MAIN_PARTNERS = frozenset({"RU", "CN", "TR", "US", "EU", "AZ", "AF", "IR", "PK", "IN", "JP", "KR"})
# The only place legitimately listed for two entries: the EU institutions sit in Brussels.
SHARED_PLACES = {"brussels": {"BE", "EU"}, "брюссель": {"BE", "EU"}}

LIST_FIELDS = ("names", "adjectives", "demonyms", "capitals", "cities", "institutions")
REQUIRED_KEYS = {
    "name",
    "names",
    "adjectives",
    "demonyms",
    "compound_prefixes",
    "capitals",
    "flag",
    "central_asian",
    "un_member",
}
OPTIONAL_KEYS = {"cities", "institutions"}
OFFICES = frozenset(
    {
        "president",
        "vice_president",
        "prime_minister",
        "foreign_minister",
        "monarch",
        "crown_prince",
        "chancellor",
        "eu_commission_president",
        "eu_council_president",
        "eu_high_representative",
        "chairman",
        "head_of_state",
    }
)
HEAD_OF_STATE_OFFICES = ("president", "head_of_state", "monarch")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
TODAY = date(2026, 11, 29)


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def countries() -> dict[str, Any]:
    data = _load("countries.json")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def entries(countries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: e for code, e in countries.items() if code != "_ambiguous"}


@pytest.fixture(scope="module")
def officials() -> list[dict[str, Any]]:
    data = _load("officials.json")
    assert isinstance(data, list)
    return data


def _span(row: dict[str, Any]) -> tuple[date, date]:
    end = date.fromisoformat(row["to"]) if row["to"] else date.max
    return date.fromisoformat(row["from"]), end


Terms = dict[tuple[str, str], list[tuple[date, date, str]]]


@pytest.fixture(scope="module")
def terms(officials: list[dict[str, Any]]) -> Terms:
    """Terms grouped by (country, office) as (first day, last day, official id)."""
    grouped: Terms = defaultdict(list)
    for row in officials:
        grouped[row["country"], row["office"]].append((*_span(row), row["id"]))
    return dict(grouped)


def _holders(terms: Terms, country: str, office: str, day: date) -> list[str]:
    return [pid for start, end, pid in terms.get((country, office), []) if start <= day <= end]


# ---------------------------------------------------------------- countries.json


def test_every_un_member_and_the_eu_is_present(entries: dict[str, dict[str, Any]]) -> None:
    assert len(UN_MEMBERS) == 193
    missing = UN_MEMBERS - set(entries)
    assert not missing, f"missing UN members: {sorted(missing)}"
    assert "EU" in entries
    extra = set(entries) - UN_MEMBERS - {"EU"}
    assert extra <= NON_UN_ALLOWED, f"unexpected entries: {sorted(extra - NON_UN_ALLOWED)}"


def test_only_iso_codes_eu_and_the_ambiguous_list_are_keys(countries: dict[str, Any]) -> None:
    for code in countries:
        assert re.fullmatch(r"[A-Z]{2}", code) or code == "_ambiguous", code


def test_un_membership_and_central_asian_flags(entries: dict[str, dict[str, Any]]) -> None:
    for code, e in entries.items():
        assert e["un_member"] is (code in UN_MEMBERS), code
        assert e["central_asian"] is (code in CENTRAL_ASIA), code


def test_entry_schema(entries: dict[str, dict[str, Any]]) -> None:
    for code, e in entries.items():
        keys = set(e)
        assert keys >= REQUIRED_KEYS, (code, REQUIRED_KEYS - keys)
        assert keys <= REQUIRED_KEYS | OPTIONAL_KEYS, (code, keys - REQUIRED_KEYS - OPTIONAL_KEYS)
        assert set(e["name"]) == {"en", "ru"}, code
        assert all(isinstance(v, str) and v.strip() for v in e["name"].values()), code
        for field in LIST_FIELDS:
            if field not in e:
                continue
            assert set(e[field]) == {"en", "ru"}, (code, field)
            for values in e[field].values():
                assert isinstance(values, list), (code, field)
                assert all(isinstance(v, str) and v == v.strip() and v for v in values)
                assert len(values) == len(set(values)), (code, field, "duplicate")
        assert set(e["compound_prefixes"]) == {"ru"}, code


def test_every_entry_has_english_and_russian_names_and_capitals(
    entries: dict[str, dict[str, Any]],
) -> None:
    for code, e in entries.items():
        for lang in ("en", "ru"):
            assert e["names"][lang], (code, lang, "names")
            assert e["capitals"][lang], (code, lang, "capitals")


def test_flag_is_the_regional_indicator_pair_of_the_code(
    entries: dict[str, dict[str, Any]],
) -> None:
    for code, e in entries.items():
        expected = "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in code)
        assert e["flag"] == expected, code


def test_languages_are_not_swapped(entries: dict[str, dict[str, Any]]) -> None:
    """English lists hold no Cyrillic; Russian lists are written in Cyrillic."""
    for code, e in entries.items():
        for field in (*LIST_FIELDS, "compound_prefixes"):
            for lang, values in e.get(field, {}).items():
                for v in values:
                    if lang == "en":
                        assert not CYRILLIC.search(v), (code, field, v)
                    else:
                        assert CYRILLIC.search(v), (code, field, v)


def test_russian_adjectives_are_in_dictionary_form(entries: dict[str, dict[str, Any]]) -> None:
    """pymorphy3 lemmas of adjectives are masculine nominative singular (-ий/-ый/-ой)."""
    for code, e in entries.items():
        for adj in e["adjectives"]["ru"]:
            assert adj == adj.lower() and adj.endswith(("ий", "ый", "ой")), (code, adj)
        for prefix in e["compound_prefixes"]["ru"]:
            assert prefix == prefix.lower() and prefix.endswith(("о", "е")), (code, prefix)


def test_central_asia_and_partners_have_compound_prefixes(
    entries: dict[str, dict[str, Any]],
) -> None:
    for code in CENTRAL_ASIA | MAIN_PARTNERS:
        assert entries[code]["compound_prefixes"]["ru"], code
    assert {"кыргызско", "киргизско"} <= set(entries["KG"]["compound_prefixes"]["ru"])
    assert {"российско", "русско"} <= set(entries["RU"]["compound_prefixes"]["ru"])


def test_central_asia_has_cities(entries: dict[str, dict[str, Any]]) -> None:
    for code in CENTRAL_ASIA:
        assert entries[code]["cities"]["en"] and entries[code]["cities"]["ru"], code
    assert "Samarkand" in entries["UZ"]["cities"]["en"]
    assert "Чолпон-Ата" in entries["KG"]["cities"]["ru"]


def test_historic_and_alternative_names(entries: dict[str, dict[str, Any]]) -> None:
    assert "Kirghizia" in entries["KG"]["names"]["en"]
    assert "Киргизия" in entries["KG"]["names"]["ru"] + [entries["KG"]["name"]["ru"]]
    assert "Turkmenia" in entries["TM"]["names"]["en"]
    assert "Burma" in entries["MM"]["names"]["en"]
    assert "Swaziland" in entries["SZ"]["names"]["en"]
    assert {"Czech Republic", "Czechia"} <= set(entries["CZ"]["names"]["en"])
    assert "Türkiye" in entries["TR"]["names"]["en"]
    assert "DPRK" in entries["KP"]["names"]["en"]
    assert entries["US"]["name"] == {"en": "United States", "ru": "США"}


def test_no_name_variant_names_two_countries(countries: dict[str, Any]) -> None:
    ambiguous = {a.lower() for a in countries["_ambiguous"]}
    owners: dict[str, set[str]] = defaultdict(set)
    for code, e in countries.items():
        if code == "_ambiguous":
            continue
        for field in ("names", "adjectives", "demonyms", "compound_prefixes"):
            for values in e[field].values():
                for v in values:
                    owners[v.lower()].add(code)
    shared = {v: c for v, c in owners.items() if len(c) > 1 and v not in ambiguous}
    assert not shared, shared
    listed_anyway = {v: owners[v] for v in ambiguous if v in owners}
    assert not listed_anyway, f"ambiguous strings still listed under a country: {listed_anyway}"


def test_ambiguous_list_holds_the_known_cases(countries: dict[str, Any]) -> None:
    ambiguous = countries["_ambiguous"]
    assert isinstance(ambiguous, list) and all(isinstance(a, str) for a in ambiguous)
    assert {"Congo", "Korea", "Guinea", "Конго", "Корея"} <= set(ambiguous)


def test_a_place_belongs_to_one_country(entries: dict[str, dict[str, Any]]) -> None:
    places: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)
    for code, e in entries.items():
        for field in ("capitals", "cities"):
            for values in e.get(field, {}).values():
                for v in values:
                    places[v.lower()].add(code)
        for field in ("names", "adjectives", "demonyms"):
            for values in e[field].values():
                for v in values:
                    names[v.lower()].add(code)
    for place, codes in places.items():
        assert len(codes) == 1 or SHARED_PLACES.get(place) == codes, (place, codes)
        assert not (names.get(place, set()) - codes), (place, codes, names[place])


# ---------------------------------------------------------------- officials.json


def test_official_schema(officials: list[dict[str, Any]], entries: dict[str, Any]) -> None:
    for row in officials:
        assert set(row) == {"id", "country", "office", "names", "from", "to"}, row
        assert re.fullmatch(r"[a-z]{2}-[a-z0-9-]+", row["id"]), row["id"]
        assert row["country"] in entries, row
        assert row["office"] in OFFICES, row
        assert set(row["names"]) == {"en", "ru"}, row["id"]
        for lang, names in row["names"].items():
            assert names and len(names) == len(set(names)), (row["id"], lang)
            for n in names:
                assert isinstance(n, str) and n == n.strip() and n, (row["id"], n)
                assert bool(CYRILLIC.search(n)) is (lang == "ru"), (row["id"], lang, n)


def test_term_dates_are_iso_and_ordered(officials: list[dict[str, Any]]) -> None:
    for row in officials:
        assert ISO_DATE.match(row["from"]), row
        assert row["to"] is None or ISO_DATE.match(row["to"]), row
        start, end = _span(row)
        assert start <= end, row
        assert start <= TODAY, row
        assert row["to"] is None or end <= TODAY, row


def test_one_holder_per_office_per_day(terms: Terms) -> None:
    for key, spans in terms.items():
        ordered = sorted(spans)
        for (_, end, first), (start, _, second) in pairwise(ordered):
            assert start > end, f"{key}: {first} until {end} overlaps {second} from {start}"


def test_an_id_names_one_person(officials: list[dict[str, Any]]) -> None:
    """The same person keeps one id across terms; two people never share an id."""
    names_by_id: dict[str, dict[str, list[str]]] = {}
    for row in officials:
        seen = names_by_id.setdefault(row["id"], row["names"])
        assert seen == row["names"], row["id"]
    full_names: dict[str, str] = {}
    for pid, names in names_by_id.items():
        owner = full_names.setdefault(names["en"][0], pid)
        assert owner == pid, (names["en"][0], owner, pid)


def test_central_asian_heads_of_state_cover_2000_to_today(terms: Terms) -> None:
    day = date(2000, 1, 1)
    while day <= TODAY:
        for code in CENTRAL_ASIA:
            found = [h for o in HEAD_OF_STATE_OFFICES for h in _holders(terms, code, o, day)]
            assert len(found) == 1, (code, day, found)
        day += timedelta(days=9)


def test_central_asian_foreign_ministers_cover_2000_to_today(terms: Terms) -> None:
    # Known, documented gap: Kyrgyzstan between Otunbayeva (acting) and Jekshenkulov in 2005.
    gaps = {"KG": (date(2005, 10, 1), date(2005, 11, 30))}
    day = date(2000, 1, 1)
    while day <= TODAY:
        for code in CENTRAL_ASIA:
            gap = gaps.get(code)
            if gap and gap[0] <= day <= gap[1]:
                continue
            assert len(_holders(terms, code, "foreign_minister", day)) == 1, (code, day)
        day += timedelta(days=9)


@pytest.mark.parametrize(
    ("country", "office"),
    [
        ("KZ", "president"),
        ("KZ", "prime_minister"),
        ("KZ", "foreign_minister"),
        ("KG", "president"),
        ("KG", "prime_minister"),
        ("KG", "foreign_minister"),
        ("TJ", "president"),
        ("TJ", "prime_minister"),
        ("TJ", "foreign_minister"),
        ("TM", "president"),
        ("TM", "chairman"),
        ("TM", "foreign_minister"),
        ("UZ", "president"),
        ("UZ", "prime_minister"),
        ("UZ", "foreign_minister"),
        ("RU", "president"),
        ("RU", "prime_minister"),
        ("RU", "foreign_minister"),
        ("CN", "president"),
        ("CN", "prime_minister"),
        ("CN", "foreign_minister"),
        ("TR", "president"),
        ("TR", "foreign_minister"),
        ("US", "president"),
        ("US", "foreign_minister"),
        ("EU", "eu_commission_president"),
        ("EU", "eu_council_president"),
        ("EU", "eu_high_representative"),
        ("AF", "prime_minister"),
        ("AF", "foreign_minister"),
    ],
)
def test_someone_holds_the_office_today(terms: Terms, country: str, office: str) -> None:
    assert len(_holders(terms, country, office, TODAY)) == 1


@pytest.mark.parametrize(
    ("country", "office", "day", "expected"),
    [
        ("TM", "president", "2021-06-01", "tm-berdimuhamedov-g"),
        ("TM", "president", "2023-01-01", "tm-berdimuhamedov-s"),
        ("TM", "chairman", "2024-05-01", "tm-berdimuhamedov-g"),
        ("CN", "foreign_minister", "2023-03-01", "cn-qin-gang"),
        ("CN", "foreign_minister", "2024-03-01", "cn-wang-yi"),
        ("KZ", "president", "2018-06-01", "kz-nazarbayev"),
        ("KZ", "prime_minister", "2001-01-01", "kz-tokayev"),
        ("UZ", "prime_minister", "2010-01-01", "uz-mirziyoyev"),
        ("US", "president", "2022-01-01", "us-biden"),
        ("US", "president", "2026-01-01", "us-trump"),
        ("RU", "president", "2010-01-01", "ru-medvedev"),
        ("EU", "eu_council_president", "2026-01-01", "pt-costa"),
        ("AF", "foreign_minister", "2022-01-01", "af-muttaqi"),
    ],
)
def test_office_holder_on_a_date(
    terms: Terms, country: str, office: str, day: str, expected: str
) -> None:
    assert _holders(terms, country, office, date.fromisoformat(day)) == [expected]


def test_shared_surname_is_told_apart_by_first_name(officials: list[dict[str, Any]]) -> None:
    """Father and son Berdimuhamedov share the surname; their first names tell them apart."""
    names = {r["id"]: set(r["names"]["en"]) | set(r["names"]["ru"]) for r in officials}
    father, son = names["tm-berdimuhamedov-g"], names["tm-berdimuhamedov-s"]
    assert "Berdimuhamedov" in father & son
    assert "Serdar Berdimuhamedov" in son - father
    assert "Сердар Бердымухамедов" in son - father
    assert "Gurbanguly Berdimuhamedov" in father - son
