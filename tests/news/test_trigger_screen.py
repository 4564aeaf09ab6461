"""The classifier's shortcut for items without a trigger word gives the full reading's verdict."""

from __future__ import annotations

import pytest

from news.classify import Classifier
from news.gazetteer import Lexicon
from news.sentence import read, trigger_screen

SENTENCES = [
    "President Tokayev met with Chinese President Xi Jinping in Astana.",
    "Президенты Казахстана и Китая провели переговоры по телефону.",
    "Шавкат Мирзиёев прибыл в Душанбе с государственным визитом.",
    "The ministers signed a memorandum on cooperation.",
    "Uzbekistan's exports of cotton rose by 12 percent on the year.",
    "В Ташкенте прошла выставка современного искусства.",
    "Kyrgyzstan will host the next round on a visit-free regime.",
]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


@pytest.mark.parametrize("sentence", SENTENCES)
def test_screen_passes_every_sentence_with_a_trigger(lexicon: Lexicon, sentence: str) -> None:
    if read(sentence, lexicon).triggers:
        assert trigger_screen(lexicon).may_match(sentence)


def test_screen_stops_sentences_without_trigger_words(lexicon: Lexicon) -> None:
    screen = trigger_screen(lexicon)
    assert not screen.may_match("Uzbekistan's exports of cotton rose by 12 percent.")
    assert not screen.may_match("В Ташкенте прошла выставка современного искусства.")
    assert screen.may_match("Токаев встретился с Си Цзиньпином.")  # an inflected trigger


def test_item_without_trigger_word_is_a_confident_negative() -> None:
    verdict = Classifier().classify(
        "Cotton exports of Uzbekistan rose", "Kazakhstan and China reported record harvests."
    )
    assert (verdict.label, verdict.confidence, verdict.evidence, verdict.notes) == (
        False,
        0.95,
        (),
        (),
    )
