"""Per-item language detection."""

from news.language import cyrillic_share, detect_language


def test_russian_item_with_latin_names_is_russian() -> None:
    assert detect_language("Президент встретился с делегацией Kazinform и UzDaily.com") == "ru"


def test_english_item_is_english() -> None:
    assert detect_language("The president met the Kyrgyz delegation in Bishkek.") == "en"


def test_text_without_letters_defaults_to_english() -> None:
    assert cyrillic_share("12345 !!!") == 0.0
    assert detect_language("") == "en"
