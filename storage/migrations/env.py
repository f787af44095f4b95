"""Alembic environment: runs on a connection handed over by `Database.upgrade`,
or opens its own async engine when called by the `alembic` command line."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import storage.access.models  # (registers the access tables on Base.metadata)
import storage.cards  # (registers the card table on Base.metadata)
import storage.cluster.models  # (registers the tables of several processes on Base.metadata)
import storage.connect.models  # (registers the connect tables on Base.metadata)
import storage.datepoll.models  # (registers the Terminumfrage tables on Base.metadata)
import storage.meetings.models  # (registers the meeting tables on Base.metadata)
import storage.notices.models  # (registers the notice table on Base.metadata)
import storage.polls.models  # (registers the poll tables on Base.metadata)
import storage.privacy.forget  # (registers the forget-request table on Base.metadata)
import storage.web.models  # (registers the link-token table on Base.metadata)
import storage.welcome  # noqa: F401  (registers the welcome tables on Base.metadata)
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine(config.get_main_option("sqlalchemy.url") or ""))
