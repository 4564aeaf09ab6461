"""The classifier's shortcut for items without a trigger word gives the full reading's verdict."""

from __future__ import annotations

import pytest

from news.classify import Classifier
from news.gazetteer import Lexicon
from news.sentence import office_screen, read, trigger_screen, unread, with_cues

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


@pytest.mark.parametrize("sentence", SENTENCES)
def test_office_screen_passes_every_sentence_with_an_office(
    lexicon: Lexicon, sentence: str
) -> None:
    if read(sentence, lexicon).roles:
        assert office_screen(lexicon).may_match(sentence)


@pytest.mark.parametrize("sentence", SENTENCES)
def test_an_unread_sentence_read_for_cues_is_the_read_one(lexicon: Lexicon, sentence: str) -> None:
    """A sentence neither screen passes is left unread; if the item turns out to need its
    cues, it ends up exactly as if it had been read."""
    read_one = read(sentence, lexicon)
    if read_one.triggers or read_one.roles:
        return
    assert with_cues(unread(sentence), lexicon) == with_cues(read_one, lexicon)


def test_an_unread_sentence_still_lends_its_cues_to_a_positive_item() -> None:
    # no trigger and no office word: left unread until the item turns out to hold an event;
    # then its "shootout" (an incident cue) makes the item doubtful, as before
    classifier = Classifier()
    title = "President Tokayev met with Chinese President Xi Jinping"
    calm = classifier.classify(title, "They discussed trade.")
    clash = classifier.classify(title, "They discussed trade. A shootout was reported nearby.")
    assert (calm.label, clash.label) == (True, True)
    assert clash.confidence == pytest.approx(calm.confidence - 0.25)
