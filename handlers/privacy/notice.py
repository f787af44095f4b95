"""The operator's part of `/privacy`: who is responsible, how to reach them, how long
data is kept, and the reader's rights with the commands that exercise them. The facts come
from the `[privacy]` settings (docs/configuration.md); what is not filled in is said so,
never invented."""

from __future__ import annotations

from bot.context import Context
from bot.rich import Rich, code


def responsible(ctx: Context) -> list[Rich]:
    """Controller, address and contact, each as configured or marked as missing."""
    settings = ctx.services.settings.privacy
    if settings.empty:
        return [
            ctx.t(
                "Wer für diese Daten verantwortlich ist, wie du ihn erreichst und wie lange "
                "sie gespeichert bleiben, hat der Betreiber dieses Bots noch nicht eingetragen."
            )
        ]
    missing = ctx.t("noch nicht eingetragen")
    return [
        ctx.t("Verantwortlich: {controller}", controller=settings.controller or missing),
        ctx.t("Anschrift: {address}", address=settings.address or missing),
        ctx.t("Kontakt für Datenschutzfragen: {email}", email=settings.email or missing),
    ]


def retention(ctx: Context) -> list[Rich]:
    settings = ctx.services.settings.privacy
    if settings.empty:
        return []
    text = settings.retention or ctx.t("noch nicht eingetragen")
    return [ctx.t("Speicherdauer: {retention}", retention=text)]


def rights(ctx: Context) -> list[Rich]:
    """The rights of Art. 15-21 GDPR in short, each with how to use it here."""
    authority = ctx.services.settings.privacy.authority
    complaint = (
        ctx.t(
            "Beschweren kannst du dich bei einer Datenschutz-Aufsichtsbehörde, z. B. {authority}.",
            authority=authority,
        )
        if authority
        else ctx.t("Beschweren kannst du dich bei einer Datenschutz-Aufsichtsbehörde.")
    )
    return [
        ctx.t(
            "Deine Rechte: Auskunft – {mydata} schickt dir alles, was ich über dich weiß, "
            "als Datei. Löschung – {forget} löscht alles; deine Stimmen in laufenden Umfragen "
            "ziehe ich dann zurück, bei beendeten zählen sie weiter, aber ohne deinen Namen. "
            "Berichtigung – deine Visitenkarte änderst du mit {card}, deine AGs mit {leave}. "
            "Einschränkung und Widerspruch beim Verantwortlichen.",
            mydata=code(ctx.cmd("mydata")),
            forget=code(ctx.cmd("forget")),
            card=code(ctx.cmd("card")),
            leave=code(ctx.cmd("leave")),
        ),
        complaint,
    ]
