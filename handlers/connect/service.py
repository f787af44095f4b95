"""The rules of linking accounts: one-time codes (only a keyed hash is stored), redeeming
them, splitting an account off, and telling the person's other account what happened.
The transactions themselves are in storage/connect/link.py."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable

from bot.config import Settings
from bot.context import Context
from bot.i18n import Lang
from bot.outbox import Audience
from bot.rich import AccountRef, Rich
from handlers.connect.render import name
from handlers.polls.secret import secret_key, voter_keys
from storage.connect import link
from storage.connect.link import Holder, Redeemed

log = logging.getLogger(__name__)

# Without look-alikes (0/O, 1/I/L); 8 characters from 31 give about 2^40 codes.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


async def code_hash(settings: Settings, text: str) -> str:
    key = await secret_key(settings)
    message = f"buendnisbot/connect/{normalise(text)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def ref(account: Holder) -> AccountRef:
    return AccountRef(account.platform, account.external_id, account.display_name, account.username)


def other_prefix(ctx: Context) -> str:
    """The command prefix on the other network (where the code is to be typed)."""
    others = [t for p, t in ctx.services.transports.items() if p != ctx.chat.platform]
    return others[0].command_prefix if others else "/"


async def give_code(ctx: Context) -> str:
    """A new code for the sender's account, stored as a hash; returns the code."""
    await ctx.ensure_person()
    sender, services = ctx.sender, ctx.services
    text = new_code()
    digest = await code_hash(services.settings, text)
    now = services.now()
    await ctx.db.run(lambda s: link.store_code(s, sender.platform, sender.id, digest, now))
    return text


async def redeem(ctx: Context, text: str, *, confirmed: bool) -> Redeemed:
    """The sender typed a code (and perhaps confirmed it); on a link the context now
    stands for the linked person."""
    person_id = await ctx.ensure_person()
    sender, services = ctx.sender, ctx.services
    digest = await code_hash(services.settings, text)
    now = services.now()
    keys = await voter_keys(services.settings)
    done = await ctx.db.run(
        lambda s: link.redeem(
            s, sender.platform, sender.id, person_id, digest, now, confirmed=confirmed, keys=keys
        )
    )
    if done.outcome is link.Outcome.LINKED:
        log.info("person %d merged into person %d", person_id, done.person_id)
        ctx.person_id = done.person_id
    return done


async def disconnect(ctx: Context) -> tuple[int, list[Holder]] | None:
    """Split the sender's account off its person (None: it is linked with no other).
    Returns the person the other accounts keep and those accounts."""
    person_id = await ctx.ensure_person()
    sender = ctx.sender
    keys = await voter_keys(ctx.services.settings)
    done = await ctx.db.run(
        lambda s: link.disconnect(s, sender.platform, sender.id, person_id, keys)
    )
    if done is None:
        return None
    new_person, others = done
    log.info("account split off person %d into person %d", person_id, new_person)
    ctx.person_id = new_person
    return person_id, others


async def tell(
    ctx: Context,
    account: Holder,
    person_id: int,
    compose: Callable[[Lang, str, str], Rich],
) -> None:
    """Tell another account of the person what this account just did, privately on its
    own network, in the person's language."""
    services = ctx.services
    if account.platform not in services.transports:
        return
    async with ctx.db.read() as session:
        language = await link.person_language(session, person_id)
    audience = Audience.of_account(ref(account), language)
    who = name(ctx.sender.as_account())
    try:
        await services.outbox.send(
            audience, lambda reader: compose(reader.lang, who, reader.prefix)
        )
    except Exception:
        log.warning("could not tell the other account on %s about a link", account.platform)
