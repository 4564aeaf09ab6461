"""Topics and /filter words on English and Russian sentences written for these tests."""

from __future__ import annotations

import pytest

from news.topics import (
    MAX_FILTER_WORDS,
    TOPIC_KEYS,
    FilterError,
    english_stem,
    find_topics,
    keyword_filter,
    merge_topics,
    parse_filter_words,
    report_terms,
    topic_label,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The two presidents agreed to extend the gas pipelines and to export more electricity.",
            {"energy", "trade"},
        ),
        (
            "Ministers discussed the new railway and transit of cargo via the Caspian ports.",
            {"transport"},
        ),
        ("The sides signed a memorandum on border delimitation and a new checkpoint.", {"border"}),
        (
            "Agreements on healthcare, universities and student exchanges were signed.",
            {"health", "education"},
        ),
        (
            "Investors from Seoul will finance a cotton processing factory.",
            {"investment", "agriculture", "industry"},
        ),
        ("Стороны обсудили поставки газа и строительство новой гидроэлектростанции.", {"energy"}),
        (
            "Министры договорились о совместном использовании воды рек региона и орошении полей.",
            {"water"},
        ),
        ("Обсуждены вопросы трудовых мигрантов и безвизового режима.", {"migration"}),
        (
            "Подписано соглашение о военно-техническом сотрудничестве и борьбе с терроризмом.",
            {"security"},
        ),
        (
            "Речь шла о развитии железных дорог, туризма и цифровизации госуслуг.",
            {"transport", "culture", "digital"},
        ),
    ],
)
def test_topics_are_found_in_english_and_russian(text: str, expected: set[str]) -> None:
    assert set(find_topics(text)) == expected


def test_a_road_map_or_a_greeting_is_no_topic() -> None:
    assert find_topics("The leaders signed a road map and exchanged greetings.") == ()
    assert find_topics("Президент пожелал коллеге крепкого здоровья и успехов.") == ()
    assert find_topics("В аэропорту гостя встретил премьер-министр.") == ()
    assert find_topics("The Minister of Finance was met at the airport.") == ()


def test_topics_come_in_the_lists_order_and_merge() -> None:
    found = find_topics("Trade and energy", "Торговля и энергетика")
    assert found == ("energy", "trade")
    assert merge_topics(("trade",), ("energy", "unknown")) == ("energy", "trade")
    assert list(found) == [key for key in TOPIC_KEYS if key in found]


def test_labels_are_in_the_users_language() -> None:
    assert topic_label("transport", "en") == "transport and logistics"
    assert topic_label("transport", "ru") == "транспорт и логистика"
    assert topic_label("nonsense", "ru") == "nonsense"


def test_english_inflections_share_a_stem() -> None:
    assert english_stem("pipelines") == english_stem("pipeline")
    assert english_stem("trading") == english_stem("traded") == english_stem("trade")
    assert english_stem("gas") == "gas"
    assert english_stem("business") == "business"


def test_a_filter_word_matches_any_inflection() -> None:
    russian = keyword_filter("хлопок")
    terms = report_terms("Узбекистан увеличит поставки хлопка в Китай.")
    assert russian.matches(terms, ())
    english = keyword_filter("pipeline")
    assert english.matches(report_terms("Two new pipelines were discussed."), ())
    assert not english.matches(report_terms("A talk on tourism."), ())


def test_a_topic_name_stands_for_its_words() -> None:
    for name in ("energy", "энергетика", "энергетику"):
        chosen = keyword_filter(name)
        assert chosen.topics == frozenset({"energy"})
        # No word "energy" in the report, but its topic is energy (gas).
        assert chosen.matches(report_terms("Поставки газа"), ("energy",))
    assert not keyword_filter("energy").matches(report_terms("Talks"), ("trade",))


def test_filter_words_are_normalised_and_limited() -> None:
    assert parse_filter_words(["Gas,", "НЕФТЬ", "gas", "ёлка"]) == ("gas", "нефть", "елка")
    with pytest.raises(FilterError):
        parse_filter_words([f"w{n}" for n in range(MAX_FILTER_WORDS + 1)])
    with pytest.raises(FilterError):
        parse_filter_words(["x" * 41])
    with pytest.raises(FilterError):
        parse_filter_words(["!!!"])


def test_a_filter_word_does_not_match_a_rare_reading_of_another_report_word() -> None:
    steel = keyword_filter("сталь")
    # "стали" here is the verb "стать" (became), by far its most likely reading.
    assert not steel.matches(report_terms("Стороны стали ближе друг к другу."), ())
    assert steel.matches(report_terms("Узбекистан закупит сталь и прокат."), ())
    assert steel.matches(report_terms("Поставки стальных труб и листовой сталью."), ())


def test_an_english_word_ending_in_s_that_is_no_plural_keeps_its_s() -> None:
    news = keyword_filter("news")
    assert not news.matches(report_terms("A new railway was discussed."), ())
    assert news.matches(report_terms("The news agencies reported the talks."), ())
    goods = keyword_filter("goods")
    assert not goods.matches(report_terms("The presidents noted good relations."), ())
    assert goods.matches(report_terms("Trade in goods grew."), ())
    assert keyword_filter("railways").matches(report_terms("A new railway."), ())
