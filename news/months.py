"""Month names in English and Russian, as reports write dates and as coopwatch renders them."""

from __future__ import annotations

# Month names as dates are written (also used to render dates in alerts).
EN_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
RU_MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
# "в ноябре": a month named alone, for an announcement ahead.
RU_MONTHS_PREPOSITIONAL = (
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
)
# As Russian agencies abbreviate them in datelines and lists: "6 мар — Sputnik", "21 ноя"
# (also the chart's month labels). May has no short form: "май" is the whole word, and a
# date writes it "мая".
RU_MONTHS_SHORT = (
    "янв",
    "фев",
    "мар",
    "апр",
    "май",
    "июн",
    "июл",
    "авг",
    "сен",
    "окт",
    "ноя",
    "дек",
)
