"""Engine, sessions and migrations."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from sqlalchemy import Table, bindparam, create_engine, event, text, update
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlmodel import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

MIGRATIONS = Path(__file__).parent / "migrations"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def _userinfo_split(url: str) -> tuple[str, str, str] | None:
    """(head up to the password, the password as written, the rest) or None without one.

    The userinfo ends at the *last* "@": a host never contains one, while a password typed
    unencoded may hold "@", "/", ":" or "#" — SQLAlchemy's own parser (and any pattern that
    stops at the first "/" or "@") then splits it in the wrong place and shows part of it.
    Cutting too much (an "@" in a query string) only masks more than needed.
    """
    scheme_end = url.find("://")
    if scheme_end < 0:
        return None
    start = scheme_end + 3
    at = url.rfind("@", start)
    if at < 0:
        return None
    colon = url.find(":", start, at)
    if colon < 0:
        return None
    return url[: colon + 1], url[colon + 1 : at], url[at:]


def database_password(url: str) -> str | None:
    """The password in a database URL as written there, so the log can redact it."""
    parts = _userinfo_split(url)
    return parts[1] if parts and parts[1] else None


def database_secrets(url: str) -> list[str]:
    """Every spelling of the URL's password that a message could contain: as written, as
    SQLAlchemy decodes it (what the driver sees), and url-encoded again."""
    found = {database_password(url) or ""}
    try:
        parsed = make_url(url).password
    except (ArgumentError, ValueError):
        parsed = None
    found.add(str(parsed or ""))
    return sorted(secret_spellings(*found) - {""}, key=len, reverse=True)


def secret_spellings(*secrets: str) -> set[str]:
    """A secret as written, decoded and encoded (a log may show any of them)."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        for plain in {secret, unquote(secret), unquote_plus(secret)}:
            forms |= {plain, quote(plain, safe=""), quote_plus(plain), quote(plain)}
    return forms - {""}


def mask_password(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = _userinfo_split(url)
    if parts is None or not parts[1]:
        return url
    return f"{parts[0]}***{parts[2]}"


class StorageError(Exception):
    """Root of the storage errors: the database is unreachable, misconfigured or refused."""


def validate_database_url(url: str) -> str:
    """Return ``url`` if SQLAlchemy can parse it and it names a supported backend."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StorageError(f"not a database URL: {mask_password(url)!r}") from exc
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise StorageError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///PATH "
            "or postgresql+psycopg://USER@HOST/DB"
        )
    if (
        parsed.get_backend_name() != "sqlite"
        and "@" in f"{parsed.host or ''}{parsed.database or ''}"
    ):
        # An unencoded "@" in the password: SQLAlchemy would take part of the password for the
        # host and connect elsewhere with the rest — and error messages would show it.
        raise StorageError(
            "database URL: an '@' in the user name or password must be url-encoded: write it "
            f"as %40 (and '/' as %2F, ':' as %3A, '#' as %23): {mask_password(url)!r}"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain "postgresql://" would pick psycopg2, which is not installed.
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        parsed.get_dialect()
    except (NoSuchModuleError, ImportError) as exc:
        raise StorageError(f"no database driver {parsed.drivername!r} installed") from exc
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets the sender read while the poller writes; foreign keys are off by default in
    # SQLite; busy_timeout turns "database is locked" into a short wait.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _enable_wal(engine: Engine) -> None:
    if engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the per-backend settings coopwatch relies on."""
    parsed: URL = make_url(validate_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre_ping: a restarted PostgreSQL leaves dead connections in the pool; check on checkout.
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)


_REVISION_LINE = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)\s*$", re.M
)


def known_head() -> str | None:
    """The newest migration, read from the revision lines of the migration files.

    Alembic takes ≈ 0.3 s to import and to load its scripts, at every command's start; when
    the database is already at this head there is nothing for it to do. None when the
    files do not name exactly one head (a merge, an unusual file): then Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(
            (name, double or single or None)
            for name, double, single in _REVISION_LINE.findall(path.read_text("utf-8"))
        )
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"] or "")
        if found["down_revision"]:
            parents.add(found["down_revision"] or "")
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


class Database:
    """The shared database handle: engine, transactions, migrations."""

    def __init__(self, url: str) -> None:
        self.url = validate_database_url(url)
        self.engine = make_engine(self.url)
        # SQLite has one writer at a time: concurrent writers from several threads wait on
        # its lock in sleeping retries (busy_timeout), which cost a poll cycle a third of its
        # wall time (bench/ingest.py). One database thread queues them instead.
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
            if self.backend == "sqlite"
            else None
        )

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def upgrade(self) -> None:
        """Apply every pending migration (idempotent)."""
        try:
            head = known_head()
            if head is not None and self.current_revision() == head:
                return  # start-up: nothing pending, no need for Alembic
            from alembic import command

            if self.backend == "sqlite":
                _enable_wal(self.engine)
            command.upgrade(alembic_config(self.engine), "head")
        except OperationalError as exc:
            # The driver's own words on one line, without SQLAlchemy's background link.
            raise StorageError(
                f"could not open or migrate the database: {driver_message(exc)}"
            ) from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"could not migrate the database: {driver_message(exc)}") from exc

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            except SQLAlchemyError:
                return None
        return row[0] if row else None

    def head_revision(self) -> str | None:
        """The newest migration this code knows; ``current_revision()`` equals it when current.

        Read from the migration files' revision lines as `upgrade()` does (the doctor asks at
        every health check); Alembic loads its scripts only when those lines name no single
        head.
        """
        head = known_head()
        if head is not None:
            return head
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        # Imported here: sqlmodel brings SQLAlchemy's ORM (≈ 0.15 s), which opening and
        # upgrading the database (`db upgrade`, the doctor) do not use (issue 14).
        from sqlmodel import Session

        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def call(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the data function ``fn(session, *args, **kwargs)`` in its own transaction.

        Every data function takes the session as its first, positional-only parameter, so
        mypy checks the rest of the call against ``fn``'s own signature (a misspelt keyword
        is a type error, not a TypeError at run time).

        Operational failures (disk full, database unreachable, locked too long) become a
        StorageError with a plain message; the transaction has been rolled back.
        """
        try:
            with self.session() as session:
                return fn(session, *args, **kwargs)
        except OperationalError as exc:
            raise StorageError(_plain(exc)) from exc

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like ``call``, in a worker thread so the event loop never waits on the database."""
        return await self._off_loop(functools.partial(self.call, fn, *args, **kwargs))

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like ``run``, for a data function that reads with SQLAlchemy Core on a connection
        (storage.eventlist): no session, so the ORM, sqlmodel and the table classes need not
        be imported (`coopwatch export`, issue 14). Nothing is written or committed."""
        return await self._off_loop(functools.partial(self._read_now, fn, *args, **kwargs))

    def _read_now(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            with self.engine.connect() as connection:
                return fn(connection, *args, **kwargs)
        except OperationalError as exc:
            raise StorageError(_plain(exc)) from exc

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like ``read``, for a data function that writes with SQLAlchemy Core: one
        transaction, committed on success and rolled back on error, as ``run``'s. What every
        poll writes (storage.feedrows) goes here, so a poll cycle never imports the ORM."""
        return await self._off_loop(functools.partial(self.write_now, fn, *args, **kwargs))

    def write_now(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``write`` in this thread (start-up, tests)."""
        try:
            with self.engine.begin() as connection:
                return fn(connection, *args, **kwargs)
        except OperationalError as exc:
            raise StorageError(_plain(exc)) from exc

    async def _off_loop(self, job: Callable[[], T]) -> T:
        """Run ``job`` in the database thread (SQLite: one writer at a time), else in one of
        asyncio's worker threads."""
        if self._executor is None:
            return await asyncio.to_thread(job)
        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StorageError(f"database unreachable: {exc}") from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.engine.dispose()


# Rows per executemany: bounded, so one call with many rows never builds one huge parameter
# list.
UPDATE_BATCH = 500


def update_by_id(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, object]], /
) -> None:
    """``UPDATE table SET <each row's other keys> WHERE id = row["id"]`` for many rows, as one
    executemany per batch in the caller's transaction (every row has the same keys).

    Core, not the ORM's bulk update by primary key, which raises on a row that is gone (an
    item pruned while it waited for its verdict).
    """
    if not rows:
        return
    columns = [key for key in rows[0] if key != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({column: bindparam(column) for column in columns})
    )
    for start in range(0, len(rows), UPDATE_BATCH):
        connection.execute(
            statement,
            [
                {"row_id": row["id"], **{column: row[column] for column in columns}}
                for row in rows[start : start + UPDATE_BATCH]
            ],
        )


def forget_loaded(session: Session, model: type[Any], row_id: object, /) -> None:
    """Expire the session's copy of a row that a Core statement just changed, if it holds one:
    an ORM read later in the same transaction then sees the new values, not the old ones."""
    loaded = session.identity_map.get(session.identity_key(model, row_id))
    if loaded is not None:
        session.expire(loaded)


def driver_message(exc: SQLAlchemyError) -> str:
    """The first line of the driver's message (SQLAlchemy adds the SQL and a link below it)."""
    orig = getattr(exc, "orig", None)
    cause = str(orig) if orig is not None else str(exc)
    return cause.strip().splitlines()[0] if cause.strip() else type(exc).__name__


def _plain(exc: OperationalError) -> str:
    """The database's own words, without SQLAlchemy's SQL and parameters."""
    first = driver_message(exc) if str(exc).strip() else "operational error"
    if "full" in first:
        return f"the database is full ({first}); free disk space"
    return f"database error: {first}"
