"""The grouping rules, checked with Candidates built by hand (no classifier needed)."""

from __future__ import annotations

import importlib.util
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from news.facts import Facts, extract_facts
from news.group_stream import group_stream
from news.grouping import Candidate, EventState, Grouper, compatible_types, make_key
from news.records import EventType
from news.summary import summarise


def cand(
    item_id: str,
    published: str,
    event_type: EventType = "visit",
    *,
    countries: tuple[str, ...] = ("KZ", "TJ"),
    start: str | None = None,
    end: str | None = None,
    officials: tuple[str, ...] = (),
    place: str | None = None,
    numbers: tuple[str, ...] = (),
    documents: tuple[str, ...] = (),
    tokens: tuple[str, ...] = (),
) -> Candidate:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC)
    first = date.fromisoformat(start) if start else when.date()
    last = date.fromisoformat(end) if end else first
    return Candidate(
        item_id=item_id,
        published=when,
        countries=countries,
        event_type=event_type,
        event_start=first,
        event_end=last,
        date_stated=start is not None,
        officials=officials,
        place=place,
        numbers=numbers,
        documents=documents,
        tokens=tokens,
    )


TOKAYEV, RAHMON = "KZ:kz-tokayev", "TJ:tj-rahmon"


def test_outlets_in_two_languages_reporting_one_visit_join_one_event() -> None:
    grouper = Grouper()
    en = cand(
        "en",
        "2021-05-19T08:00",
        officials=(TOKAYEV, RAHMON),
        place="TJ",
        tokens=("en:dushan", "en:aerosp", "en:health"),
    )
    ru = cand(
        "ru",
        "2021-05-19T11:00",
        "meeting",
        officials=(RAHMON, TOKAYEV),
        place="TJ",
        tokens=("ru:душанб", "ru:здраво"),
    )
    key, new = grouper.assign(en)
    assert new
    assert grouper.assign(ru) == (key, False)
    assert grouper.event(key).members == 2


def test_the_first_key_names_pair_date_and_type_and_fits_a_command() -> None:
    key, _ = Grouper().assign(cand("a", "2021-05-19T08:00", start="2021-05-19"))
    assert key == "KZ-TJ-2021-05-19-visit"
    assert len(key) <= 24 and key.isascii()


def test_announced_visit_joins_the_report_made_on_the_day() -> None:
    grouper = Grouper()
    announced = cand(
        "ann", "2023-01-02T09:00", countries=("CN", "TM"), start="2023-01-05", end="2023-01-06"
    )
    arrived = cand("day", "2023-01-05T15:00", countries=("CN", "TM"))  # undated: "arrived"
    signed = cand(
        "sig", "2023-01-06T12:00", "agreement", countries=("CN", "TM"), documents=("agreement",)
    )
    key, _ = grouper.assign(announced)
    assert grouper.assign(arrived) == (key, False)
    assert grouper.assign(signed) == (key, False)
    assert grouper.event(key).event_type == "visit"


def test_a_recap_naming_the_dates_a_week_later_joins() -> None:
    grouper = Grouper()
    key, _ = grouper.assign(cand("day", "2021-05-19T09:00", officials=(TOKAYEV,)))
    recap = cand("recap", "2021-05-27T09:00", start="2021-05-19", end="2021-05-20")
    assert grouper.assign(recap) == (key, False)


def test_an_undated_late_recap_joins_only_when_content_agrees() -> None:
    grouper = Grouper()
    words = ("en:dushan", "en:aerosp", "en:health", "en:infras", "en:turnov")
    key, _ = grouper.assign(
        cand("day", "2021-05-19T09:00", officials=(TOKAYEV,), place="TJ", tokens=words)
    )
    same = cand("late", "2021-05-26T09:00", officials=(TOKAYEV,), place="TJ", tokens=words)
    other = cand("other", "2021-05-26T10:00", "meeting", tokens=("en:border", "en:water"))
    assert grouper.assign(same) == (key, False)
    assert grouper.assign(other)[1] is True


def test_a_call_is_never_the_same_event_as_a_visit() -> None:
    grouper = Grouper()
    visit, _ = grouper.assign(cand("v", "2021-05-19T09:00", officials=(TOKAYEV, RAHMON)))
    call, new = grouper.assign(cand("c", "2021-05-19T10:00", "call", officials=(TOKAYEV, RAHMON)))
    assert new and call != visit
    assert not compatible_types("call", "visit")
    assert compatible_types("visit", "agreement") and compatible_types("meeting", "visit")


def test_call_on_monday_and_agreement_signed_on_friday_stay_distinct() -> None:
    grouper = Grouper()
    call, _ = grouper.assign(cand("mon", "2024-03-04T09:00", "call", countries=("TR", "UZ")))
    friday = cand("fri", "2024-03-08T09:00", "agreement", countries=("TR", "UZ"))
    agreement, new = grouper.assign(friday)
    assert new and agreement != call


def test_talks_on_monday_and_a_signing_on_friday_stay_distinct() -> None:
    grouper = Grouper()
    talks, _ = grouper.assign(cand("mon", "2024-03-04T09:00", "meeting", countries=("TR", "UZ")))
    signing, new = grouper.assign(
        cand("fri", "2024-03-08T09:00", "agreement", countries=("TR", "UZ"))
    )
    assert new and signing != talks


def test_another_call_a_week_later_is_another_event_with_its_own_key() -> None:
    grouper = Grouper()
    first, _ = grouper.assign(cand("c1", "2024-03-04T09:00", "call", officials=(TOKAYEV,)))
    second, new = grouper.assign(cand("c2", "2024-03-11T09:00", "call", officials=(TOKAYEV,)))
    assert new and second != first


def test_the_same_pairs_visit_a_year_earlier_stays_distinct() -> None:
    grouper = Grouper()
    old, _ = grouper.assign(cand("2020", "2020-05-19T09:00", start="2020-05-19", place="TJ"))
    now, new = grouper.assign(cand("2021", "2021-05-19T09:00", start="2021-05-19", place="TJ"))
    assert new and now != old


def test_other_pairs_never_join() -> None:
    grouper = Grouper()
    kz_tj, _ = grouper.assign(cand("a", "2021-05-19T09:00"))
    kz_uz, new = grouper.assign(cand("b", "2021-05-19T09:05", countries=("KZ", "UZ")))
    assert new and kz_uz != kz_tj


def test_two_events_of_one_pair_on_one_day_get_distinct_short_keys() -> None:
    taken = {"KZ-TJ-2021-05-19-call", "KZ-TJ-2021-05-19-call-2"}
    assert make_key(("KZ", "TJ"), date(2021, 5, 19), "call", taken) == "KZ-TJ-2021-05-19-call-3"
    long_key = make_key(("CN", "KZ", "UZ"), date(2021, 5, 19), "agreement", set())
    assert len(long_key) <= 24 and long_key.isascii()


@pytest.mark.parametrize("event_type", ["visit", "meeting", "call", "agreement"])
def test_keys_with_suffixes_stay_within_24_ascii_chars(event_type: str) -> None:
    taken: set[str] = set()
    for _ in range(12):
        taken.add(make_key(("KZ", "TJ"), date(2021, 5, 19), event_type, taken))
    assert all(len(k) <= 24 and k.isascii() for k in taken)
    assert len(taken) == 12


def test_event_state_round_trips_through_json_and_rebuilds_the_grouper() -> None:
    grouper = Grouper()
    key, _ = grouper.assign(
        cand(
            "a",
            "2021-05-19T09:00",
            start="2021-05-19",
            end="2021-05-20",
            officials=(TOKAYEV,),
            place="TJ",
            numbers=("$1000000000",),
            documents=("agreement",),
            tokens=("en:dushan",),
        )
    )
    state = grouper.event(key)
    restored = EventState.from_json(state.to_json())
    assert restored == state
    # The live pipeline reloads recent events from the database and keeps grouping.
    reloaded = Grouper([restored])
    assert reloaded.assign(cand("b", "2021-05-20T09:00", "agreement")) == (key, False)


def test_prune_forgets_events_no_report_can_join_any_more() -> None:
    grouper = Grouper()
    key, _ = grouper.assign(cand("a", "2021-05-19T09:00"))
    grouper.prune(date(2021, 5, 19) + timedelta(days=30))
    assert grouper.events == ()
    assert grouper.assign(cand("b", "2021-05-19T10:00"))[0] == key  # same key, reopened


# --- facts: dates, place, documents, figures (news/facts.py) ---------------------------------


def facts(title: str, text: str, published: str, language: str = "en") -> Facts:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC)
    return extract_facts(title, text, language=language, published=when)


@pytest.mark.parametrize(
    ("title", "text", "published", "language", "first", "last"),
    [
        ("", "Tokayev began his visit to Dushanbe May 19.", "2021-05-19", "en", "2021-05-19", None),
        ("", "The talks were held on 19 May 2021.", "2021-05-20", "en", "2021-05-19", None),
        ("Berdimuhamedov to visit China on January 5-6", "", "2022-12-30", "en", "2023-01-05",
         "2023-01-06"),
        ("", "Визит состоится 5–6 января 2023 года.", "2022-12-30", "ru", "2023-01-05",
         "2023-01-06"),
        ("", "Переговоры прошли 19 мая в Душанбе.", "2021-05-20", "ru", "2021-05-19", None),
        ("", "Вчера президенты провели переговоры.", "2021-05-20", "ru", "2021-05-19", None),
        ("", "Today the ministers signed a roadmap.", "2021-05-20", "en", "2021-05-20", None),
        ("", "Yesterday the presidents held talks.", "2021-05-20", "en", "2021-05-19", None),
        ("", "Лидеры встретятся на следующей неделе.", "2024-09-11", "ru", "2024-09-16",
         "2024-09-22"),
        ("", "The president will visit Ankara next week.", "2024-09-11", "en", "2024-09-16",
         "2024-09-22"),
    ],
)  # fmt: skip
def test_the_event_date_is_read_from_the_text_and_resolved_against_publication(
    title: str, text: str, published: str, language: str, first: str, last: str | None
) -> None:
    found = facts(title, text, published, language)
    assert found.event_date == date.fromisoformat(first)
    assert found.event_end == date.fromisoformat(last or first)
    assert found.date_text is not None and found.date_text in f"{title} {text}"


def test_a_background_date_is_not_the_events_date() -> None:
    found = facts("", "The two states signed the treaty on 5 May 2015.", "2024-08-22")
    assert found.event_date is None


def test_the_place_is_the_city_the_event_happens_in_both_languages() -> None:
    en = facts("", "Tokayev held talks with Rahmon in Dushanbe.", "2024-08-22")
    ru = facts("", "Переговоры прошли в Ташкенте.", "2024-08-22", "ru")
    assert (en.place, en.place_country) == ("Dushanbe", "TJ")
    assert (ru.place, ru.place_country) == ("Ташкент", "UZ")
    assert facts("", "A Tajik delegation held talks.", "2024-08-22").place is None


def test_signed_documents_sectors_and_figures_are_spans_of_the_text() -> None:
    text = (
        "The sides signed a memorandum of understanding and a roadmap, 15 documents in all, "
        "in healthcare, trade and energy. Trade could reach $1 billion."
    )
    found = facts("", text, "2024-08-22")
    assert {"memorandum", "roadmap"} <= set(found.document_kinds)
    assert "memorandum of understanding" in found.documents
    assert found.money == ("$1 billion",) and found.counts == ("15 documents",)
    assert {"healthcare", "trade", "energy"} <= set(found.sectors)
    for span in (*found.documents, *found.sectors, *found.money, *found.counts):
        assert span in text
    ru = facts(
        "", "Подписано 12 соглашений, товарооборот достиг 800 млн долларов.", "2024-08-22", "ru"
    )
    assert ru.money == ("800 млн долларов",) and ru.counts == ("12 соглашений",)
    assert "agreement" in ru.document_kinds


# --- summary (news/summary.py) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("NUR-SULTAN – Tokayev began a two-day visit to Dushanbe.", "en",
         "Tokayev began a two-day visit to Dushanbe."),
        ("ТАШКЕНТ, 5 мая — Sputnik. Мирзиёев провел переговоры с Токаевым.", "ru",
         "Мирзиёев провел переговоры с Токаевым."),
        ("ASTANA, May 19 (Xinhua) -- Kazakhstan and China signed an agreement.", "en",
         "Kazakhstan and China signed an agreement."),
        ("Rahmon will visit Beijing, the press service of the ministry reported today.", "en",
         "Rahmon will visit Beijing."),
        ("Рахмон провел переговоры, сообщает НИАТ «Ховар».", "ru", "Рахмон провел переговоры."),
        ("The ministers met in Tashkent [AKIpress]. Trade was discussed.", "en",
         "The ministers met in Tashkent. Trade was discussed."),
        ("EU – Central Asia talks opened in Samarkand.", "en",
         "EU – Central Asia talks opened in Samarkand."),
    ],
)  # fmt: skip
def test_the_summary_is_the_cleaned_lead_in_the_reports_language(
    text: str, language: str, expected: str
) -> None:
    assert summarise("", text, language=language) == expected


def test_the_summary_is_cut_on_a_sentence_then_on_a_word_and_invents_nothing() -> None:
    first = "Tokayev and Rahmon held talks in Dushanbe on trade and water."
    text = f"{first} {'They also discussed many other matters at length. ' * 20}"
    assert summarise("", text, language="en", max_chars=100) == first
    long = "Tokayev " + "and Rahmon " * 100 + "met."
    cut = summarise("", long, language="en", max_chars=120)
    assert len(cut) <= 120 and cut.endswith("…") and cut[:-1] in long
    assert cut[:-1].split()[-1] in {"and", "Rahmon"}
    assert summarise("Title only", "", language="en") == "Title only."


# --- `coopwatch group` end to end, and the benchmark's scorer -----------------------------------

STREAM = [
    {"id": "ann", "published": "2024-08-19T07:30:00Z",
     "title": "Tokayev to pay state visit to Tajikistan on August 22-23",
     "text": "President of Kazakhstan Kassym-Jomart Tokayev will pay a state visit to Tajikistan "
             "on August 22-23 at the invitation of President Emomali Rahmon."},
    {"id": "neg", "published": "2024-08-21T09:00:00Z", "title": "Tokayev visits Turkestan region",
     "text": "President Kassym-Jomart Tokayev made a working trip to Turkestan region."},
    {"id": "ru", "published": "2024-08-22T12:40:00Z",
     "title": "Токаев и Рахмон провели переговоры в Душанбе",
     "text": "Президент Казахстана Касым-Жомарт Токаев и Президент Таджикистана Эмомали Рахмон "
             "провели переговоры в Душанбе."},
    {"id": "call", "published": "2024-09-30T10:00:00Z", "title": "Tokayev, Rahmon hold phone call",
     "text": "Kazakh President Kassym-Jomart Tokayev held a telephone conversation with Tajik "
             "President Emomali Rahmon."},
]  # fmt: skip


def test_group_stream_answers_in_input_order_and_groups_across_languages() -> None:
    # The recap comes first in the file but last in time: it is grouped in publication order.
    lines = [json.dumps(STREAM[2], ensure_ascii=False), "{not json", *map(json.dumps, STREAM)]
    lines.insert(3, json.dumps({"title": "no text"}))
    out = io.StringIO()
    errors = group_stream(lines, out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert errors == 2 and len(answers) == len(lines)
    assert answers[1]["line"] == 2 and "error" in answers[1]
    assert answers[3]["line"] == 4 and "error" in answers[3]
    by_id = {a["id"]: a for a in answers if "event" in a}
    assert by_id["ann"]["event"] == by_id["ru"]["event"] == answers[0]["event"]
    assert by_id["ann"]["event"].startswith("KZ-TJ-2024-08-22")
    assert by_id["neg"]["event"] is None and by_id["neg"]["label"] is False
    assert by_id["call"]["event"] not in (None, by_id["ann"]["event"])
    assert by_id["call"]["event_type"] == "call" and by_id["call"]["countries"] == ["KZ", "TJ"]


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "grouping.py"
    spec = importlib.util.spec_from_file_location("bench_grouping", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bcubed_scores_splits_merges_and_missed_events() -> None:
    bcubed = _bench().bcubed
    gold = ["a", "a", "b", None]
    assert bcubed(gold, ["x", "x", "y", None]) == (1.0, 1.0, 1.0)
    precision, recall, _ = bcubed(gold, ["x", "x", "x", None])  # b merged into a
    assert recall == 1.0 and precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    precision, recall, _ = bcubed(gold, ["x", "y", "z", None])  # a split in two
    assert precision == 1.0 and recall == pytest.approx((0.5 + 0.5 + 1 + 1) / 4)


def test_the_benchmark_runs_group_on_a_handful_of_labelled_items(tmp_path: Path) -> None:
    bench = _bench()
    sample = tmp_path / "clusters.jsonl"
    items = [{**item, "cluster": "kz-tj" if item["id"] in ("ann", "ru") else None} for item in
             STREAM]  # fmt: skip
    items[3]["cluster"] = "call"
    sample.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n")
    labelled, answers = bench.run(sample)
    gold = [i["cluster"] for i in labelled]
    assert bench.bcubed(gold, [a["event"] for a in answers])[2] == 1.0


def test_a_report_naming_a_third_party_joins_only_when_content_agrees() -> None:
    grouper = Grouper()
    words = ("en:dushan", "en:allied", "en:treaty", "en:aerosp")
    key, _ = grouper.assign(
        cand(
            "a",
            "2024-08-22T09:00",
            start="2024-08-22",
            officials=(TOKAYEV, RAHMON),
            place="TJ",
            tokens=words,
        )
    )
    wider = cand(
        "b",
        "2024-08-22T10:00",
        countries=("KZ", "TJ", "UZ"),
        start="2024-08-22",
        officials=(TOKAYEV, RAHMON),
        place="TJ",
        tokens=words,
    )
    other = cand(
        "c",
        "2024-08-22T11:00",
        "meeting",
        countries=("KZ", "TJ", "UZ"),
        place="UZ",
        tokens=("en:samark", "en:summit"),
    )
    assert grouper.assign(wider) == (key, False)
    assert grouper.assign(other)[1] is True


def test_an_item_with_no_time_at_all_joins_only_on_strong_content() -> None:
    grouper = Grouper()
    words = ("en:dushan", "en:allied", "en:treaty")
    key, _ = grouper.assign(
        cand("a", "2024-08-22T09:00", officials=(TOKAYEV,), place="TJ", tokens=words)
    )
    blind = replace(cand("b", "2024-08-22T09:00", officials=(TOKAYEV,), place="TJ"), published=None)
    assert grouper.assign(blind)[1] is True
    alike = replace(
        cand("c", "2024-08-22T09:00", officials=(TOKAYEV,), place="TJ", tokens=words),
        published=None,
    )
    assert grouper.assign(alike) == (key, False)


def test_daily_reports_of_one_pair_do_not_chain_into_one_endless_event() -> None:
    grouper = Grouper()
    keys = {grouper.assign(cand(f"d{n}", f"2024-03-{n:02d}T09:00", "meeting"))[0]
            for n in range(1, 15)}  # fmt: skip
    assert len(keys) >= 3


def test_an_announcement_weeks_ahead_joins_the_visit_it_announced() -> None:
    lines = [
        json.dumps(
            {
                "id": "announced",
                "published": "2025-01-04T08:00:00+00:00",
                "title": "",
                "text": "Iranian President Masoud Pezeshkian will make an official visit to "
                "Tajikistan in the coming weeks and hold talks with President Emomali Rahmon.",
            }
        ),
        json.dumps(
            {
                "id": "arrived",
                "published": "2025-01-15T20:00:00+00:00",
                "title": "",
                "text": "Iranian President Masoud Pezeshkian arrived in Dushanbe on Wednesday "
                "to begin his official visit to Tajikistan and held talks with President "
                "Emomali Rahmon.",
            }
        ),
    ]
    out = io.StringIO()
    group_stream(lines, out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[0]["event"] is not None
    assert answers[0]["event"] == answers[1]["event"]


def test_two_calls_of_one_leader_with_two_officials_of_a_partner_stay_apart() -> None:
    grouper = Grouper()
    japarov, putin, mishustin = "KG:kg-japarov", "RU:ru-putin", "RU:ru-mishustin"
    with_putin = cand(
        "a",
        "2020-11-12T08:00",
        "call",
        countries=("KG", "RU"),
        start="2020-11-12",
        officials=(japarov, putin),
    )
    with_pm = cand(
        "b", "2020-11-13T08:00", "call", countries=("KG", "RU"), officials=(japarov, mishustin)
    )
    first, _ = grouper.assign(with_putin)
    second, new = grouper.assign(with_pm)
    assert new and second != first


def test_an_item_published_in_a_month_reads_its_dates_in_that_year() -> None:
    talks = (
        "President Kassym-Jomart Tokayev held talks with President Gurbanguly Berdimuhamedov "
        "in Ashgabat during his state visit to Turkmenistan."
    )
    recap = (
        "President Kassym-Jomart Tokayev traveled to Ashgabat on a state visit on October "
        "24-25, where he met with President Gurbanguly Berdimuhamedov."
    )
    lines = [
        json.dumps(
            {"id": "talks", "published": "2021-10-25T10:00:00Z", "title": "", "text": talks}
        ),
        json.dumps({"id": "recap", "published": "2021-10", "title": "", "text": recap}),
    ]
    out = io.StringIO()
    assert group_stream(lines, out) == 0
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert answers[1]["event"] is not None
    assert answers[0]["event"] == answers[1]["event"]


def test_the_first_report_of_an_announced_visit_gives_the_event_its_day() -> None:
    grouper = Grouper()
    officials = ("IR:ir-pezeshkian", "TJ:tj-rahmon")
    announcement = replace(
        cand("ahead", "2025-01-04T08:00", officials=officials, end="2025-01-25"),
        event_end=date(2025, 1, 25),
        announced=True,
    )
    arrival = cand("arrived", "2025-01-15T20:00", officials=officials)
    key, _ = grouper.assign(announcement)
    assert grouper.event(key).announced
    assert grouper.assign(arrival) == (key, False)
    event = grouper.event(key)
    assert (event.start, event.end, event.announced) == (date(2025, 1, 15),) * 2 + (False,)


_KZ = "President of Kazakhstan Kassym-Jomart Tokayev"
_UZ = "President of Uzbekistan Shavkat Mirziyoyev"


def _days_of(*reports: tuple[str, str, str]) -> tuple[date, date]:
    """The days the event of these (title, text, published) reports shows, grouped live."""
    from news.candidates import event_candidate
    from news.classify import classify_item

    grouper, keys = Grouper(), set()
    for number, (title, text, published) in enumerate(reports):
        when = datetime.fromisoformat(published).replace(tzinfo=UTC)
        result = classify_item(title, text, published=when)
        _, candidate = event_candidate(
            str(number),
            title,
            text,
            published=when,
            classification=result,
            fallback_day=when.date(),
        )
        keys.add(grouper.assign(candidate)[0])
    assert len(keys) == 1
    event = grouper.event(keys.pop())
    assert event.date_stated
    return event.start, event.end


def test_an_undated_report_published_after_the_stated_day_does_not_stretch_the_event() -> None:
    # Published on the 21st without a date, then a report saying the talks were on the 19th.
    talks = f"{_KZ} held talks with {_UZ} in Tashkent. The leaders discussed trade and water."
    days = _days_of(
        ("Tokayev and Mirziyoyev hold talks in Tashkent", talks, "2024-05-21T08:00"),
        ("Tokayev, Mirziyoyev held talks", f"On 19 May {talks}", "2024-05-21T09:00"),
    )
    assert days == (date(2024, 5, 19), date(2024, 5, 19))


def test_an_undated_recap_of_a_visit_does_not_stretch_it() -> None:
    days = _days_of(
        (
            "Tokayev paid a state visit to Tashkent",
            f"{_KZ} paid a state visit to Tashkent, where he held talks with {_UZ}.",
            "2024-05-21T08:00",
        ),
        (
            "Tokayev, Mirziyoyev held talks in Tashkent",
            f"On 19 May {_KZ} held talks with {_UZ} in Tashkent during a state visit.",
            "2024-05-21T09:00",
        ),
    )
    assert days == (date(2024, 5, 19), date(2024, 5, 19))


@pytest.mark.parametrize(
    ("arrival", "talks"),
    [
        (
            (
                "Tokayev arrives in Tashkent on a state visit",
                f"{_KZ} arrived in Tashkent on a state visit at the invitation of {_UZ}.",
            ),
            (
                "Tokayev, Mirziyoyev held talks in Tashkent",
                f"On 20 May {_KZ} held talks with {_UZ} in Tashkent. They discussed trade.",
            ),
        ),
        (
            (
                "Токаев прибыл в Ташкент с государственным визитом",
                "Президент Казахстана Касым-Жомарт Токаев прибыл в Ташкент с государственным "
                "визитом по приглашению президента Узбекистана Шавката Мирзиёева.",
            ),
            (
                "Токаев и Мирзиёев провели переговоры",
                "20 мая Президент Казахстана Касым-Жомарт Токаев провел переговоры с "
                "президентом Узбекистана Шавкатом Мирзиёевым в Ташкенте.",
            ),
        ),
    ],
)
def test_an_arrival_reported_on_the_day_then_the_talks_dated_the_next_span_both_days(
    arrival: tuple[str, str], talks: tuple[str, str]
) -> None:
    days = _days_of((*arrival, "2024-05-19T08:00"), (*talks, "2024-05-20T15:00"))
    assert days == (date(2024, 5, 19), date(2024, 5, 20))
