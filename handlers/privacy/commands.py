"""Their data under their control: `/privacy` explains, `/mydata` hands it out,
`/forget` deletes it after a confirmation. Logs name a person by internal id, or by a
keyed pseudonym of the account (`bot.logs.pseudonym`), never by the network's id."""

from __future__ import annotations

import logging

from bot import commands as c
from bot.context import Context, UserError
from bot.i18n import N_
from bot.rich import bold, code, lines
from handlers.privacy import notice, service

feature = c.Feature("privacy")
_CANCEL = N_("forget nein")  # own line: the extractor skips N_ nested in a ctx.t call

log = logging.getLogger(__name__)


@feature.command(
    "privacy",
    help=N_("Was ich über dich speichere und warum"),
    aliases=("datenschutz",),
    makes_known=False,
)
async def privacy(ctx: Context) -> None:
    await ctx.reply(
        lines(
            bold(ctx.t("Datenschutz: was ich speichere und warum")),
            *notice.responsible(ctx),
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
                "Dein Konto merke ich mir ab deinem ersten Befehl an mich (außer {privacy}, {mydata} "
                "und {forget}).",
                privacy=code(ctx.cmd("privacy")),
                mydata=code(ctx.cmd("mydata")),
                forget=code(ctx.cmd("forget")),
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
            *notice.retention(ctx),
            *notice.rights(ctx),
        )
    )


@feature.command(
    "mydata",
    help=N_("Alles, was ich über dich gespeichert habe, als Datei"),
    where=c.Where.DIRECT,
    aliases=("meinedaten",),
    makes_known=False,
)
async def mydata(ctx: Context) -> None:
    if ctx.person_id is None:
        await ctx.reply(ctx.t("Ich habe nichts über dich gespeichert."))
        return
    person_id = ctx.person_id
    body = await service.export(ctx, person_id)
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
    params=(c.word("confirm", N_("JA|NEIN|Code"), optional=True),),
    where=c.Where.DIRECT,
    aliases=("vergessen",),
    makes_known=False,
)
async def forget(ctx: Context, confirm: str | None) -> None:
    if ctx.person_id is None:
        await ctx.reply(ctx.t("Ich habe nichts über dich gespeichert."))
        return
    person_id = ctx.person_id
    if confirm is None:
        code_ = await service.ask_forget(ctx, person_id)
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
                    yes=code(ctx.cmd("forget " + ctx.lang.gettext("JA"))),
                    code=code(ctx.cmd(f"forget {code_}")),
                ),
                ctx.t("Abbrechen: {no}", no=code(ctx.cmd(ctx.lang.gettext(_CANCEL)))),
            )
        )
        return
    if confirm.lower().strip(".!") in service.CANCEL_WORDS:  # `/forget Nein!` cancels too
        await service.cancel_forget(ctx, person_id)
        await ctx.reply(ctx.t("Abgebrochen: Ich lösche nichts."))
        return

    orphaned = await service.confirm_forget(ctx, person_id, confirm)
    if orphaned is None:
        raise UserError(
            ctx.t(
                "Das ist keine gültige Bestätigung (oder sie ist älter als 10 Minuten). "
                "Schreib zuerst {forget}.",
                forget=code(ctx.cmd("forget")),
            )
        )
    await ctx.reply(ctx.t("Erledigt: Ich habe alles über dich gelöscht. Mach's gut!"))
    for ag in orphaned:
        await service.tell_no_lead(ctx.services, ag)
