"""One person on two networks: `/connect` gives a one-time code in a private chat;
`/connect CODE` in a private chat on the other network shows which account it belongs to
and what each side brings, and `/connect CODE JA` links both accounts to one person
(merging what each already had, see storage/connect/merge.py) and tells the other account.
Nothing is linked without that confirmation. `/disconnect` undoes it, giving each account
back what it brought (storage/connect/shares.py)."""

from __future__ import annotations

from bot import commands as c
from bot.context import Context
from bot.core import Button
from bot.i18n import N_
from handlers.connect import render, service
from storage.connect.link import Outcome
from storage.privacy.forget import CONFIRM_WORDS

feature = c.Feature("connect")


@feature.command(
    "connect",
    help=N_("Dein Konto mit deinem Konto auf dem anderen Netzwerk verbinden"),
    params=(
        c.word("code", N_("Code"), optional=True),
        c.word("confirm", N_("JA"), optional=True),
    ),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("connect", "connect K7MQ-2XPA", N_("connect K7MQ-2XPA JA")),
    aliases=("verbinden",),
)
async def connect(ctx: Context, code: str | None = None, confirm: str | None = None) -> None:
    if code is None:
        text = await service.give_code(ctx)
        await ctx.reply(render.code_given(ctx, text, service.other_prefix(ctx)))
    elif confirm is None:
        await _redeem(ctx, code, confirmed=False)
    elif confirm.lower() in CONFIRM_WORDS:
        await _redeem(ctx, code, confirmed=True)
    else:
        await ctx.reply(
            ctx.t("Zum Bestätigen schreib {confirm}.", confirm=render.confirm_cmd(ctx, code))
        )


@feature.button("connect")
async def connect_button(ctx: Context, data: str) -> str | None:
    """`connect:<code>`, pressed under the summary: the same as `/connect <code> JA`."""
    if not ctx.chat.is_direct:
        return None
    await _redeem(ctx, data.partition(":")[2], confirmed=True)
    return None


async def _redeem(ctx: Context, text: str, *, confirmed: bool) -> None:
    done = await service.redeem(ctx, text, confirmed=confirmed)
    if done.outcome is Outcome.ASK and done.sides is not None:
        yes = Button(ctx.lang.gettext("Ja, verbinden"), f"connect:{service.normalise(text)}", "✅")
        await ctx.reply_with_buttons(render.summary(ctx, text, *done.sides), (yes,))
        return
    if done.outcome is Outcome.LINKED and done.sides is not None:
        other = done.sides[0]
        await ctx.reply(render.linked_here(ctx, other))
        await service.tell(ctx, other.account, done.person_id, render.linked)
        return
    await ctx.reply(render.refusal(ctx, done.outcome))


@feature.command(
    "disconnect",
    help=N_("Die Verbindung deines Kontos mit dem anderen Netzwerk trennen"),
    where=c.Where.DIRECT,
    needs_person=True,
    examples=("disconnect",),
    aliases=("trennen",),
)
async def disconnect(ctx: Context) -> None:
    done = await service.disconnect(ctx)
    if done is None:
        await ctx.reply(ctx.t("Dein Konto ist mit keinem anderen verbunden."))
        return
    kept_by, others = done
    await ctx.reply(render.unlinked_here(ctx))
    for other in others:
        await service.tell(ctx, other, kept_by, render.unlinked)
