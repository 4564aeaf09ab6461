"""The shared services handlers and jobs reach through ``context.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext

from coopwatch.pipeline import EventPipeline
from coopwatch.polling import FeedPoller
from coopwatch.settings import Settings
from news.fetch import FeedFetcher
from storage import Database

SERVICES_KEY = "services"


@dataclass
class Services:
    """Opened in ``post_init``, closed in ``post_shutdown``."""

    settings: Settings
    db: Database
    fetcher: FeedFetcher
    poller: FeedPoller
    pipeline: EventPipeline
    admin_ids: frozenset[int] = field(default_factory=frozenset)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """The services of the running application."""
    found: Services = context.application.bot_data[SERVICES_KEY]
    return found
