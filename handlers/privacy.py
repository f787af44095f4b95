"""Their data under their control: `/privacy` explains, `/mydata` hands it out,
`/forget` deletes it after a confirmation. Logs name a person by internal id, or by a
keyed pseudonym of the account (`bot.logs.pseudonym`), never by the network's id."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands as c
from bot.context import Context, Services, UserError
from bot.i18n import N_
from bot.outbox import Audience, Reader
from bot.rich import AccountRef, Rich, bold, code, lines
from handlers.poll_secret import voter_keys
from handlers.welcome.service import forget_greetings, welcome_key
from storage import mydata_repo, privacy_repo, repo
from storage.models import Ag

feature = c.Feature("privacy")

log = logging.getLogger(__name__)

FORGET_VALID = timedelta(minutes=10)
CONFIRM_WORDS = {"ja", "yes"}


@feature.command(
    "privacy",
    help=N_("Was ich über dich speichere und warum"),
    aliases=("datenschutz",),
)
async def privacy(ctx: Context) -> None:
    await ctx.reply(
        lines(
            bold(ctx.t("Datenschutz: was ich speichere und warum")),
            ctx.t(
                "• Dein Konto im Netzwerk (Kennung, Anzeigename, Benutzername), damit ich "
                "dich wiedererkenne und dir antworten kann."
            ),
            ctx.t("• Deine AGs und deine Rolle darin, damit du AG-Nachrichten bekommst."),
            ctx.t(
                "• Deine Beitrittsanfragen an AGs „auf Anfrage“, bis die Leitung entschieden hat."
            ),
            ctx.t(
                "• Deine Stimmen bei namentlichen Umfragen, damit jede Person eine Stimme hat. "
                "Bei anonymen Umfragen speichere ich nicht, wer wie abgestimmt hat."
            ),
            ctx.t("• Deine Zu- und Absagen zu Treffen und ob du private Erinnerungen willst."),
            ctx.t("• Deine Visitenkarte, nur mit dem, was du selbst einträgst."),
            ctx.t(
                "• Dass ich dich in einem AG-Chat schon begrüßt habe – nur als Prüfsumme, "
                "damit ich dich nicht zweimal begrüße."
            ),
            ctx.t(
                "Andere Nachrichten in euren Chats speichere ich nicht. Meine Protokolle nennen "
                "dich nur mit einer internen Nummer oder einem Kürzel, das sich ohne meinen "
                "geheimen Schlüssel nicht auf dein Konto zurückführen lässt; was du schreibst, "
                "steht nicht darin."
            ),
            ctx.t(
                "Deine Visitenkarte sehen nur Menschen aus deinen AGs, oder alle Mitglieder "
                "des Bündnisses und die Admins, wenn du das mit {visibility} erlaubst.",
                visibility=code(ctx.cmd("card visibility alliance")),
            ),
            ctx.t(
                "Einer offenen AG kann jede Person mit einem Befehl beitreten. Wer drin ist, "
                "sieht ihre Mitgliederliste, die Visitenkarten ihrer Mitglieder mit den "
                "Kontaktangaben, wer bei ihren Umfragen noch nicht abgestimmt hat und wer zu "
                "ihren Treffen kommt. AGs „auf Anfrage“ nehmen nur auf, wen ihre Leitung annimmt."
            ),
            ctx.t(
                "{mydata} schickt dir alles, was ich über dich weiß. {forget} löscht alles; "
                "deine Stimmen in laufenden Umfragen ziehe ich dann zurück, bei beendeten "
                "zählen sie weiter, aber ohne deinen Namen.",
                mydata=code(ctx.cmd("mydata")),
                forget=code(ctx.cmd("forget")),
            ),
        )
    )


@feature.command(
    "mydata",
    help=N_("Alles, was ich über dich gespeichert habe, als Datei"),
    where=c.Where.DIRECT,
    aliases=("meinedaten",),
)
async def mydata(ctx: Context) -> None:
    if ctx.person_id is None:
        await ctx.reply(ctx.t("Ich habe nichts über dich gespeichert."))
        return
    person_id = ctx.person_id
    async with ctx.db.read() as session:
        accounts = await repo.accounts_of(session, person_id)
    greeted = [await welcome_key(ctx.services, a.platform, a.external_id) for a in accounts]
    async with ctx.db.read() as session:
        data = await mydata_repo.export(session, person_id, greeted)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    caption = ctx.t(
        "Alles, was ich über dich gespeichert habe. Löschen kannst du es mit {forget}.",
        forget=code(ctx.cmd("forget")),
    )
    if ctx.transport.capabilities.files:
        sender = ctx.transport
        await sender.send_file(
            ctx.chat, "meine-daten.json", body.encode(), "application/json", caption
        )
    else:
        await ctx.reply(lines(caption, code(body)))
    log.info("person %d downloaded their data", person_id)


@feature.command(
    "forget",
    help=N_("Alles löschen, was ich über dich gespeichert habe (mit Bestätigung)"),
    params=(c.word("confirm", N_("JA|Code"), optional=True),),
    where=c.Where.DIRECT,
    aliases=("vergessen",),
)
async def forget(ctx: Context, confirm: str | None) -> None:
    if ctx.person_id is None:
        await ctx.reply(ctx.t("Ich habe nichts über dich gespeichert."))
        return
    person_id = ctx.person_id
    now = ctx.services.now()
    if confirm is None:
        code_ = f"{secrets.randbelow(1_000_000):06d}"
        await ctx.db.run(
            lambda s: privacy_repo.set_forget_request(s, person_id, code_, now + FORGET_VALID)
        )
        await ctx.reply(
            lines(
                bold(ctx.t("Wirklich alles löschen?")),
                ctx.t(
                    "Ich lösche dann dich, deine Konten, deine AG-Mitgliedschaften und Rollen, "
                    "deine Visitenkarte, deine Zu- und Absagen und deine Erinnerungs-"
                    "Einstellungen. Deine Stimmen in laufenden Umfragen ziehe ich zurück; bei "
                    "beendeten Umfragen zählen sie weiter, aber ohne deinen Namen. Das lässt "
                    "sich nicht rückgängig machen."
                ),
                ctx.t(
                    "Vorher kannst du dir mit {mydata} alles schicken lassen.",
                    mydata=code(ctx.cmd("mydata")),
                ),
                ctx.t(
                    "Zum Bestätigen schreib innerhalb von 10 Minuten {yes} oder {code}.",
                    yes=code(ctx.cmd("forget JA")),
                    code=code(ctx.cmd(f"forget {code_}")),
                ),
            )
        )
        return

    async def confirmed(session: AsyncSession) -> list[Ag] | None:
        request = await privacy_repo.forget_request(session, person_id)
        if request is None or request.expires_at <= now:
            return None
        if confirm.lower() not in CONFIRM_WORDS and confirm != request.code:
            return None
        await forget_greetings(ctx.services, session, person_id)
        return await privacy_repo.forget(session, person_id, now, keys)

    keys = await voter_keys(ctx.services.settings)
    orphaned = await ctx.db.run(confirmed)
    if orphaned is None:
        raise UserError(
            ctx.t(
                "Das ist keine gültige Bestätigung (oder sie ist älter als 10 Minuten). "
                "Schreib zuerst {forget}.",
                forget=code(ctx.cmd("forget")),
            )
        )
    ctx.person_id = None
    log.info("person %d deleted their data", person_id)
    await ctx.reply(ctx.t("Erledigt: Ich habe alles über dich gelöscht. Mach's gut!"))
    for ag in orphaned:
        await tell_no_lead(ctx.services, ag)


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
