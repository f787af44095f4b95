"""One person on two networks: `/connect` gives a one-time code in a private chat;
`/connect CODE` in a private chat on the other network shows which account it belongs to
and what each side brings, and `/connect CODE JA` links both accounts to one person
(merging what each already had, see storage/people_repo.py) and tells the other account.
Nothing is linked without that confirmation. `/disconnect` undoes it, giving each account
back what it brought (storage/link_shares.py)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot.config import Settings
from bot.context import Context
from bot.core import Button
from bot.i18n import N_, Lang
from bot.outbox import Audience
from bot.rich import AccountRef, Rich, bold, code, lines
from handlers.people import account_ref, role_label
from handlers.poll_common import network_name
from handlers.poll_secret import secret_key, voter_keys
from handlers.privacy import CONFIRM_WORDS
from storage import people_repo, repo
from storage.models import Account, Base, Person

feature = c.Feature("connect")

log = logging.getLogger(__name__)

CODE_VALID = timedelta(minutes=10)
# Without look-alikes (0/O, 1/I/L); 8 characters from 31 give about 2^40 codes.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
# Codes that do not exist, per account and hour, before every code is refused for a while.
MISSES_ALLOWED = 5
MISS_WINDOW = timedelta(hours=1)


class Outcome(enum.Enum):
    ASK = "ask"
    LINKED = "linked"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    SAME_NETWORK = "same-network"
    ALREADY = "already"
    NETWORK_TAKEN = "network-taken"
    TOO_MANY = "too-many"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


async def code_hash(settings: Settings, text: str) -> str:
    key = await secret_key(settings)
    message = f"buendnisbot/connect/{normalise(text)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@feature.command(
    "connect",
    help=N_("Dein Konto mit deinem Konto auf dem anderen Netzwerk verbinden"),
    params=(
        c.word("code", N_("Code"), optional=True),
        c.word("confirm", N_("JA"), optional=True),
    ),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("connect", "connect K7MQ-2XPA", "connect K7MQ-2XPA JA"),
    aliases=("verbinden",),
)
async def connect(ctx: Context, code: str | None = None, confirm: str | None = None) -> None:
    if code is None:
        await _give_code(ctx)
    elif confirm is None:
        await _redeem(ctx, code, confirmed=False)
    elif confirm.lower() in CONFIRM_WORDS:
        await _redeem(ctx, code, confirmed=True)
    else:
        await ctx.reply(
            ctx.t(
                "Zum Bestätigen schreib {confirm}.",
                confirm=_confirm_cmd(ctx, code),
            )
        )


@feature.button("connect")
async def connect_button(ctx: Context, data: str) -> str | None:
    """`connect:<code>`, pressed under the summary: the same as `/connect <code> JA`."""
    if not ctx.chat.is_direct:
        return None
    await _redeem(ctx, data.partition(":")[2], confirmed=True)
    return None


def _confirm_cmd(ctx: Context, text: str) -> Rich:
    return code(ctx.cmd(f"connect {text} JA"))


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
    prefix = others[0].command_prefix if others else "/"
    await ctx.reply(
        ctx.t(
            "Dein Code: {code}\nSchreib mir im privaten Chat auf dem anderen Netzwerk {cmd}. "
            "Der Code gilt 10 Minuten und nur einmal. Gib ihn niemandem weiter.",
            code=code(text),
            cmd=code(f"{prefix}connect {text}"),
        )
    )


@dataclass(frozen=True)
class Side:
    """One side of a link as the person who types the code is shown it."""

    account: AccountRef
    ags: list[tuple[str, str]]  # (AG slug, role)
    card: bool


async def _side(session: AsyncSession, account: Account) -> Side:
    card = Base.metadata.tables.get("card")
    has_card = card is not None and (
        await session.scalar(select(card.c.person_id).where(card.c.person_id == account.person_id))
        is not None
    )
    ags = [(ag.slug, role) for ag, role in await repo.memberships_of(session, account.person_id)]
    return Side(account_ref(account), ags, has_card)


async def _redeem(ctx: Context, text: str, *, confirmed: bool) -> None:
    person_id = await ctx.ensure_person()
    sender, services = ctx.sender, ctx.services
    digest = await code_hash(services.settings, text)
    now = services.now()

    keys = await voter_keys(services.settings)

    async def link(session: AsyncSession) -> tuple[Outcome, int, tuple[Side, Side] | None]:
        mine = await repo.find_account(session, sender.platform, sender.id)
        assert mine is not None
        since = now - MISS_WINDOW
        if await people_repo.count_misses(session, mine.id, since) >= MISSES_ALLOWED:
            return Outcome.TOO_MANY, person_id, None
        found = await people_repo.find_code(session, digest)
        if found is None:
            await people_repo.add_miss(session, mine.id, now, since)
            return Outcome.UNKNOWN, person_id, None
        if found.used or found.claimed_by not in (None, mine.id):
            return Outcome.USED, person_id, None
        if found.expires_at <= now:
            return Outcome.EXPIRED, person_id, None
        owner = await session.get(Account, found.account_id)
        assert owner is not None
        if owner.platform == sender.platform:
            return Outcome.SAME_NETWORK, person_id, None
        if owner.person_id == person_id:
            return Outcome.ALREADY, person_id, None
        keep = owner.person_id
        theirs = {a.platform for a in await repo.accounts_of(session, keep)}
        mine_ = {a.platform for a in await repo.accounts_of(session, person_id)}
        if theirs & mine_:
            return Outcome.NETWORK_TAKEN, person_id, None
        sides = (await _side(session, owner), await _side(session, mine))
        if not confirmed or found.claimed_by != mine.id:
            # Shown what a link would do: from now on only this account may confirm,
            # for 10 minutes from the first time it was shown.
            if found.claimed_by is None:
                found.claimed_by = mine.id
                found.expires_at = now + CODE_VALID
            return Outcome.ASK, person_id, sides
        found.used = True
        await session.flush()
        await people_repo.merge(session, keep, person_id, keys)
        return Outcome.LINKED, keep, sides

    outcome, now_person, sides = await ctx.db.run(link)
    if outcome is Outcome.ASK and sides is not None:
        yes = Button(ctx.lang.gettext("Ja, verbinden"), f"connect:{normalise(text)}", "✅")
        await ctx.reply_with_buttons(_summary(ctx, text, *sides), (yes,))
        return
    if outcome is Outcome.LINKED and sides is not None:
        log.info("person %d merged into person %d", person_id, now_person)
        ctx.person_id = now_person
        await ctx.reply(
            ctx.t(
                "Verbunden mit {other}! Deine Konten gehören jetzt zu einer Person: AGs, Rollen, "
                "Stimmen, Zusagen und Erinnerungen gelten auf beiden Netzwerken. {my} zeigt "
                "deine AGs, {disconnect} trennt die Verbindung wieder.",
                other=_name(sides[0].account),
                my=code(ctx.cmd("my")),
                disconnect=code(ctx.cmd("disconnect")),
            )
        )
        await _tell(ctx, sides[0].account, now_person, _linked)
        return
    await ctx.reply(_refusal(ctx, outcome))


def _name(account: AccountRef) -> str:
    """Display name, the handle nobody else can have (a display name can be copied),
    and the network: `Anna Berg (@anna_b, Telegram)`."""
    name = account.display_name or account.username or account.external_id
    network = network_name(account.platform)
    handle = account.username
    if not handle or handle == name:
        return f"{name} ({network})"
    return f"{name} ({'' if handle.startswith('@') else '@'}{handle}, {network})"


def _brings(ctx: Context, side: Side) -> Rich:
    ags = ", ".join(f"{slug} ({role_label(ctx, role)})" for slug, role in side.ags)
    return ctx.t(
        "AGs: {ags}; Visitenkarte: {card}",
        ags=ags or ctx.t("keine"),
        card=ctx.t("ja") if side.card else ctx.t("nein"),
    )


def _summary(ctx: Context, text: str, other: Side, mine: Side) -> Rich:
    return lines(
        bold(ctx.t("Willst du dieses Konto mit {other} verbinden?", other=_name(other.account))),
        ctx.t(
            "• {other} bringt mit: {brings}", other=_name(other.account), brings=_brings(ctx, other)
        ),
        ctx.t("• Dieses Konto bringt mit: {brings}", brings=_brings(ctx, mine)),
        ctx.t(
            "Danach seid ihr eine Person: {other} bekommt alle deine AGs und Rollen (auch "
            "Leitungen), deine Visitenkarte, Stimmen und Zusagen, kann sie ändern und mit "
            "{forget} alles löschen. Bestätige nur, wenn beide Konten dir gehören.",
            other=_name(other.account),
            forget=code(ctx.cmd("forget")),
        ),
        ctx.t(
            "Bestätige innerhalb von 10 Minuten mit {confirm}.",
            confirm=_confirm_cmd(ctx, text),
        ),
    )


def _linked(lang: Lang, other: str, prefix: str) -> Rich:
    return lang.t(
        "{other} ist jetzt mit dir verbunden: AGs, Rollen, Stimmen und Visitenkarte "
        "gehören jetzt zu einer Person. Warst du das nicht, trenne die Verbindung mit "
        "{disconnect}.",
        other=other,
        disconnect=code(f"{prefix}disconnect"),
    )


def _unlinked(lang: Lang, other: str, prefix: str) -> Rich:
    return lang.t(
        "{other} ist nicht mehr mit dir verbunden und hat die AGs, Rollen und die "
        "Visitenkarte mitgenommen, die es mitgebracht hatte.",
        other=other,
    )


async def _tell(
    ctx: Context,
    account: AccountRef,
    person_id: int,
    compose: Callable[[Lang, str, str], Rich],
) -> None:
    """Tell another account of the person what this account just did, privately on its
    own network, in the person's language."""
    services = ctx.services
    if account.platform not in services.transports:
        return
    async with ctx.db.read() as session:
        person = await session.get(Person, person_id)
    audience = Audience.of_account(account, person.language if person else None)
    name = _name(ctx.sender.as_account())
    try:
        await services.outbox.send(
            audience, lambda reader: compose(reader.lang, name, reader.prefix)
        )
    except Exception:
        log.warning("could not tell the other account on %s about a link", account.platform)


def _refusal(ctx: Context, outcome: Outcome) -> Rich:
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
        Outcome.TOO_MANY: ctx.t(
            "Zu viele falsche Codes. Versuch es in einer Stunde wieder, mit einem neuen Code."
        ),
        Outcome.NETWORK_TAKEN: ctx.t(
            "Eines der Konten ist schon mit einem Konto auf demselben Netzwerk verbunden. "
            "Trenne es zuerst mit {disconnect}.",
            disconnect=code(ctx.cmd("disconnect")),
        ),
    }
    return messages[outcome]


@feature.command(
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

    async def split(session: AsyncSession) -> tuple[int, list[AccountRef]] | None:
        if await people_repo.count_accounts(session, person_id) < 2:
            return None
        account = await repo.find_account(session, sender.platform, sender.id)
        assert account is not None
        others = [account_ref(a) for a in await repo.accounts_of(session, person_id)]
        new = await people_repo.split_off(session, account.id, keys)
        return new, [a for a in others if a.platform != sender.platform]

    done = await ctx.db.run(split)
    if done is None:
        await ctx.reply(ctx.t("Dein Konto ist mit keinem anderen verbunden."))
        return
    new_person, others = done
    log.info("account split off person %d into person %d", person_id, new_person)
    ctx.person_id = new_person
    await ctx.reply(
        ctx.t(
            "Getrennt. Dieses Konto steht jetzt für sich allein, mit den AGs, Rollen und der "
            "Visitenkarte, die es mitgebracht hat. Stimmen, Zusagen und Erinnerungen bleiben "
            "beim anderen Konto; hier kannst du mit {join} beitreten oder dich mit {connect} "
            "wieder verbinden.",
            join=code(ctx.cmd("join <AG>")),
            connect=code(ctx.cmd("connect")),
        )
    )
    for other in others:
        await _tell(ctx, other, person_id, _unlinked)
