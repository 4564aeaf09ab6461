"""SQLModel tables, engine and sessions, queries and Alembic migrations.

The only package that imports sqlmodel or sqlalchemy. Data functions take the session as
their first, positional-only parameter and everything else by keyword; the caller owns the
transaction (``Database.session()`` commits on success). ``Database.run``/``call`` are typed
with that shape, so mypy checks every call's keywords against the data function.
``Session`` is re-exported for the few callers outside storage that annotate a data function.
What a poll cycle and the export touch (storage.feedrows, storage.eventlist) is SQLAlchemy
Core instead, on a connection (``Database.write``/``read``): they start without the ORM.
"""

from typing import TYPE_CHECKING

from storage.db import Database, StorageError, validate_database_url

if TYPE_CHECKING:
    from sqlmodel import Session

# Submodules (chats, feeds, events, …) are imported where they are used
# (`from storage import feeds as feed_store`): importing them all here made every command
# pay for the outbox, the archive and the topics at start-up (issue 14).
__all__ = ["Database", "Session", "StorageError", "validate_database_url"]


def __getattr__(name: str) -> object:
    # `Session` on first use: sqlmodel brings SQLAlchemy's ORM, which `db upgrade` and the
    # settings (they check DATABASE_URL with storage.db) never use (issue 14).
    if name == "Session":
        from sqlmodel import Session

        return Session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
