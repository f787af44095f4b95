"""Who comes: /rsvp and the answer buttons under announcements and reminders, and
/attendance for the lead (sent privately from a group: it is a list of names)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import commands as c
from bot.commands import rights
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines, text
from bot.text_cut import cut
from bot.when_text import format_full, format_short
from handlers.meetings.service import MeetingRef, load_occurrence, meeting_ag, meeting_ref
from handlers.meetings.text import (
    ANSWER_WORDS,
    ANSWERS,
    EMOJI,
    answer_words,
    local,
    meeting_title,
    short_id,
)
from handlers.people import person_label
from storage import repo
from storage.meetings import rsvps
from storage.meetings.models import MeetingStatus
from storage.meetings.occurrences import OccurrenceView

feature = c.Feature("attendance")


async def _answer(ctx: Context, view: OccurrenceView, answer: str) -> None:
    """Store the answer if the meeting is still ahead (dispatch checked that the person
    follows the AG: a member, or in one of its chats)."""
    if view.cancelled or view.meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx.t("{id} ist abgesagt.", id=code(short_id(view.id))))
    if view.start <= ctx.services.now():
        raise UserError(
            ctx.t("{id} hat schon begonnen oder ist vorbei.", id=code(short_id(view.id)))
        )
    person_id = await ctx.ensure_person()
    await ctx.db.run(lambda s: rsvps.set_rsvp(s, view.id, person_id, answer))


def _chosen(answer: str) -> str | None:
    return ANSWER_WORDS.get(answer.lower().strip("!.,"))


async def _rsvp_scope(ctx: Context, args: Mapping[str, Any]) -> Any:
    """The meeting's AG; an answer that is no answer needs no right (it gets the hint)."""
    ref: MeetingRef = args["id"]
    view = await ref.load(ctx)
    return view.ag if _chosen(args["answer"]) is not None else rights.OPEN


def _pressed(data: str) -> tuple[str, str | None]:
    """`rsvp:<occurrence id>:yes|no|maybe` -> (the id, the answer if it is one)."""
    _prefix, _, rest = data.partition(":")
    raw_id, _, answer = rest.partition(":")
    return raw_id, answer if answer in ANSWERS else None


async def _button_scope(ctx: Context, args: Mapping[str, Any]) -> Any:
    """The meeting's AG; a button that is no answer does nothing and needs no right."""
    raw_id, answer = _pressed(args["data"])
    if answer is None:
        return rights.OPEN
    return (await load_occurrence(ctx, raw_id)).ag


@feature.command(
    "rsvp",
    help=N_("Zu einem Treffen zusagen, absagen oder „vielleicht“ sagen"),
    params=(
        c.word("id", N_("Kennung"), convert=meeting_ref),
        c.word("answer", N_("ja|nein|vielleicht")),
    ),
    right=c.Right.FOLLOWER,
    scope=_rsvp_scope,
    needs_person=True,
    examples=(N_("rsvp m12 ja"), N_("rsvp m12 vielleicht")),
    aliases=("zusage",),
)
async def rsvp(ctx: Context, id: MeetingRef, answer: str) -> None:
    view = await id.load(ctx)
    chosen = _chosen(answer)
    if chosen is None:
        yes, no, maybe = answer_words(ctx.lang)
        raise UserError(
            ctx.t(
                "Antworte mit {yes}, {no} oder {maybe}.",
                yes=code(yes),
                no=code(no),
                maybe=code(maybe),
            )
        )
    await _answer(ctx, view, chosen)
    title = bold(meeting_title(ctx.lang, view.title))
    when = format_full(local(view), ctx.lang.code)
    if chosen == "yes":
        message = ctx.t("Schön, dass du kommst: {title}, {when}.", title=title, when=when)
    elif chosen == "no":
        message = ctx.t(
            "Schade! Ich habe eingetragen, dass du nicht kommst: {title}, {when}.",
            title=title,
            when=when,
        )
    else:
        message = ctx.t(
            "Ich habe dich mit „vielleicht“ eingetragen: {title}, {when}.", title=title, when=when
        )
    await ctx.reply(EMOJI[chosen] + " " + message)


@feature.button("rsvp", right=c.Right.FOLLOWER, scope=_button_scope)
async def rsvp_button(ctx: Context, data: str) -> str | None:
    """`rsvp:<occurrence id>:yes|no|maybe`, pressed under an announcement or reminder."""
    raw_id, answer = _pressed(data)
    if answer is None:
        return None
    view = await load_occurrence(ctx, raw_id)
    await _answer(ctx, view, answer)
    title = cut(meeting_title(ctx.lang, view.title), 120)  # a toast holds 200 characters
    when = format_short(local(view), ctx.lang.code)
    if answer == "yes":
        toast = ctx.t("Eingetragen: Du kommst zu „{title}“ ({when}).", title=title, when=when)
    elif answer == "no":
        toast = ctx.t("Eingetragen: Du kommst nicht zu „{title}“ ({when}).", title=title, when=when)
    else:
        toast = ctx.t("Eingetragen: vielleicht zu „{title}“ ({when}).", title=title, when=when)
    return f"{EMOJI[answer]} {toast.plain}"[:190]


@feature.command(
    "attendance",
    help=N_("Wer zu einem Treffen kommt (für die Leitung)"),
    params=(c.word("id", N_("Kennung"), convert=meeting_ref),),
    right=c.Right.LEAD,
    scope=meeting_ag,
    examples=("attendance m12",),
    aliases=("teilnahme",),
)
async def attendance(ctx: Context, id: MeetingRef) -> None:
    view = await id.load(ctx)
    async with ctx.db.read() as session:
        answers = await rsvps.rsvps(session, view.id)
        members = await repo.members_of(session, view.ag.id)
    answered = {accounts[0].person_id for group in answers.values() for accounts in group}
    silent = sum(1 for m in members if m.person_id not in answered)
    rows: list[Rich] = [
        bold(meeting_title(ctx.lang, view.title))
        + f" ({short_id(view.id)}), "
        + format_full(local(view), ctx.lang.code)
    ]
    labels = {
        "yes": ctx.lang.gettext("Dabei"),
        "maybe": ctx.lang.gettext("Vielleicht"),
        "no": ctx.lang.gettext("Abgesagt"),
    }
    for answer in ANSWERS:
        people = answers.get(answer, [])
        names = join([person_label(accounts) for accounts in people], ", ") if people else text("–")
        rows.append(f"{EMOJI[answer]} {labels[answer]} ({len(people)}): " + names)
    rows.append(
        ctx.tn("Noch keine Antwort: {n} Mitglied", "Noch keine Antwort: {n} Mitglieder", silent)
    )
    # A list of names: in a group it goes to the lead privately.
    await ctx.reply_private(lines(*rows))
