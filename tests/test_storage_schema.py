"""The schema on both back-ends: the migrations apply (twice changes nothing), and the
seed fills the AG list only into an empty table, never over what admins made."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from storage import repo
from storage.db import Database, alembic_config
from storage.models import Ag
from storage.seed import seed_ags
from tests.support.fake import ROOT

AGS_FILE = ROOT / "config" / "ags.toml"
TABLES = {"person", "account", "ag", "membership", "chat", "ag_chat", "alembic_version"}


async def count(db: Database, model: type[object]) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_migrations_apply_and_a_second_upgrade_changes_nothing(
    empty_database_url: str,
) -> None:
    database = Database(empty_database_url)
    try:
        await database.upgrade()
        async with database.write() as session:
            session.add(Ag(slug="ag9", name="Probe", description=""))

        await database.upgrade()

        async with database.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        # Later features add their own tables (tests/test_polls_storage.py checks the polls').
        assert tables >= TABLES
        assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert await count(database, Ag) == 1, "a repeated upgrade keeps the data"
    finally:
        await database.dispose()


async def test_seed_fills_only_an_empty_table(database_url: str, tmp_path: Path) -> None:
    database = Database(database_url)
    try:
        await database.upgrade()
        async with database.write() as session:
            assert await seed_ags(session, AGS_FILE) == 3
        async with database.write() as session:
            assert await seed_ags(session, AGS_FILE) == 0
        async with database.read() as session:
            ags = await repo.all_ags(session)
        assert [(a.slug, a.name) for a in ags] == [
            ("ag1", "Nachhaltige Dorfentwicklung"),
            ("ag2", "Transparenz und Beteiligung"),
            ("ag3", "Interne Struktur und Vernetzung"),
        ]
        assert ags[1].description.startswith("Politische Entscheidungen im Strukturwandel")
    finally:
        await database.dispose()


async def test_seed_never_overwrites_what_admins_made(database_url: str) -> None:
    database = Database(database_url)
    try:
        await database.upgrade()
        async with database.write() as session:
            session.add(Ag(slug="energie", name="Energie", description="von Hand angelegt"))
        async with database.write() as session:
            assert await seed_ags(session, AGS_FILE) == 0
        async with database.read() as session:
            assert [a.slug for a in await repo.all_ags(session, include_archived=True)] == [
                "energie"
            ]
    finally:
        await database.dispose()


async def test_seed_without_a_file_does_nothing(database_url: str, tmp_path: Path) -> None:
    database = Database(database_url)
    try:
        await database.upgrade()
        async with database.write() as session:
            assert await seed_ags(session, tmp_path / "missing.toml") == 0
        assert await count(database, Ag) == 0
    finally:
        await database.dispose()


async def test_the_migrations_build_exactly_the_tables_the_models_describe(
    empty_database_url: str,
) -> None:
    """A column added to a model without a migration (or the other way round) would work
    in tests that build from the models and fail on a real database: alembic's own
    comparison finds no difference after the migrations ran."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import storage.access.models
    import storage.cards
    import storage.cluster.models
    import storage.connect.models
    import storage.datepoll.models
    import storage.meetings.models
    import storage.notices.models
    import storage.polls.models
    import storage.privacy.forget
    import storage.web.models
    import storage.welcome  # noqa: F401  (every table on Base.metadata, as env.py has them)
    from storage.models import Base

    database = Database(empty_database_url)
    try:
        await database.upgrade()
        async with database.engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diffs == []
    finally:
        await database.dispose()


async def test_an_older_database_is_upgraded_although_newer_ones_skip_alembic(
    empty_database_url: str,
) -> None:
    """`Database.upgrade` skips alembic only at the newest migration: a database at 0014
    still gets 0015 (the growth indexes), and a second upgrade leaves it as it is."""
    database = Database(empty_database_url)
    try:
        async with database.engine.begin() as conn:

            def to_0014(sync_conn: Connection) -> None:
                cfg = alembic_config()
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, "0014")

            await conn.run_sync(to_0014)

        def indexes(sync_conn: Connection) -> set[str]:
            found = inspect(sync_conn).get_indexes("reminder_delivery")
            return {str(index["name"]) for index in found}

        async with database.engine.connect() as conn:
            assert "ix_reminder_delivery_person_id" not in await conn.run_sync(indexes)
        for _ in range(2):
            await database.upgrade()
            async with database.engine.connect() as conn:
                assert "ix_reminder_delivery_person_id" in await conn.run_sync(indexes)
                version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
    finally:
        await database.dispose()
