"""`/space`: the alliance's Matrix Space (show, name one, make one); `/ag room ag2`: a room
for an AG inside it, linked to the AG. Both need the Matrix transport; the Space is kept
in the database (`bot_setting`) and wins over `[matrix] space` of the configuration."""

from __future__ import annotations

from bot import commands as c
from bot.admission import ChatRight, doors
from bot.context import Context, UserError
from bot.core import ChatRef
from bot.i18n import N_
from bot.rich import Rich, bold, code, link
from bot.spaces import OutsideSpace, SpaceError, SpaceProblem, Spaces
from handlers.access.missing import clear, missing_text, note
from handlers.membership.render import ag_title
from handlers.space import service
from storage.models import Ag
from storage.text import visible

feature = c.Feature("space")

NAME_MAX = 100
_NEW = {"neu", "new", "anlegen", "create"}
_NEW_EXAMPLE = N_('space neu "Bündnis"')


def _place(ctx: Context) -> Spaces:
    place = service.matrix(ctx)
    if place is None:
        raise UserError(ctx.t("Ich bin nicht mit Matrix verbunden: Spaces gibt es nur dort."))
    return place


def _space_error(ctx: Context, err: SpaceError) -> UserError:
    ref = code(err.ref[:80])
    if err.problem is SpaceProblem.NOT_JOINED:
        return UserError(
            ctx.t("In den Space {space} komme ich nicht hinein: lade mich erst ein.", space=ref)
        )
    if err.problem is SpaceProblem.NOT_A_SPACE:
        return UserError(ctx.t("{space} ist ein Raum, kein Space.", space=ref))
    return UserError(ctx.t("Den Space {space} finde ich nicht.", space=ref))


def _named(place: Spaces, space: ChatRef) -> Rich:
    return link(place.link_to(space), bold(space.title or space.id))


@feature.command(
    "space",
    help=N_("Der Matrix-Space des Bündnisses: zeigen, festlegen oder neu anlegen"),
    params=(c.text("what", N_("#alias:server|neu Name"), optional=True),),
    right=c.Right.ADMIN,
    examples=("space", "space #buendnis:example.org", _NEW_EXAMPLE),
)
async def space(ctx: Context, what: str | None) -> None:
    place = _place(ctx)
    if what is None:
        await ctx.reply(await _show(ctx, place))
        return
    head, _, rest = what.strip().partition(" ")
    if head.lower() in _NEW:
        name = visible(rest.strip().strip('"„“”'))
        if not name:
            raise UserError(
                ctx.t("So geht's: {usage}", usage=code(ctx.cmd(ctx.lang.gettext(_NEW_EXAMPLE))))
            )
        if len(name) > NAME_MAX:
            raise UserError(ctx.t("Der Name ist zu lang (höchstens {max} Zeichen).", max=NAME_MAX))
        made = await place.create_space(name)
        await service.store_space(ctx, made.id)
        invited = await service.invite_asker(ctx, made)
        text = ctx.t(
            "Ich habe den Space {space} angelegt; neue AG-Räume lege ich mit {room} darin an.",
            space=_named(place, made),
            room=code(ctx.cmd("ag room ag2")),
        )
        if invited:
            text = text + " " + ctx.t("Ich habe dich eingeladen.")
        await ctx.reply(text)
        return
    try:
        found = await place.find_space(head)
    except SpaceError as err:
        raise _space_error(ctx, err) from None
    await service.store_space(ctx, found.id)
    await ctx.reply(
        ctx.t("Der Space des Bündnisses ist jetzt {space}.", space=_named(place, found))
    )


async def _show(ctx: Context, place: Spaces) -> Rich:
    ref, stored = await service.space_ref(ctx)
    if not ref:
        return ctx.t(
            "Das Bündnis hat noch keinen Matrix-Space. Lege einen an mit {new} oder nenne einen, in dem ich bin: {set}.",
            new=code(ctx.cmd(ctx.lang.gettext(_NEW_EXAMPLE))),
            set=code(ctx.cmd("space #buendnis:example.org")),
        )
    try:
        found = await place.find_space(ref)
    except SpaceError as err:
        return _space_error(ctx, err).message
    if stored:
        return ctx.t("Der Space des Bündnisses ist {space}.", space=_named(place, found))
    return ctx.t(
        "Der Space des Bündnisses ist {space} (aus der Konfiguration).",
        space=_named(place, found),
    )


@feature.command(
    "ag room",
    help=N_("Einen Matrix-Raum für eine AG anlegen, im Space des Bündnisses"),
    params=(c.ag(),),
    right=c.Right.LEAD,
    examples=("ag room ag2",),
)
async def ag_room(ctx: Context, ag: Ag) -> None:
    place = _place(ctx)
    ref, _ = await service.space_ref(ctx)
    space: ChatRef | None = None
    if ref:
        try:
            space = await place.find_space(ref)
        except SpaceError as err:
            raise _space_error(ctx, err) from None
    transport = ctx.services.transports[place.platform]
    outside: OutsideSpace | None = None
    try:
        room = await doors(transport).create_room(
            ag.name, ag.description or "", space=space.id if space else None
        )
    except OutsideSpace as err:
        room, outside = err.room, err
    await service.link_room(ctx, ag.id, room)
    invited = await service.invite_asker(ctx, room)
    where = link(place.link_to(room), bold(room.title or ag.name))
    if space is None:
        text = ctx.t(
            "Der Raum {room} der AG {ag} ist angelegt und mit ihr verbunden. Er gehört zu keinem Space: lege mit {space} einen fest, dann kommen neue AG-Räume hinein.",
            room=where,
            ag=ag_title(ag),
            space=code(ctx.cmd("space")),
        )
    elif outside is not None:
        await note(ctx, outside)
        text = (
            ctx.t(
                "Der Raum {room} der AG {ag} ist angelegt und mit ihr verbunden, aber nicht im Space.",
                room=where,
                ag=ag_title(ag),
            )
            + " "
            + missing_text(ctx, outside)
        )
    else:
        await clear(ctx, space.platform, space.id, ChatRight.SPACE_CHILD)
        text = ctx.t(
            "Der Raum {room} der AG {ag} ist im Space {space} angelegt und mit der AG verbunden.",
            room=where,
            ag=ag_title(ag),
            space=bold(space.title or space.id),
        )
    if invited:
        text = text + " " + ctx.t("Ich habe dich eingeladen.")
    await ctx.reply(text)
