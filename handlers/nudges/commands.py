"""`/erinnern k3f7` (`/nudge`): the nudge by hand, for a poll or a Terminumfrage, now;
`/ag nudge ag2 12h` sets how long before a deadline the automatic nudge comes.

Who may nudge by hand: the AG's leads, admins, and whoever started the poll while they
are still a member of its AG (rights come from the role now, bot/commands/rights.py).
`/erinnern` was once an alias of `/remind`; `/erinnern an|aus` still says where that went.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot import commands as c
from bot.commands import rights
from bot.context import Context, UserError
from bot.i18n import N_, Lang
from bot.rich import Rich, code, lines
from bot.when import WhenError, parse_offsets
from handlers.meetings.text import offsets_text
from handlers.nudges import schedule, subjects
from storage.models import Ag
from storage.notices import subjects as subject_rows
from storage.notices.models import NoticeStatus

feature = c.Feature("nudge")

_SWITCH = {"on", "an", "ein", "off", "aus"}
_OFF = {"aus", "off", "0", "nie", "never"}
_DEFAULT = {"standard", "default"}


@dataclass(frozen=True)
class Named:
    """A poll or Terminumfrage named by its id, with its AG (for the rights check)."""

    kind: str
    id: int
    short_id: str
    ag: Ag
    created_by: int | None


async def _named(ctx: Context, raw: str) -> Named:
    typed = raw.strip()
    if typed.lower() in _SWITCH:
        raise UserError(
            ctx.t(
                "Private Erinnerungen schaltest du mit {remind} an oder aus. {nudge} erinnert an eine Umfrage, z. B. {example}.",
                remind=code(ctx.cmd(f"remind {typed.lower()}")),
                nudge=code(ctx.cmd("erinnern")),
                example=code(ctx.cmd("erinnern k3f7")),
            )
        )
    found = await subjects.find(ctx.services, typed)
    subject = await subjects.load(ctx.services, *found) if found else None
    if subject is None:
        raise UserError(
            ctx.t(
                "Eine Umfrage oder Terminumfrage {id} kenne ich nicht. Die offenen zeigt {polls}.",
                id=code(typed[:20]),
                polls=code(ctx.cmd("polls")),
            )
        )
    return Named(subject.kind, subject.id, subject.short_id, subject.ag, subject.created_by)


async def _scope(ctx: Context, args: Mapping[str, Any]) -> Any:
    """The AG's leads and admins; the poll's creator while a member of the AG."""
    named: Named = args["poll"]
    creator = ctx.person_id is not None and ctx.person_id == named.created_by
    if creator and await ctx.role_in(named.ag.id) is not None:
        return rights.OPEN
    return named.ag


@feature.command(
    "nudge",
    help=N_("Wer noch nicht geantwortet hat, privat erinnern (Umfrage oder Terminumfrage)"),
    params=(c.word("poll", N_("Umfrage"), convert=_named),),
    right=c.Right.LEAD,
    scope=_scope,
    examples=("nudge k3f7",),
    aliases=("erinnern",),
)
async def nudge(ctx: Context, poll: Named) -> None:
    subject = await subjects.load(ctx.services, poll.kind, poll.id)
    if subject is None:
        raise UserError(
            ctx.t("Eine Umfrage oder Terminumfrage {id} kenne ich nicht.", id=poll.short_id)
        )
    if not subjects.takes_answers(subject, ctx.services.now()):
        raise UserError(
            ctx.t(
                "{id} nimmt keine Antworten mehr an; erinnern lohnt nicht.", id=code(poll.short_id)
            )
        )
    if subject.answered is None:
        raise UserError(
            ctx.t(
                "Bei dieser anonymen Umfrage sieht niemand, wer schon abgestimmt hat, auch ich nicht. Darum erinnere ich niemanden einzeln."
            )
        )
    targets = await subjects.targets(ctx.services, subject)
    if not targets.nudge and not targets.silent_without_dm:
        await ctx.reply(
            ctx.t("Alle Mitglieder der AG {ag} haben schon geantwortet.", ag=poll.ag.name)
        )
        return
    statuses = await schedule.nudge(ctx.services, subject)
    await ctx.reply(_report(ctx, statuses, len(targets.nudge), targets.silent_without_dm))


def _report(ctx: Context, statuses: list[NoticeStatus], wanted: int, without_dm: int) -> Rich:
    sent = statuses.count(NoticeStatus.SENT)
    failed = statuses.count(NoticeStatus.FAILED) + statuses.count(NoticeStatus.SENDING)
    before = wanted - len(statuses)
    rows: list[Rich] = [
        ctx.tn(
            "{n} Person habe ich privat erinnert.", "{n} Personen habe ich privat erinnert.", sent
        )
    ]
    if failed:
        rows.append(
            ctx.tn(
                "{n} Person ist privat nicht erreichbar (hat den privaten Chat mit mir nie geöffnet).",
                "{n} Personen sind privat nicht erreichbar (haben den privaten Chat mit mir nie geöffnet).",
                failed,
            )
        )
    if before:
        rows.append(
            ctx.tn(
                "{n} Person war schon vorher erinnert worden.",
                "{n} Personen waren schon vorher erinnert worden.",
                before,
            )
        )
    if without_dm:
        rows.append(
            ctx.tn(
                "{n} Person ohne Antwort bekommt keine privaten Nachrichten ({remind}).",
                "{n} Personen ohne Antwort bekommen keine privaten Nachrichten ({remind}).",
                without_dm,
                remind=code(ctx.cmd("remind on")),
            )
        )
    return lines(*rows)


# --- /ag nudge ---------------------------------------------------------------------------


def setting_text(lang: Lang, minutes: int | None) -> Rich:
    """How an AG's nudge setting reads (also in `/ag info`)."""
    if minutes == 0:
        return lang.t("aus")
    interval = offsets_text(lang, [timedelta(minutes=subjects.nudge_minutes(minutes))])
    if minutes is None:
        return lang.t("{interval} vor der Frist (Standard)", interval=interval)
    return lang.t("{interval} vor der Frist", interval=interval)


@feature.command(
    "ag nudge",
    help=N_("Wie lange vor einer Frist an Umfragen erinnert wird (oder aus)"),
    params=(c.ag(), c.text("when", N_("Dauer|aus|standard"), optional=True)),
    right=c.Right.LEAD,
    examples=("ag nudge ag2 12h", N_("ag nudge ag2 aus")),
)
async def ag_nudge(ctx: Context, ag: Ag, when: str | None) -> None:
    if when is None:
        await ctx.reply(_setting(ctx, ag.name, ag.nudge_minutes))
        return
    word = when.strip().lower()
    minutes: int | None
    if word in _OFF:
        minutes = 0
    elif word in _DEFAULT:
        minutes = None
    else:
        try:
            found = parse_offsets(when.split())
        except WhenError as exc:
            raise UserError(exc.message(ctx.lang)) from None
        if len(found) != 1:
            raise UserError(
                ctx.t(
                    "Bitte nur eine Dauer, z. B. {example}.",
                    example=code(ctx.cmd(f"ag nudge {ag.slug} 12h")),
                )
            )
        minutes = int(found[0].total_seconds() // 60)
    await ctx.db.run(lambda s: subject_rows.set_nudge_minutes(s, ag.id, minutes))
    await schedule.plan_ag(ctx.services, ag.id)
    await ctx.reply(_setting(ctx, ag.name, minutes))


def _setting(ctx: Context, name: str, minutes: int | None) -> Rich:
    if minutes == 0:
        return ctx.t(
            "Automatische Erinnerungen vor Fristen in der AG {ag}: aus. Von Hand geht es weiter mit {nudge}.",
            ag=name,
            nudge=code(ctx.cmd("erinnern <id>")),
        )
    return ctx.t(
        "Wer in der AG {ag} noch nicht geantwortet hat und private Nachrichten bekommt, wird {setting} erinnert.",
        ag=name,
        setting=setting_text(ctx.lang, minutes),
    )
