"""What the private notices say, in the reader's language and with the commands as typed
on the reader's network: the nudge (with the options, so the answer can be given right
there), "everyone has answered" and "the deadline passed" (Terminumfragen)."""

from __future__ import annotations

from collections.abc import Callable

from bot.context import Services
from bot.i18n import Lang
from bot.outbox import Reader
from bot.rich import Rich, bold, code, lines
from handlers.datepoll.render import ANSWER_EXAMPLE, best_first, counts, option_text
from handlers.nudges.subjects import DATEPOLL, SubjectRow
from handlers.polls.render import deadline_full
from handlers.polls.views import view_by_id
from storage.datepoll import polls as datepolls
from storage.datepoll.models import DatePoll
from storage.datepoll.polls import DatePollView
from storage.notices.models import NoticeKind

Compose = Callable[[Reader], Rich]


async def _datepoll_view(services: Services, poll_id: int) -> DatePollView | None:
    async with services.db.read() as session:
        poll = await session.get(DatePoll, poll_id)
        return None if poll is None else await datepolls.view(session, poll)


def _when(services: Services, subject: SubjectRow, lang: Lang) -> str | None:
    return None if subject.closes_at is None else deadline_full(services, subject.closes_at, lang)


async def compose(services: Services, kind: str, subject: SubjectRow) -> Compose | None:
    """The text of a notice of `kind` about `subject` (None: it is gone)."""
    if subject.kind == DATEPOLL:
        view = await _datepoll_view(services, subject.id)
        if view is None:
            return None
        if kind == NoticeKind.NUDGE:
            return lambda r: _datepoll_nudge(services, r, subject, view)
        if kind == NoticeKind.CLOSED:
            return lambda r: _datepoll_closed(r, subject, view)
        return lambda r: _datepoll_all(r, subject, view)
    poll = await view_by_id(services, subject.id)
    if poll is None:
        return None
    if kind == NoticeKind.NUDGE:
        options, anonymous = poll.options, poll.poll.anonymous
        return lambda r: _poll_nudge(services, r, subject, options, anonymous)
    return lambda r: _poll_all(r, subject)


def _opening(services: Services, r: Reader, subject: SubjectRow, what: Rich) -> Rich:
    when = _when(services, subject, r.lang)
    if when is None:
        return r.t(
            "🔔 {what} der AG {ag} wartet noch auf deine Antwort:", what=what, ag=subject.ag.name
        )
    return r.t(
        "🔔 {what} der AG {ag} läuft bis {when}, und deine Antwort fehlt noch:",
        what=what,
        ag=subject.ag.name,
        when=when,
    )


def _poll_nudge(
    services: Services, r: Reader, subject: SubjectRow, options: list[str], anonymous: bool
) -> Rich:
    what = r.t("Die Umfrage {id}", id=code(subject.short_id))
    rows: list[Rich | str] = [_opening(services, r, subject, what), bold(subject.title)]
    rows += [f"{i}. {option}" for i, option in enumerate(options, 1)]
    rows.append(
        r.t(
            "Abstimmen: {vote} (Nummer der Antwort), hier oder im Chat der AG.",
            vote=code(r.cmd(f"vote {subject.short_id} 1")),
        )
    )
    if anonymous:
        rows.append(r.t("Anonym: niemand erfährt, wer wie abgestimmt hat."))
    return lines(*rows)


def _datepoll_nudge(services: Services, r: Reader, subject: SubjectRow, view: DatePollView) -> Rich:
    what = r.t("Die Terminumfrage {id}", id=code(subject.short_id))
    rows: list[Rich | str] = [_opening(services, r, subject, what), bold(subject.title)]
    rows += [f"{o.position + 1}. {option_text(view, o, r.lang)}" for o in view.options]
    example = r.lang.gettext(ANSWER_EXAMPLE)
    rows.append(
        r.t(
            "Antworten: {command} (ja, wenn nötig oder nein je Termin)",
            command=code(r.cmd(f"termin {subject.short_id} {example}")),
        )
    )
    return lines(*rows)


def _poll_all(r: Reader, subject: SubjectRow) -> Rich:
    return lines(
        r.t(
            "✅ Alle {n} Mitglieder der AG {ag} haben bei der Umfrage {id} abgestimmt: {title}",
            n=len(subject.members),
            ag=subject.ag.name,
            id=code(subject.short_id),
            title=bold(subject.title),
        ),
        r.t(
            "Ergebnis: {results} · Beenden: {close}",
            results=code(r.cmd(f"results {subject.short_id}")),
            close=code(r.cmd(f"close {subject.short_id}")),
        ),
    )


def _best(r: Reader, view: DatePollView) -> Rich | None:
    best = best_first(view)[0] if view.options else None
    if best is None:
        return None
    c = counts(view, best.position)
    if c["yes"] + c["maybe"] == 0:
        return None
    return r.t(
        "Bester Termin: {n}. {date} (ja {yes} · wenn nötig {maybe} · nein {no})",
        n=best.position + 1,
        date=bold(option_text(view, best, r.lang)),
        yes=c["yes"],
        maybe=c["maybe"],
        no=c["no"],
    )


def _pick_line(r: Reader, subject: SubjectRow, view: DatePollView) -> Rich:
    best = best_first(view)[0].position + 1 if view.options else 1
    return r.t("Festlegen: {command}", command=code(r.cmd(f"festlegen {subject.short_id} {best}")))


def _datepoll_all(r: Reader, subject: SubjectRow, view: DatePollView) -> Rich:
    rows: list[Rich | str | None] = [
        r.t(
            "✅ Alle {n} Mitglieder der AG {ag} haben bei der Terminumfrage {id} geantwortet: {title}",
            n=len(subject.members),
            ag=subject.ag.name,
            id=code(subject.short_id),
            title=bold(subject.title),
        ),
        _best(r, view),
        _pick_line(r, subject, view),
    ]
    return lines(*[row for row in rows if row is not None])


def _datepoll_closed(r: Reader, subject: SubjectRow, view: DatePollView) -> Rich:
    answered = len(view.answered())
    rows: list[Rich | str | None] = [
        r.t(
            "⏰ Die Antwortfrist der Terminumfrage {id} ist vorbei: {title} (AG {ag})",
            id=code(subject.short_id),
            title=bold(subject.title),
            ag=subject.ag.name,
        ),
        r.tn(
            "{n} Person hat geantwortet.",
            "{n} Personen haben geantwortet.",
            answered,
        ),
        _best(r, view) or r.t("Keinem Termin hat jemand zugesagt."),
        _pick_line(r, subject, view),
    ]
    return lines(*[row for row in rows if row is not None])
