"""SQLModel tables, engine and sessions, queries and Alembic migrations.

The only package that imports sqlmodel or sqlalchemy. Data functions take the session as
their first, positional-only parameter and everything else by keyword; the caller owns the
transaction (``Database.session()`` commits on success). ``Database.run``/``call`` are typed
with that shape, so mypy checks every call's keywords against the data function.
``Session`` is re-exported for the few callers outside storage that annotate a data function.
"""

from sqlmodel import Session

from storage.db import Database, StorageError, validate_database_url

# Submodules (chats, feeds, events, …) are imported where they are used
# (`from storage import feeds as feed_store`): importing them all here made every command
# pay for the outbox, the archive and the topics at start-up (issue 14).
__all__ = ["Database", "Session", "StorageError", "validate_database_url"]
