"""Country look-up for the CLI, the web page and /export: a code, a suggestion, or a refusal."""

from __future__ import annotations

from news.countries import CountryLookup, look_up_country


def test_look_up_country_gives_the_code_a_suggestion_or_refuses_long_text() -> None:
    assert look_up_country(" Таджикистан ") == CountryLookup("TJ")
    assert look_up_country("Tajikstan") == CountryLookup(None, suggestion="TJ")
    assert look_up_country("Atlantis") == CountryLookup(None)
    assert look_up_country("x" * 101) == CountryLookup(None, too_long=True)
