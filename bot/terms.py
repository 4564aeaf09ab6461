"""The words news.facts finds (signed documents, sectors) in the reader's language.

news.facts keeps the words as the report wrote them, so an event reported in English lists
"agreements" and "water"; a Russian reader gets them in Russian, and an English reader of a
Russian report gets "agreement" for "соглашения". A word we have no translation for is shown
as written.
"""

from __future__ import annotations

import re

_RU: dict[str, str] = {
    # documents (news.facts._DOCUMENTS)
    "memorandum of understanding": "меморандум о взаимопонимании",
    "memoranda of understanding": "меморандумы о взаимопонимании",
    "memorandums of understanding": "меморандумы о взаимопонимании",
    "memorandum": "меморандум",
    "memoranda": "меморандумы",
    "memorandums": "меморандумы",
    "roadmap": "дорожная карта",
    "road map": "дорожная карта",
    "roadmaps": "дорожные карты",
    "road maps": "дорожные карты",
    "treaty": "договор",
    "treaties": "договоры",
    "protocol": "протокол",
    "protocols": "протоколы",
    "declaration": "декларация",
    "declarations": "декларации",
    "joint statement": "совместное заявление",
    "joint statements": "совместные заявления",
    "programme": "программа",
    "programmes": "программы",
    "program": "программа",
    "programs": "программы",
    "action plan": "план действий",
    "action plans": "планы действий",
    "agreement": "соглашение",
    "agreements": "соглашения",
    "accord": "соглашение",
    "accords": "соглашения",
    "contract": "контракт",
    "contracts": "контракты",
    "document": "документ",
    "documents": "документы",
    # sectors (news.facts._SECTORS)
    "health care": "здравоохранение",
    "healthcare": "здравоохранение",
    "public health": "здравоохранение",
    "trade": "торговля",
    "energy": "энергетика",
    "transport": "транспорт",
    "transportation": "транспорт",
    "logistics": "логистика",
    "agriculture": "сельское хозяйство",
    "agricultural": "сельское хозяйство",
    "education": "образование",
    "culture": "культура",
    "sport": "спорт",
    "sports": "спорт",
    "tourism": "туризм",
    "aerospace": "авиакосмическая отрасль",
    "space": "космос",
    "infrastructure": "инфраструктура",
    "investment": "инвестиции",
    "investments": "инвестиции",
    "security": "безопасность",
    "defence": "оборона",
    "defense": "оборона",
    "water": "водные ресурсы",
    "water resources": "водные ресурсы",
    "customs": "таможня",
    "finance": "финансы",
    "banking": "банковское дело",
    "industry": "промышленность",
    "industrial cooperation": "промышленная кооперация",
    "digital": "цифровизация",
    "digitalisation": "цифровизация",
    "digitalization": "цифровизация",
    "science": "наука",
    "migration": "миграция",
    "environment": "экология",
    "environmental protection": "охрана окружающей среды",
    "mining": "горнодобывающая отрасль",
    "oil": "нефть",
    "gas": "газ",
    "railway": "железные дороги",
    "railways": "железные дороги",
    "aviation": "авиация",
    "foreign affairs": "внешняя политика",
}
# Russian words are inflected ("соглашения", "торговли"): an English reader's table is keyed
# by stems, longest first, matched at the start of the word.
_EN_STEMS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "меморандум": "memorandum",
            "дорожн": "roadmap",
            "договор": "treaty",
            "протокол": "protocol",
            "декларац": "declaration",
            "совместн": "joint statement",
            "программ": "programme",
            "план": "action plan",
            "соглашени": "agreement",
            "контракт": "contract",
            "документ": "documents",
            "здравоохранени": "health care",
            "торгов": "trade",
            "энергетик": "energy",
            "транспорт": "transport",
            "логистик": "logistics",
            "сельск": "agriculture",
            "образовани": "education",
            "культур": "culture",
            "спорт": "sport",
            "туризм": "tourism",
            "космос": "space",
            "космическ": "space",
            "инфраструктур": "infrastructure",
            "инвестиц": "investment",
            "безопасност": "security",
            "оборон": "defence",
            "водн": "water resources",
            "таможен": "customs",
            "финанс": "finance",
            "промышленност": "industry",
            "цифров": "digital",
            "наук": "science",
            "миграц": "migration",
            "экологи": "environment",
            "горнодобыва": "mining",
            "нефт": "oil",
            "газ": "gas",
            "железнодорожн": "railways",
            "авиац": "aviation",
        }.items(),
        key=lambda pair: -len(pair[0]),
    )
)
_SPACES = re.compile(r"\s+")


def localised_term(word: str, lang: str) -> str:
    """``word`` in ``lang`` when we know it, else as written."""
    key = _SPACES.sub(" ", word.strip().lower())
    if lang == "ru":
        return _RU.get(key, word)
    if lang == "en" and key[:1].isalpha() and not key.isascii():
        return next((en for stem, en in _EN_STEMS if key.startswith(stem)), word)
    return word


def localised_terms(words: tuple[str, ...] | list[str], lang: str) -> list[str]:
    """Each word in ``lang``, without the repeats translation makes ("oil", "gas" stay two;
    "healthcare" and "public health" become one)."""
    return list(dict.fromkeys(localised_term(w, lang) for w in words))
