"""/trends in console mode: the chart is saved as a file, its caption printed."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_application
from bot.console import CONSOLE_TOKEN, ConsoleRequest
from coopwatch.settings import Settings
from storage import Database
from storage import events as event_store
from tests.fakebot.state import PNG_SIGNATURE
from tests.seed import VERDICT


async def test_console_mode_saves_the_trends_chart(settings: Settings, tmp_path: Path) -> None:
    # Charts an earlier run saved: message numbers start again with each run.
    earlier = {tmp_path / f"coopwatch-photo-{n}.png": f"earlier {n}".encode() for n in range(20)}
    for path, content in earlier.items():
        path.write_bytes(content)
    read_fd, write_fd = os.pipe()
    output = io.StringIO()
    request = ConsoleRequest(
        input_stream=os.fdopen(read_fd, "r"), output=output, photo_dir=tmp_path
    )
    app = build_application(settings, request=request, token=CONSOLE_TOKEN)
    stopped = asyncio.Event()
    request.on_eof = stopped.set
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        db: Database = app.bot_data.opened().db
        db.call(
            event_store.create_event,
            key="C1",
            event_type="call",
            countries=("TM", "UZ"),
            event_date=datetime.now(UTC).date(),
            place=None,
            summary="A phone call.",
            facts={},
            evidence=None,
            language="en",
            confidence=0.9,
            state="{}",
            item_id=0,
            verdict=VERDICT,
            alert=False,
        )
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        with os.fdopen(write_fd, "w") as typing:
            typing.write("/trends Turkmenistan\n")
            typing.flush()
            for _ in range(200):
                if "[image:" in output.getvalue():
                    break
                await asyncio.sleep(0.05)
        await asyncio.wait_for(stopped.wait(), 5)
        await app.updater.stop()
        await app.stop()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
    shown = output.getvalue()
    assert (
        "Turkmenistan: events in 12 months" in shown and ": 1; top partners: Uzbekistan 1" in shown
    )
    [saved] = set(tmp_path.glob("coopwatch-photo-*.png")) - set(earlier)
    assert saved.read_bytes().startswith(PNG_SIGNATURE)
    assert all(path.read_bytes() == content for path, content in earlier.items())
