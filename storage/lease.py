"""Who leads: a lease row in the shared database, with a fencing term; SQLite's file lock.

Several instances may share one PostgreSQL database. One row of ``leader_lease`` says which of
them leads (``holder``, "hostname:pid") and until when (``expires_at``, by the database's
clock, so the hosts' clocks never need to agree). The leader renews it on a heartbeat; the
others try to take it, which succeeds only once it has expired. Every change of holder adds
one to ``term``, the fencing token: outbox claims carry it, a claim by an older term is void,
and only the holder of the current, unexpired term may claim (storage.deliveries).

The lease has its own engine with a single connection and tight network timeouts, so a
renewal never queues behind the pool the pipeline and the sender use, and never hangs for
minutes on a dead network (coopwatch/leadership.py bounds it again, by the clock).

SQLite allows one writer and one instance: ``lock_sqlite_file`` takes an exclusive lock on
a file next to the database, so a second instance refuses to start instead of corrupting
the outbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Interval, create_engine, func, literal, select, type_coerce, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from storage.db import (
    StorageError,
    driver_message,
    make_engine,
    mask_password,
    validate_database_url,
)
from storage.models import LeaderLease
from storage.types import UTCDateTime, utcnow

LEASE_NAME = "leader"
# The lease connection gives up on a silent network after this many seconds (libpq's
# connect timeout, TCP user timeout and keepalives; the server's statement timeout).
NETWORK_TIMEOUT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Lease:
    """One reading of the lease row."""

    holder: str
    term: int
    expires_at: Any  # aware UTC datetime, by the database's clock


def _clock(session: Session, plus: float = 0.0) -> ColumnElement[Any]:
    """The database's clock (plus some seconds): the hosts' clocks are never compared."""
    if session.get_bind().dialect.name == "postgresql":
        # clock_timestamp(), not now(): the time of this statement, not of the transaction.
        now: ColumnElement[Any] = func.clock_timestamp()
        if plus:
            now = now + literal(timedelta(seconds=plus), Interval())
        return type_coerce(now, UTCDateTime)
    # SQLite: one instance, one clock, and no date arithmetic in SQL.
    return literal(utcnow() + timedelta(seconds=plus), UTCDateTime)


def try_acquire(
    session: Session, /, *, holder: str, ttl: float, force: bool = False, name: str = LEASE_NAME
) -> Lease | None:
    """Take the lease if it is free or expired (always with ``force``); None if it is held.

    One INSERT … ON CONFLICT DO UPDATE … WHERE: PostgreSQL runs it atomically against any
    other instance's attempt, so at most one of them gets a row back. ``force`` is for
    SQLite, where the file lock has already proved that no other instance runs.
    """
    # Imported here as in storage.deliveries._queue: a SQLite command needs no PostgreSQL.
    from sqlalchemy.dialects import postgresql, sqlite

    now, expires = _clock(session), _clock(session, ttl)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(LeaderLease).values(
        name=name, holder=holder, term=1, acquired_at=now, renewed_at=now, expires_at=expires
    )
    table = LeaderLease.__table__  # type: ignore[attr-defined]
    upsert = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": statement.excluded.holder,
            "term": table.c.term + 1,
            "acquired_at": statement.excluded.acquired_at,
            "renewed_at": statement.excluded.renewed_at,
            "expires_at": statement.excluded.expires_at,
        },
        where=None if force else table.c.expires_at <= statement.excluded.acquired_at,
    ).returning(table.c.holder, table.c.term, table.c.expires_at)
    row = session.connection().execute(upsert).first()
    return None if row is None else Lease(row.holder, row.term, row.expires_at)


def renew(
    session: Session, /, *, holder: str, term: int, ttl: float, name: str = LEASE_NAME
) -> Lease | None:
    """Extend our lease by ``ttl`` from now; None if it is no longer ours (another term)."""
    now, expires = _clock(session), _clock(session, ttl)
    row = (
        session.connection()
        .execute(
            update(LeaderLease)
            .where(
                col(LeaderLease.name) == name,
                col(LeaderLease.holder) == holder,
                col(LeaderLease.term) == term,
            )
            .values(renewed_at=now, expires_at=expires)
            .returning(col(LeaderLease.holder), col(LeaderLease.term), col(LeaderLease.expires_at))
        )
        .first()
    )
    return None if row is None else Lease(row.holder, row.term, row.expires_at)


def release(session: Session, /, *, holder: str, term: int, name: str = LEASE_NAME) -> bool:
    """End our lease now (a clean stop), so another instance takes over at once."""
    row = (
        session.connection()
        .execute(
            update(LeaderLease)
            .where(
                col(LeaderLease.name) == name,
                col(LeaderLease.holder) == holder,
                col(LeaderLease.term) == term,
            )
            .values(expires_at=_clock(session))
            .returning(col(LeaderLease.term))
        )
        .first()
    )
    return row is not None


def current_lease(session: Session, /, *, name: str = LEASE_NAME) -> Lease | None:
    """The lease row as it stands, expired or not (None before anyone ever led)."""
    row = session.get(LeaderLease, name)
    return None if row is None else Lease(row.holder, row.term, row.expires_at)


def holds_lease(session: Session, /, *, holder: str, term: int, name: str = LEASE_NAME) -> bool:
    """Is (holder, term) the current, unexpired lease? Locks the row until the commit.

    FOR SHARE makes a takeover wait for this transaction: whatever the caller writes in it
    (an outbox claim) is committed under the old term before the new term exists.
    """
    found = session.exec(
        select(LeaderLease.term)  # type: ignore[call-overload]
        .where(
            col(LeaderLease.name) == name,
            col(LeaderLease.holder) == holder,
            col(LeaderLease.term) == term,
            col(LeaderLease.expires_at) > _clock(session),
        )
        .with_for_update(read=True)
    ).first()
    return found is not None


class LeaseStore:
    """The lease functions on a connection of their own (see the module docstring)."""

    def __init__(self, url: str) -> None:
        url = validate_database_url(url)
        self.backend = make_url(url).get_backend_name()
        self.engine: Engine
        if self.backend == "postgresql":
            timeout = NETWORK_TIMEOUT_SECONDS
            self.engine = create_engine(
                url,
                pool_size=1,
                max_overflow=0,
                pool_timeout=timeout,
                pool_pre_ping=True,
                connect_args={
                    "connect_timeout": timeout,
                    "keepalives": 1,
                    "keepalives_idle": 2,
                    "keepalives_interval": 1,
                    "keepalives_count": 3,
                    "tcp_user_timeout": timeout * 1000,
                    "options": f"-c statement_timeout={timeout * 1000}",
                    "application_name": "coopwatch-lease",
                },
            )
        else:
            self.engine = make_engine(url)

    def call(self, fn: Any, /, **kwargs: Any) -> Any:
        """Run ``fn(session=…, **kwargs)`` in one transaction; StorageError on any failure."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                result = fn(session, **kwargs)
                session.commit()
                return result
        except SQLAlchemyError as exc:
            raise StorageError(f"database error (leader lease): {driver_message(exc)}") from exc

    def close(self) -> None:
        self.engine.dispose()


class InstanceLock:
    """An exclusive lock on ``<database>.lock``, held while the process runs."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_sqlite_file(url: str) -> InstanceLock | None:
    """Refuse a second instance on one SQLite file; None for PostgreSQL or in-memory SQLite.

    flock(2) is released by the kernel when the process ends however it ends (SIGKILL too),
    so a crash never leaves a stale lock behind.
    """
    parsed = make_url(validate_database_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = Path(parsed.database).resolve()
    path = database.with_name(database.name + ".lock")
    try:
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"cannot open the database's lock file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise StorageError(
            f"another coopwatch instance ({owner}) is running on {mask_password(str(database))}; "
            "SQLite allows one instance: stop it first, or use PostgreSQL (DATABASE_URL="
            "postgresql+psycopg://…) to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return InstanceLock(path, handle)
