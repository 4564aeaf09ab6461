"""The words news.facts finds (signed documents, sectors) in the reader's language.

news.facts keeps the words as the report wrote them, so an event reported in English lists
"agreements" and "water"; a Russian reader gets them in Russian. Matching is on the word's
lower-case form; a word we have no translation for is shown as written.
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
_TABLES = {"ru": _RU}
_SPACES = re.compile(r"\s+")


def localised_term(word: str, lang: str) -> str:
    """``word`` in ``lang`` when we know it, else as written."""
    table = _TABLES.get(lang)
    if not table:
        return word
    return table.get(_SPACES.sub(" ", word.strip().lower()), word)


def localised_terms(words: tuple[str, ...] | list[str], lang: str) -> list[str]:
    """Each word in ``lang``, without the repeats translation makes ("oil", "gas" stay two;
    "healthcare" and "public health" become one)."""
    return list(dict.fromkeys(localised_term(w, lang) for w in words))
