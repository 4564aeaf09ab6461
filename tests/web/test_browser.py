"""The archive as a person sees it: the running bot's web server, opened in headless Chromium.

Debian's `chromium` and `chromium-driver` (`.ci/run` installs them where missing), driven by
selenium with explicit paths, so nothing is looked up or downloaded. The browser runs in a
worker thread: the bot and its web server share the test's event loop.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from coopwatch.settings import Settings
from storage import Database
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.web.archive import HOSTILE, seed_archive

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=390,844",  # a phone's screen
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    with tempfile.TemporaryDirectory(prefix="coopwatch-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


@dataclass
class Seen:
    """What the person saw, page by page."""

    titles: list[str]
    first_summary: str
    scripts: int
    hostile_text_shown: bool
    filtered_url: str
    filtered_titles: list[str]
    event_heading: str
    source_links: list[tuple[str, str]]
    notice: str
    page_width: int
    viewport_width: int


def browse(base: str) -> Seen:
    """Open the archive, filter it to Tajikistan with the form, open the event, try a typo."""
    with chromium() as driver:
        driver.get(base + "/")
        events = driver.find_elements(By.CSS_SELECTOR, "li.event")
        titles = [e.find_element(By.CSS_SELECTOR, ".head").text for e in events]
        first_summary = events[0].find_element(By.CSS_SELECTOR, ".summary").text
        scripts = len(driver.find_elements(By.TAG_NAME, "script"))
        hostile_shown = any(HOSTILE in e.text for e in events)
        page_width = driver.execute_script("return document.documentElement.scrollWidth")
        viewport_width = driver.execute_script("return window.innerWidth")

        Select(driver.find_element(By.NAME, "country")).select_by_value("TJ")
        button = driver.find_element(By.CSS_SELECTOR, "form.filters button")
        button.click()
        # click() returns before the next page has loaded: read it only once the old is gone.
        WebDriverWait(driver, 10).until(expected_conditions.staleness_of(button))
        filtered_url = driver.current_url
        filtered = driver.find_elements(By.CSS_SELECTOR, "li.event .head")
        filtered_titles = [e.text for e in filtered]

        link = filtered[0].find_element(By.TAG_NAME, "a")
        link.click()
        WebDriverWait(driver, 10).until(expected_conditions.staleness_of(link))
        heading = driver.find_element(By.TAG_NAME, "h1").text
        links = [
            (a.text, a.get_attribute("href") or "")
            for a in driver.find_elements(By.CSS_SELECTOR, "li.source a")
        ]

        driver.get(base + "/?country=Tajikstan&type=visits")
        notice = " | ".join(p.text for p in driver.find_elements(By.CSS_SELECTOR, ".notice"))
        return Seen(
            titles,
            first_summary,
            scripts,
            hostile_shown,
            filtered_url,
            filtered_titles,
            heading,
            links,
            notice,
            page_width,
            viewport_width,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_a_person_browses_the_archive(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    db = Database(settings.database_url)
    db.upgrade()
    seed_archive(db)
    db.close()
    port = free_port()
    settings = settings.model_copy(update={"web_port": port})
    async with running_bot(settings, fake_telegram):
        seen = await asyncio.to_thread(browse, f"http://127.0.0.1:{port}")

    assert seen.titles == [
        "🇰🇬🇷🇺 Kyrgyzstan – Russia · phone call · 27 November 2026",
        "🇺🇿🇨🇳 Uzbekistan – China · agreement · 25 November 2026 · Tashkent",
        "🇰🇿🇹🇯 Kazakhstan – Tajikistan · visit · 20 November 2026 · Dushanbe",
    ]
    assert seen.first_summary == "Japarov and Putin discussed trade by phone."
    # The hostile summary is shown as the text it is, and nothing of it became markup.
    assert seen.scripts == 0 and seen.hostile_text_shown
    assert seen.page_width <= seen.viewport_width  # no sideways scrolling on a phone

    assert "country=TJ" in seen.filtered_url
    assert seen.filtered_titles == [
        "🇰🇿🇹🇯 Kazakhstan – Tajikistan · visit · 20 November 2026 · Dushanbe"
    ]
    assert seen.event_heading == "🇰🇿🇹🇯 Kazakhstan – Tajikistan · visit"
    assert seen.source_links == [
        ("The Astana Times", "https://astanatimes.example/1"),
        ("Asia-Plus", "https://asiaplus.example/2"),
        ("Kabar", "https://kabar.example/3"),
    ]
    assert "did you mean Tajikistan?" in seen.notice
    assert "Unknown event type “visits”" in seen.notice
