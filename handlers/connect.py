"""One person on two networks: `/connect` gives a one-time code in a private chat,
`/connect CODE` in a private chat on the other network links both accounts to one person
(merging what each already had, see storage/people_repo.py); `/disconnect` undoes it."""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot.config import Settings
from bot.context import Context
from bot.i18n import N_
from bot.rich import code
from handlers.poll_secret import secret_key, voter_keys
from handlers.registry import commands
from storage import people_repo, repo
from storage.models import Account

log = logging.getLogger(__name__)

CODE_VALID = timedelta(minutes=10)
# Without look-alikes (0/O, 1/I/L); 8 characters from 31 give about 2^40 codes.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class Outcome(enum.Enum):
    LINKED = "linked"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    SAME_NETWORK = "same-network"
    ALREADY = "already"
    NETWORK_TAKEN = "network-taken"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


async def code_hash(settings: Settings, text: str) -> str:
    key = await secret_key(settings)
    message = f"buendnisbot/connect/{normalise(text)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@commands.command(
    "connect",
    help=N_("Dein Konto mit deinem Konto auf dem anderen Netzwerk verbinden"),
    params=(c.word("code", N_("Code"), optional=True),),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("connect", "connect K7MQ-2XPA"),
    aliases=("verbinden",),
)
async def connect(ctx: Context, code: str | None = None) -> None:
    if code is None:
        await _give_code(ctx)
    else:
        await _redeem(ctx, code)


async def _give_code(ctx: Context) -> None:
    await ctx.ensure_person()
    sender, services = ctx.sender, ctx.services
    text = new_code()
    digest = await code_hash(services.settings, text)
    now = services.now()

    async def store(session: AsyncSession) -> None:
        account = await repo.find_account(session, sender.platform, sender.id)
        assert account is not None
        await people_repo.add_code(session, account.id, digest, now + CODE_VALID, now)

    await ctx.db.run(store)
    others = [t for p, t in services.transports.items() if p != ctx.chat.platform]
    prefix: str = getattr(others[0], "command_prefix", "/") if others else "/"
    await ctx.reply(
        ctx.t(
            "Dein Code: {code}\nSchreib mir im privaten Chat auf dem anderen Netzwerk {cmd}. "
            "Der Code gilt 10 Minuten und nur einmal. Gib ihn niemandem weiter.",
            code=code(text),
            cmd=code(f"{prefix}connect {text}"),
        )
    )


async def _redeem(ctx: Context, text: str) -> None:
    person_id = await ctx.ensure_person()
    sender, services = ctx.sender, ctx.services
    digest = await code_hash(services.settings, text)
    now = services.now()

    keys = await voter_keys(services.settings)

    async def link(session: AsyncSession) -> tuple[Outcome, int]:
        found = await people_repo.find_code(session, digest)
        if found is None:
            return Outcome.UNKNOWN, person_id
        if found.used:
            return Outcome.USED, person_id
        if found.expires_at <= now:
            return Outcome.EXPIRED, person_id
        owner = await session.get(Account, found.account_id)
        assert owner is not None
        if owner.platform == sender.platform:
            return Outcome.SAME_NETWORK, person_id
        if owner.person_id == person_id:
            return Outcome.ALREADY, person_id
        keep = owner.person_id
        theirs = {a.platform for a in await repo.accounts_of(session, keep)}
        mine = {a.platform for a in await repo.accounts_of(session, person_id)}
        if theirs & mine:
            return Outcome.NETWORK_TAKEN, person_id
        found.used = True
        await session.flush()
        await people_repo.merge(session, keep, person_id, keys)
        return Outcome.LINKED, keep

    outcome, now_person = await ctx.db.run(link)
    if outcome is Outcome.LINKED:
        log.info("person %d merged into person %d", person_id, now_person)
        ctx.person_id = now_person
        await ctx.reply(
            ctx.t(
                "Verbunden! Deine Konten gehören jetzt zu einer Person: AGs, Rollen, Stimmen, "
                "Zusagen und Erinnerungen gelten auf beiden Netzwerken. {my} zeigt deine AGs, "
                "{disconnect} trennt die Verbindung wieder.",
                my=code(ctx.cmd("my")),
                disconnect=code(ctx.cmd("disconnect")),
            )
        )
        return
    again = code(ctx.cmd("connect"))
    messages = {
        Outcome.UNKNOWN: ctx.t(
            "Diesen Code kenne ich nicht. Hol dir auf dem anderen Netzwerk mit {connect} "
            "einen neuen.",
            connect=again,
        ),
        Outcome.USED: ctx.t(
            "Dieser Code wurde schon benutzt. Hol dir auf dem anderen Netzwerk mit {connect} "
            "einen neuen.",
            connect=again,
        ),
        Outcome.EXPIRED: ctx.t(
            "Dieser Code ist abgelaufen (er gilt 10 Minuten). Hol dir auf dem anderen Netzwerk "
            "mit {connect} einen neuen.",
            connect=again,
        ),
        Outcome.SAME_NETWORK: ctx.t(
            "Diesen Code musst du auf dem anderen Netzwerk eingeben, nicht hier."
        ),
        Outcome.ALREADY: ctx.t("Diese beiden Konten sind schon miteinander verbunden."),
        Outcome.NETWORK_TAKEN: ctx.t(
            "Eines der Konten ist schon mit einem Konto auf demselben Netzwerk verbunden. "
            "Trenne es zuerst mit {disconnect}.",
            disconnect=code(ctx.cmd("disconnect")),
        ),
    }
    await ctx.reply(messages[outcome])


@commands.command(
    "disconnect",
    help=N_("Die Verbindung deines Kontos mit dem anderen Netzwerk trennen"),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("disconnect",),
    aliases=("trennen",),
)
async def disconnect(ctx: Context) -> None:
    person_id = await ctx.ensure_person()
    sender = ctx.sender
    keys = await voter_keys(ctx.services.settings)

    async def split(session: AsyncSession) -> int | None:
        if await people_repo.count_accounts(session, person_id) < 2:
            return None
        account = await repo.find_account(session, sender.platform, sender.id)
        assert account is not None
        return await people_repo.split_off(session, account.id, keys)

    new_person = await ctx.db.run(split)
    if new_person is None:
        await ctx.reply(ctx.t("Dein Konto ist mit keinem anderen verbunden."))
        return
    log.info("account split off person %d into person %d", person_id, new_person)
    ctx.person_id = new_person
    await ctx.reply(
        ctx.t(
            "Getrennt. Dieses Konto steht jetzt für sich allein. Deine AGs, Rollen, Stimmen, "
            "Zusagen und Erinnerungen bleiben beim anderen Konto; hier kannst du mit {join} "
            "neu beitreten oder dich mit {connect} wieder verbinden.",
            join=code(ctx.cmd("join <AG>")),
            connect=code(ctx.cmd("connect")),
        )
    )
