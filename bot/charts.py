"""/trends: events per month over the last 12 months, as a PNG chart and a one-line summary.

Counting (`country_trends`, `states_trends`) is pure; drawing (`render_chart`) uses
matplotlib's object API with the Agg canvas, never pyplot: pyplot keeps global state that is
not safe across the worker threads the handler renders in (asyncio.to_thread), and Agg needs
no display. matplotlib is imported inside `render_chart`, so only the first chart pays its
import (about half a second), not every start of the CLI.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.i18n import t
from bot.render import country_name
from news.months import EN_MONTHS, RU_MONTHS_SHORT
from news.records import CENTRAL_ASIA

MONTHS = 12
TOP_PARTNERS = 5  # partners drawn by name; the rest are stacked together as "other"
OTHER = "other"
MAX_CAPTION = 1024  # Telegram's limit for a photo caption
_SHORT_MONTHS = {
    "en": tuple(name[:3].title() for name in EN_MONTHS),
    "ru": RU_MONTHS_SHORT,
}
# Central Asian states in the order people list them, for the side-by-side chart.
STATES = ("KZ", "KG", "TJ", "TM", "UZ")


@dataclass(frozen=True, slots=True)
class Series:
    """One stacked or grouped bar series: a partner (or a state) and its count per month."""

    key: str  # ISO code, or OTHER
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Trends:
    """What one chart shows: the months and one series per partner or state."""

    months: tuple[date, ...]  # first day of each month, oldest first
    series: tuple[Series, ...]
    country: str | None  # None: the five states side by side
    total: int  # events counted (an event of two states counts once here)
    per_month: tuple[int, ...] = ()  # events per month, each once (not the sum of the bars)


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered chart: PNG bytes, the caption, and what was drawn (read back from the
    figure, so a test checks the picture's own title, legend and number of bar series)."""

    png: bytes
    series: int
    caption: str
    title: str = ""
    legend: tuple[str, ...] = ()
    ylabel: str = ""


def last_months(today: date, count: int = MONTHS) -> tuple[date, ...]:
    """The first days of the ``count`` months ending with ``today``'s month, oldest first."""
    index = today.year * 12 + today.month - 1
    return tuple(date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1))


def _slot(months: Sequence[date], day: date) -> int | None:
    key = (day.year, day.month)
    for i, first in enumerate(months):
        if (first.year, first.month) == key:
            return i
    return None


def country_trends(
    events: Iterable[tuple[date, Sequence[str]]],
    country: str,
    months: Sequence[date],
    top: int = TOP_PARTNERS,
) -> Trends:
    """Events of ``country`` per month, one series per top partner and one for the rest."""
    per_partner: dict[str, list[int]] = {}
    per_month = [0] * len(months)
    for day, parties in events:
        slot = _slot(months, day)
        if slot is None or country not in parties:
            continue
        per_month[slot] += 1
        for partner in (p for p in parties if p != country):
            per_partner.setdefault(partner, [0] * len(months))[slot] += 1
    ranked = sorted(per_partner, key=lambda code: (-sum(per_partner[code]), code))
    series = [Series(code, tuple(per_partner[code])) for code in ranked[:top]]
    rest = ranked[top:]
    if rest:
        other = [sum(per_partner[code][i] for code in rest) for i in range(len(months))]
        series.append(Series(OTHER, tuple(other)))
    return Trends(tuple(months), tuple(series), country, sum(per_month), tuple(per_month))


def states_trends(events: Iterable[tuple[date, Sequence[str]]], months: Sequence[date]) -> Trends:
    """Events per month of each of the five states (an event of two states counts for both)."""
    counts = {code: [0] * len(months) for code in STATES}
    per_month = [0] * len(months)
    for day, parties in events:
        slot = _slot(months, day)
        ours = [p for p in parties if p in CENTRAL_ASIA]
        if slot is None or not ours:
            continue
        per_month[slot] += 1
        for code in ours:
            counts[code][slot] += 1
    series = tuple(Series(code, tuple(counts[code])) for code in STATES)
    return Trends(tuple(months), series, None, sum(per_month), tuple(per_month))


def _label(key: str, lang: str) -> str:
    return t(lang, "trends_other") if key == OTHER else country_name(key, lang)


def month_label(first: date, lang: str) -> str:
    names = _SHORT_MONTHS.get(lang, _SHORT_MONTHS["en"])
    return f"{names[first.month - 1]} {first.year}"


def title(trends: Trends, lang: str) -> str:
    if trends.country is None:
        return t(lang, "trends_title_all")
    return t(lang, "trends_title_country", country=country_name(trends.country, lang))


def summary(trends: Trends, lang: str) -> str:
    """The caption: one line with the totals, for people who don't look at images."""
    per_month = trends.per_month
    busiest = max(range(len(per_month)), key=lambda i: (per_month[i], i)) if per_month else 0
    values: dict[str, str] = {
        "start": month_label(trends.months[0], lang),
        "end": month_label(trends.months[-1], lang),
        "month": month_label(trends.months[busiest], lang),
        "count": str(per_month[busiest] if per_month else 0),
    }
    ranked = sorted(trends.series, key=lambda s: (s.key == OTHER, -s.total, s.key))
    listed = ", ".join(f"{_label(s.key, lang)} {s.total}" for s in ranked if s.total)
    if trends.country is None:
        line = t(lang, "trends_summary_all", states=listed, **values)
    else:
        line = t(
            lang,
            "trends_summary_country",
            country=country_name(trends.country, lang),
            total=str(trends.total),
            partners=listed,
            **values,
        )
    return line if len(line) <= MAX_CAPTION else line[: MAX_CAPTION - 1].rstrip(" ,;") + "…"


def render_chart(trends: Trends, lang: str) -> Chart:
    """Draw the chart: stacked bars by partner, or the five states' bars side by side.

    Blocking (a few hundred milliseconds): call it in a worker thread.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 5.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(trends.months)))
    if trends.country is None:
        width = 0.8 / max(1, len(trends.series))
        for n, series in enumerate(trends.series):
            offset = (n - (len(trends.series) - 1) / 2) * width
            axes.bar(
                [x + offset for x in positions],
                series.counts,
                width=width,
                label=_label(series.key, lang),
            )
    else:
        bottom = [0] * len(positions)
        for series in trends.series:
            axes.bar(positions, series.counts, bottom=bottom, label=_label(series.key, lang))
            bottom = [b + c for b, c in zip(bottom, series.counts, strict=True)]
    axes.set_title(title(trends, lang))
    axes.set_ylabel(t(lang, "trends_ylabel"))
    axes.set_xticks(
        positions, [month_label(m, lang) for m in trends.months], rotation=45, ha="right"
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # no "2.5 events"
    if trends.series:
        axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    legend = axes.get_legend()
    return Chart(
        buffer.getvalue(),
        len(axes.containers),
        summary(trends, lang),
        title=axes.get_title(),
        legend=tuple(text.get_text() for text in legend.get_texts()) if legend else (),
        ylabel=axes.get_ylabel(),
    )
