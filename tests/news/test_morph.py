"""Russian lemmatisation: inflected names and words reach their dictionary form."""

from news.morph import lemma, lemmas
from news.text import split_sentences, tokenize


def test_inflected_country_and_surnames_reach_the_nominative() -> None:
    assert lemma("Таджикистана") == "таджикистан"
    assert "токаев" in lemmas("Токаевым")
    assert "жапаров" in lemmas("Жапарова")


def test_yo_and_ye_spellings_meet() -> None:
    assert set(lemmas("Мирзиёеву")) & set(lemmas("Мирзиееву"))


def test_compound_adjective_splits_into_prefix_and_adjective() -> None:
    words = [t.forms for t in tokenize("узбекско-таджикских переговоров")]
    assert words[0][0] == "узбекско"
    assert "таджикский" in words[1]


def test_sentences_do_not_break_after_abbreviations_or_initials() -> None:
    text = "On Nov. 29 Minister S. Jaishankar met Mr. Saidov. Next sentence."
    assert split_sentences(text) == [
        "On Nov. 29 Minister S. Jaishankar met Mr. Saidov.",
        "Next sentence.",
    ]
