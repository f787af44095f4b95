"""How polls, times and networks are named in replies, and which language and command
prefix a chat reads."""

from __future__ import annotations

from datetime import datetime

from bot.context import Context, Services
from bot.core import ChatRef
from bot.i18n import Lang
from bot.rich import Rich, bold, code, lines
from bot.when_text import format_full, format_short
from storage.polls.view import PollView

NETWORK_NAMES = {"telegram": "Telegram", "matrix": "Matrix", "console": "Konsole"}


def network_name(platform: str | None) -> str:
    if platform is None:
        return "?"
    return NETWORK_NAMES.get(platform, platform.capitalize())


def poll_title(view: PollView) -> Rich:
    """The question and the id to type; the standing survey polls are answered through
    `/survey run` and named by their question's number, so their id is left out."""
    if view.poll.standing_key is not None:
        return bold(view.poll.question)
    return bold(view.poll.question) + " (" + code(view.short_id) + ")"


def deadline_full(services: Services, when: datetime, lang: Lang) -> str:
    return format_full(when.astimezone(services.settings.tz), lang.code)


def deadline_short(services: Services, when: datetime, lang: Lang) -> str:
    return format_short(when.astimezone(services.settings.tz), lang.code)


def chat_lang(services: Services, chat: ChatRef) -> Lang:
    """The language for a whole chat (a group's members may read several; config decides)."""
    return services.translator.for_language(services.outbox.chat_language(chat))


def prefix_of(services: Services, platform: str) -> str:
    transport = services.transports.get(platform)
    return transport.command_prefix if transport is not None else "/"


def _chat_name(chat: ChatRef) -> str:
    return f"{chat.title or chat.id} ({network_name(chat.platform)})"


def launch_report(
    ctx: Context, view: PollView, posted: list[ChatRef], failed: list[ChatRef]
) -> Rich:
    rows: list[Rich | str] = []
    if posted:
        rows.append(
            ctx.tn(
                "Umfrage {id} läuft in {n} Chat: {chats}.",
                "Umfrage {id} läuft in {n} Chats: {chats}.",
                len(posted),
                id=code(view.short_id),
                chats=", ".join(_chat_name(chat) for chat in posted),
            )
        )
    else:
        rows.append(
            ctx.t(
                "Umfrage {id} läuft, aber die AG hat keinen verbundenen Chat. Mitglieder stimmen mit {vote} ab.",
                id=code(view.short_id),
                vote=code(ctx.cmd(f"vote {view.short_id} 1")),
            )
        )
    for chat in failed:
        rows.append(ctx.t("In {chat} konnte ich sie nicht posten.", chat=_chat_name(chat)))
    rows.append(
        ctx.t(
            "Ergebnis: {results} · Beenden: {close}",
            results=code(ctx.cmd(f"results {view.short_id}")),
            close=code(ctx.cmd(f"close {view.short_id}")),
        )
    )
    return lines(*rows)
