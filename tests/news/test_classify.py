"""Classifier rules on composed sentences (never copied from the labelled data)."""

from __future__ import annotations

from datetime import date

import pytest

from news.classify import Classifier
from news.records import Classification

DAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


def run(classifier: Classifier, title: str, text: str = "") -> Classification:
    return classifier.classify(title, text, published=DAY)


POSITIVES = [
    # English: offices, people, capitals as destinations, summit sidelines, pairs
    (
        "",
        "President of Kazakhstan Kassym-Jomart Tokayev held talks with Chinese President "
        "Xi Jinping in Astana on Tuesday.",
        "meeting",
        ("CN", "KZ"),
    ),
    (
        "Uzbek President Shavkat Mirziyoyev will pay a state visit to Turkey next month.",
        "",
        "visit",
        ("TR", "UZ"),
    ),
    (
        "",
        "Tajik President Emomali Rahmon arrived in Tashkent on an official visit.",
        "visit",
        ("TJ", "UZ"),
    ),
    ("Sadyr Japarov and Vladimir Putin spoke by phone", "", "call", ("KG", "RU")),
    (
        "",
        "The foreign ministers of Turkmenistan and Russia signed a memorandum on consultations "
        "between the two ministries.",
        "agreement",
        ("RU", "TM"),
    ),
    (
        "",
        "On the sidelines of the SCO summit, Kazakh President Tokayev met with the President "
        "of Turkey Recep Tayyip Erdogan.",
        "meeting",
        ("KZ", "TR"),
    ),
    (
        "",
        "On the sidelines of the summit, Mirziyoyev held separate bilateral meetings with "
        "Xi Jinping and Vladimir Putin.",
        "meeting",
        ("CN", "UZ"),  # an event has exactly two parties: the subject and the first partner
    ),
    # Russian: inflected names, compound adjectives, genitive offices
    (
        "",
        "Президент Узбекистана Шавкат Мирзиёев провёл телефонный разговор с Президентом "
        "Казахстана Касым-Жомартом Токаевым.",
        "call",
        ("KZ", "UZ"),
    ),
    ("Садыр Жапаров прибыл с государственным визитом в Таджикистан", "", "visit", ("KG", "TJ")),
    (
        "",
        "Министры иностранных дел Туркменистана и России подписали меморандум о сотрудничестве.",
        "agreement",
        ("RU", "TM"),
    ),
    (
        "Состоялись узбекско-таджикские переговоры",
        "Президенты обсудили вопросы границы.",
        "meeting",
        ("TJ", "UZ"),
    ),
    # an invitation to visit made during a call is a call, not a visit
    (
        "",
        "Rahmon invited Erdogan to visit Dushanbe during a telephone conversation.",
        "call",
        ("TJ", "TR"),
    ),
]


@pytest.mark.parametrize(("title", "text", "event_type", "countries"), POSITIVES)
def test_bilateral_events_are_found_with_their_parties(
    classifier: Classifier, title: str, text: str, event_type: str, countries: tuple[str, ...]
) -> None:
    result = run(classifier, title, text)
    assert result.label, result.notes
    assert result.event_type == event_type
    assert result.countries == countries
    assert result.confidence >= 0.5
    assert result.evidence and result.evidence[0].spans


NEGATIVES = [
    # a capital or city is a location, never a party
    ("", "Kazakh President Tokayev held a meeting with the mayor of Almaty in Astana."),
    # a trip inside one's own country
    ("", "President Shavkat Mirziyoyev arrived in Samarkand on a working trip."),
    ("", "Президент Кыргызстана Садыр Жапаров посетит Иссык-Кульскую область с рабочим визитом."),
    # a law or decree signed at home
    ("Tokayev signed the law on the national budget", ""),
    ("", "Президент Таджикистана Эмомали Рахмон подписал указ о назначении министра."),
    # sport between national teams
    ("", "The national football team of Uzbekistan defeated Tajikistan in a friendly match."),
    ("Сборная Казахстана обыграла команду Китая", "Матч прошёл в Алматы."),
    # statistics
    ("", "Trade turnover between Kazakhstan and China grew by 20 percent last year."),
    # companies only
    ("", "An Uzbek company and a Chinese holding signed a cooperation agreement in Tashkent."),
    # multilateral formats, and a trip whose only purpose is a summit
    (
        "",
        "The presidents of Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan and Uzbekistan met "
        "at the consultative meeting of the heads of Central Asian states.",
    ),
    ("", "President Tokayev departed for Moscow to attend the CSTO summit."),
    # negation
    ("", "The visit of Uzbek President Mirziyoyev to Turkey will not take place."),
    ("", "Визит президента Кыргызстана Садыра Жапарова в Китай отменён."),
    # no Central Asian party
    ("", "Russian President Vladimir Putin held talks with Chinese President Xi Jinping."),
    # a letter is not a meeting
    ("", "Tokayev received a congratulatory letter from President Xi Jinping."),
    # private persons
    ("", "A Kazakh singer gave a concert in Beijing attended by Chinese students."),
]


@pytest.mark.parametrize(("title", "text"), NEGATIVES)
def test_hard_negatives_are_rejected(classifier: Classifier, title: str, text: str) -> None:
    result = run(classifier, title, text)
    assert not result.label, result.evidence
    assert result.event_type == "none"
    assert result.countries == ()


def test_office_holder_resolves_by_the_items_date(classifier: Classifier) -> None:
    gazetteer = classifier.gazetteer
    assert gazetteer.resolve_person("Gurbanguly Berdimuhamedov", date(2020, 5, 1)) == (
        "tm-berdimuhamedov-g",
        "TM",
        "president",
    )
    assert gazetteer.resolve_person("Serdar Berdimuhamedov", date(2023, 5, 1)) == (
        "tm-berdimuhamedov-s",
        "TM",
        "president",
    )


def test_evidence_names_the_official_for_grouping(classifier: Classifier) -> None:
    result = run(classifier, "", "Tokayev met Mirziyoyev in Samarkand.")
    people = {s.value for ev in result.evidence for s in ev.spans if s.kind == "person"}
    assert {"KZ:kz-tokayev", "UZ:uz-mirziyoyev"} <= people
    places = {s.value for ev in result.evidence for s in ev.spans if s.kind == "location"}
    assert places == {"UZ"}


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("", ""),
        ("\x00\x01\xff\ufffd", "\x89PNG\r\n\x1a\n\x00\x00"),
        ("<div><p>", "</p><script>var a = 1;</script>&nbsp;&amp;"),
        ("Tokayev", "Токаев met " * 100_000),
    ],
)
def test_bad_input_gives_a_low_confidence_negative(
    classifier: Classifier, title: str, text: str
) -> None:
    result = run(classifier, title, text)
    assert not result.label
    assert result.confidence <= 0.95


def test_html_remnants_do_not_hide_an_event(classifier: Classifier) -> None:
    text = "<p>Kyrgyz President <b>Sadyr Japarov</b> met Russian President Vladimir Putin.</p>"
    result = run(classifier, "", text)
    assert result.label and result.countries == ("KG", "RU")
