"""SQLModel tables, engine and sessions, queries and Alembic migrations.

The only package that imports sqlmodel or sqlalchemy. Data functions take a keyword-only
``session`` and the caller owns the transaction (``Database.session()`` commits on success).
"""

from storage import chats
from storage.db import Database, StorageError, validate_database_url

__all__ = ["Database", "StorageError", "chats", "validate_database_url"]
