"""Who comes: /rsvp and the answer buttons under announcements and reminders, and
/attendance for the lead (sent privately from a group: it is a list of names)."""

from __future__ import annotations

from bot import commands as c
from bot import rights
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import Rich, bold, code, join, lines, text
from bot.when_text import format_full, format_short
from handlers.meeting_common import load_occurrence, local, short_id
from handlers.meeting_text import ANSWER_WORDS, ANSWERS, EMOJI, answer_words, meeting_title
from handlers.people import person_label
from storage import meetings_repo as mrepo
from storage import repo
from storage.meeting_models import MeetingStatus

feature = c.Feature("attendance")


async def _answer(ctx: Context, view: mrepo.OccurrenceView, answer: str) -> None:
    """Store the answer, after checking the person follows the AG (a member, or in one of
    its chats) and the meeting is still ahead."""
    await rights.require_follows(ctx, view.ag)
    if view.cancelled or view.meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx.t("{id} ist abgesagt.", id=code(short_id(view.id))))
    if view.start <= ctx.services.now():
        raise UserError(
            ctx.t("{id} hat schon begonnen oder ist vorbei.", id=code(short_id(view.id)))
        )
    person_id = await ctx.ensure_person()
    await ctx.db.run(lambda s: mrepo.set_rsvp(s, view.id, person_id, answer))


@feature.command(
    "rsvp",
    help=N_("Zu einem Treffen zusagen, absagen oder „vielleicht“ sagen"),
    params=(c.word("id", N_("Kennung")), c.word("answer", N_("ja|nein|vielleicht"))),
    needs_person=True,
    examples=("rsvp m12 ja", "rsvp m12 vielleicht"),
    aliases=("zusage",),
)
async def rsvp(ctx: Context, id: str, answer: str) -> None:
    view = await load_occurrence(ctx, id)
    chosen = ANSWER_WORDS.get(answer.lower().strip("!.,"))
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


@feature.button("rsvp")
async def rsvp_button(ctx: Context, data: str) -> str | None:
    """`rsvp:<occurrence id>:yes|no|maybe`, pressed under an announcement or reminder."""
    _prefix, _, rest = data.partition(":")
    raw_id, _, answer = rest.partition(":")
    if answer not in ANSWERS:
        return None
    view = await load_occurrence(ctx, raw_id)
    await _answer(ctx, view, answer)
    title = meeting_title(ctx.lang, view.title)
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
    params=(c.word("id", N_("Kennung")),),
    right=c.Right.LEAD,
    examples=("attendance m12",),
    aliases=("teilnahme",),
)
async def attendance(ctx: Context, id: str) -> None:
    view = await load_occurrence(ctx, id)
    await rights.require(ctx, c.Right.LEAD, view.ag)
    async with ctx.db.read() as session:
        answers = await mrepo.rsvps(session, view.id)
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
