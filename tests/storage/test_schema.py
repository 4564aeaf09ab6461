"""The schema: migrations, UTC datetimes, constraints — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage import Database, StorageError, chats, validate_database_url
from storage.models import Chat, Event, Feed, Item


def test_upgrade_is_idempotent(db: Database) -> None:
    db.upgrade()
    assert db.current_revision() is not None


def test_datetimes_come_back_aware_in_utc(db: Database) -> None:
    almaty = timezone(timedelta(hours=5))
    seen = datetime(2026, 5, 19, 12, 0, tzinfo=almaty)
    with db.session() as session:
        feed = Feed(url="https://example.org/feed", title="Example", next_poll_at=seen)
        session.add(feed)
        session.flush()
        feed_id = feed.id
    with db.session() as session:
        loaded = session.get(Feed, feed_id)
        assert loaded is not None and loaded.next_poll_at is not None
        assert loaded.next_poll_at.tzinfo is not None
        assert loaded.next_poll_at == seen
        assert loaded.next_poll_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.session() as session:
        session.add(Feed(url="https://example.org/a", next_poll_at=datetime(2026, 1, 1)))
        session.flush()


def test_item_stored_once_per_feed(db: Database) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        feed = Feed(url="https://example.org/feed")
        session.add(feed)
        session.flush()
        assert feed.id is not None
        feed_id = feed.id
        session.add(Item(feed_id=feed_id, key="guid-1", title="A", published_at=now))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Item(feed_id=feed_id, key="guid-1", title="A again", published_at=now))
        session.flush()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Item(feed_id=424242, key="x", published_at=datetime.now(UTC)))
        session.flush()


def test_telegram_chat_ids_beyond_32_bits(db: Database) -> None:
    supergroup = -1001234567890
    with db.session() as session:
        chats.register_chat(
            session,
            chat_id=supergroup,
            chat_type="supergroup",
            language="ru",
            title="Analysts",
        )
        chats.set_countries(session, chat_id=supergroup, countries={"KZ", "CN"})
    info = db.call(chats.get_chat, chat_id=supergroup)
    assert info is not None
    assert info.countries == ("CN", "KZ") and info.language == "ru"


def test_register_chat_keeps_settings_of_a_returning_chat(db: Database) -> None:
    db.call(chats.register_chat, chat_id=7, chat_type="private", language="en")
    db.call(chats.set_countries, chat_id=7, countries={"TJ"})
    db.call(chats.deactivate_chat, chat_id=7, reason="blocked")
    info, created = db.call(chats.register_chat, chat_id=7, chat_type="private", language="ru")
    assert not created and info.active and info.countries == ("TJ",)


def test_event_key_is_unique(db: Database) -> None:
    with db.session() as session:
        session.add(Event(key="KZ-TJ-1", event_type="visit", countries="KZ,TJ"))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Event(key="KZ-TJ-1", event_type="call", countries="KZ,TJ"))
        session.flush()


def test_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.add(Chat(id=5, type="private"))
        session.flush()
        raise RuntimeError("crash in the middle")
    assert db.call(chats.get_chat, chat_id=5) is None


@pytest.mark.parametrize("url", ["", "nonsense", "mysql://root@localhost/x", "sqlite+foo://"])
def test_bad_database_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageError):
        validate_database_url(url)


def test_sqlite_uses_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    db.upgrade()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()


def test_migrations_match_the_models(db: Database) -> None:
    """A model change without its migration would show here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_feed_fingerprint_migration_goes_down_and_up(db: Database) -> None:
    """0004 adds feed.body_fingerprint; down drops it and keeps the feeds; up again."""
    from alembic import command
    from sqlalchemy import inspect

    from storage.db import alembic_config

    def columns() -> set[str]:
        return {c["name"] for c in inspect(db.engine).get_columns("feed")}

    with db.session() as session:
        feed = Feed(url="https://example.org/feed", body_fingerprint="ab" * 16)
        session.add(feed)
        session.flush()
        assert feed.id is not None
        session.add(Item(feed_id=feed.id, key="g1", published_at=datetime.now(UTC)))
    assert "body_fingerprint" in columns()
    command.downgrade(alembic_config(db.engine), "0003_ha")
    assert db.current_revision() == "0003_ha" and "body_fingerprint" not in columns()
    db.upgrade()
    assert db.current_revision() == "0004_fingerprint" and "body_fingerprint" in columns()
    with db.session() as session:
        [feed] = session.exec(select(Feed)).all()
        items = session.exec(select(Item)).all()
    assert feed.url == "https://example.org/feed" and feed.body_fingerprint is None
    assert [i.key for i in items] == ["g1"]  # rebuilding the table on SQLite cascades nothing


def test_going_down_two_migrations_and_up_again_keeps_events_parties_and_outbox(
    db: Database,
) -> None:
    """0003_analyst and 0003_ha drop columns of `event` and `delivery`: on SQLite a copy of
    the table would delete the old one first, and with it, by ON DELETE CASCADE, the events'
    parties and (SET NULL) their reports' links."""
    from alembic import command
    from sqlalchemy import func

    from storage.db import alembic_config
    from storage.models import Delivery, EventCountry
    from tests.seed import add_chat, add_event_with_source

    add_chat(db, 42)
    event = add_event_with_source(db, countries=("KZ", "TJ"))

    def counts() -> tuple[int, int, int]:
        with db.session() as session:
            parties = session.exec(select(func.count()).select_from(EventCountry)).one()
            linked = session.exec(
                select(func.count()).select_from(Item).where(Item.event_id == event.id)
            ).one()
            outbox = session.exec(select(func.count()).select_from(Delivery)).one()
        return parties, linked, outbox

    before = counts()
    assert before == (2, 1, 1)
    command.downgrade(alembic_config(db.engine), "0002")
    assert counts() == before
    db.upgrade()
    assert counts() == before
