"""The rules of `/mydata` and `/forget`: what goes into the export, the confirmation code
and its validity, and whom to tell when an AG loses its last lead."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta

from bot.context import Context, Services
from bot.outbox import Audience, Reader
from bot.rich import AccountRef, Rich, code
from handlers.polls.secret import voter_keys
from handlers.welcome.service import forget_greetings, welcome_key
from storage import repo
from storage.models import Ag
from storage.privacy import forget, mydata

log = logging.getLogger(__name__)

FORGET_VALID = timedelta(minutes=10)
CANCEL_WORDS = frozenset({"nein", "no", "abbrechen", "cancel", "stopp", "stop"})


async def export(ctx: Context, person_id: int) -> str:
    """Everything stored about the person, as indented JSON."""
    async with ctx.db.read() as session:
        accounts = await repo.accounts_of(session, person_id)
    greeted = [await welcome_key(ctx.services, a.platform, a.external_id) for a in accounts]
    async with ctx.db.read() as session:
        data = await mydata.export(session, person_id, greeted)
    return json.dumps(data, ensure_ascii=False, indent=2)


async def ask_forget(ctx: Context, person_id: int) -> str:
    """Note that the person asked to be forgotten; returns the code that confirms it."""
    now = ctx.services.now()
    code_ = f"{secrets.randbelow(1_000_000):06d}"
    await ctx.db.run(lambda s: forget.set_forget_request(s, person_id, code_, now + FORGET_VALID))
    return code_


async def cancel_forget(ctx: Context, person_id: int) -> bool:
    """Drop the person's pending request, so that its code no longer deletes anything."""
    return await ctx.db.run(lambda s: forget.cancel_forget_request(s, person_id))


async def confirm_forget(ctx: Context, person_id: int, answer: str) -> list[Ag] | None:
    """Delete the person if `answer` confirms their request in time; returns the AGs that
    lost their last lead (None: not a valid confirmation, nothing deleted)."""
    services = ctx.services
    now = services.now()
    keys = await voter_keys(services.settings)
    orphaned = await ctx.db.run(
        lambda s: forget.confirm_forget(
            s, person_id, answer, now, keys, lambda t: forget_greetings(services, t, person_id)
        )
    )
    if orphaned is not None:
        ctx.person_id = None
        log.info("person %d deleted their data", person_id)
    return orphaned


async def tell_no_lead(services: Services, ag: Ag) -> None:
    """An AG lost its last lead: say so in its chats, else to the admins privately."""
    chats = await services.ag_chats(ag.id)
    audiences = [Audience.of_chat(chat) for chat in chats]
    if not chats:
        for admin in sorted(services.settings.admins):
            platform, _, external_id = admin.partition(":")
            if platform in services.transports:
                account = AccountRef(platform, external_id, external_id)
                audiences.append(Audience.of_account(account))
    await services.outbox.fan_out(audiences, lambda reader: _no_lead(reader, ag))


def _no_lead(reader: Reader, ag: Ag) -> Rich:
    return reader.t(
        "Die AG {ag} hat keine Leitung mehr, weil die letzte Leitung ihre Daten gelöscht hat. "
        "Ein Admin kann mit {lead} eine neue bestimmen.",
        ag=ag.name,
        lead=code(reader.cmd(f"lead {ag.slug} @…")),
    )
