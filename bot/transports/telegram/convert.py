"""What Telegram's objects mean to the core, and back: no I/O, no logging.

Kept apart from the transport so that the rules (who a voter is, which poll totals count,
how long callback data may be, which error texts mean "this chat is gone") can be read
and tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    MaybeInaccessibleMessage,
    Message,
    Poll,
    PollAnswer,
    User,
)
from telegram.constants import InlineKeyboardButtonLimit, PollLimit
from telegram.error import BadRequest

from bot.core import (
    Button,
    ButtonPress,
    ChatRef,
    MemberJoined,
    PollCounts,
    PollSpec,
    PollVote,
    UserRef,
)
from bot.rich import Rich

PLATFORM = "telegram"
CAPTION_LIMIT = 1024  # visible characters of a photo or document caption
TOAST_LIMIT = 200  # answerCallbackQuery text
CALLBACK_DATA_LIMIT = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # bytes
BUTTONS_PER_ROW = 8  # more do not fit on a phone; longer rows wrap
# A forum topic is a chat of its own for the core: "<chat id>/<thread id>".
THREAD_SEPARATOR = "/"
GENERAL_THREAD = 1  # the General topic: the group itself, sent to without a thread id

_GONE = (
    "chat not found",
    "chat was deactivated",
    "peer_id_invalid",
    "user is deactivated",
    "message thread not found",  # a forum topic that was deleted
    "topic_deleted",
)
# stopPoll on a poll that is already over (closed by hand, by its timer or by an earlier
# attempt), or whose message was deleted: the result is still worth posting.
_POLL_OVER = ("already been closed", "can't be stopped", "poll to stop not found")
# editMessageText that changes nothing, or whose message was deleted: nothing to do.
_EDIT_MOOT = ("message is not modified", "message to edit not found", "message can't be edited")


# --- who and where ------------------------------------------------------------------------


def user_ref(user: User) -> UserRef:
    return UserRef(
        PLATFORM,
        str(user.id),
        display_name=user.full_name,
        username=user.username,
        language_hint=user.language_code,
    )


def chat_as_sender(chat: Chat) -> UserRef:
    """A group or channel acting as a person (anonymous admin, channel post, anonymous
    vote): no person can be attached to it."""
    return UserRef(
        PLATFORM,
        f"chat{chat.id}",
        display_name=chat.effective_name or "?",
        username=chat.username,
        anonymous=True,
    )


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(
        PLATFORM, str(chat.id), is_direct=chat.type == Chat.PRIVATE, title=chat.effective_name
    )


def message_chat(message: MaybeInaccessibleMessage) -> ChatRef:
    """Where a message was written: its chat, or the forum topic it belongs to, which the
    core takes for a chat of its own ("<chat id>/<thread id>", titled "<group> / <topic>").

    Only real topic messages count (`is_topic_message`): a reply thread in an ordinary
    supergroup also carries a `message_thread_id`, and General (thread 1, or none) is the
    group itself, to which Telegram refuses sends with a thread id. Private chats stay the
    person's id whatever their topics, since private messages are addressed by it.
    """
    chat = message.chat
    if (
        not isinstance(message, Message)
        or chat.type == Chat.PRIVATE
        or not message.is_topic_message
        or message.message_thread_id in (None, GENERAL_THREAD)
    ):
        return chat_ref(chat)
    created = message.reply_to_message.forum_topic_created if message.reply_to_message else None
    # The topic's name comes only with messages that reply to its first message (what a
    # client sends by default); None keeps the title the chat was stored with.
    title = f"{chat.effective_name} / {created.name}" if created is not None else None
    return ChatRef(PLATFORM, topic_id(chat.id, message.message_thread_id), title=title)


def topic_id(chat: int | str, thread: int) -> str:
    return f"{chat}{THREAD_SEPARATOR}{thread}"


def address(value: str) -> tuple[int | str, int | None]:
    """A chat id as the core keeps it, split for the Bot API: the chat (`chat_id`) and the
    forum topic (`message_thread_id`, None for a whole chat)."""
    chat, separator, thread = value.partition(THREAD_SEPARATOR)
    if separator and thread.isdecimal():
        return chat_id(chat), int(thread)
    return chat_id(value), None


def members_joined(
    message: Message, users: Sequence[User], own_id: int | None, member_count: int | None
) -> list[MemberJoined]:
    """A `new_chat_members` service message as the people it brought in: bots (the bot
    itself included) are left out, as are private chats."""
    if message.chat.type == Chat.PRIVATE:
        return []
    where = message_chat(message)
    return [
        MemberJoined(where, user_ref(user), member_count)
        for user in users
        if not user.is_bot and user.id != own_id
    ]


def chat_id(value: str) -> int | str:
    """Telegram ids are integers; a channel may also be addressed as `@name`. A topic's id
    gives its chat's."""
    try:
        return int(value.partition(THREAD_SEPARATOR)[0])
    except ValueError:
        return value


# --- polls --------------------------------------------------------------------------------


def poll_options(poll: PollSpec) -> list[InputPollOption]:
    """The options as sent. Telegram reports votes as indexes into this list, which stay
    valid because the bot never lets members add options (`allow_adding_options`)."""
    if not PollLimit.MIN_OPTION_NUMBER <= len(poll.options) <= PollLimit.MAX_OPTION_NUMBER:
        raise ValueError(
            f"a Telegram poll has {PollLimit.MIN_OPTION_NUMBER}-{PollLimit.MAX_OPTION_NUMBER} "
            f"options, not {len(poll.options)}"
        )
    return [InputPollOption(option) for option in poll.options]


def poll_vote(answer: PollAnswer) -> PollVote:
    """A `poll_answer`: someone's whole current choice; no options means a retraction.

    An anonymous admin votes as the group (`voter_chat`); `user` then holds a placeholder
    bot for old clients, so the chat is looked at first.
    """
    voter: UserRef | None
    if answer.voter_chat is not None:
        voter = chat_as_sender(answer.voter_chat)
    elif answer.user is not None:
        voter = user_ref(answer.user)
    else:
        voter = None
    return PollVote(PLATFORM, answer.poll_id, voter, tuple(answer.option_ids))


def poll_counts(poll: Poll) -> PollCounts | None:
    """The totals of an anonymous poll; None for a named poll, whose votes arrive one by
    one as `poll_answer` (counting both would count twice)."""
    if not poll.is_anonymous:
        return None
    return PollCounts(
        PLATFORM,
        poll.id,
        counts=tuple(option.voter_count for option in poll.options),
        total_voters=poll.total_voter_count,
    )


def poll_over(exc: BadRequest) -> bool:
    return any(marker in exc.message.lower() for marker in _POLL_OVER)


# --- buttons ------------------------------------------------------------------------------


def inline_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup:
    """Buttons under a message, each answering with its `data`: one keyboard row per
    `Button.row` (rising), rows longer than 8 wrapped. Refuses data Telegram would refuse
    (1-64 bytes), before anything is sent."""
    if not buttons:
        raise ValueError("no buttons to show")
    for button in buttons:
        size = len(button.data.encode())
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise ValueError(
                f"button data must be 1-{CALLBACK_DATA_LIMIT} bytes on Telegram, not {size}"
            )
    rows: dict[int, list[InlineKeyboardButton]] = {}
    for button in buttons:
        key = InlineKeyboardButton(button.label, callback_data=button.data)
        rows.setdefault(button.row, []).append(key)
    return InlineKeyboardMarkup(
        [
            keys[start : start + BUTTONS_PER_ROW]
            for _, keys in sorted(rows.items())
            for start in range(0, len(keys), BUTTONS_PER_ROW)
        ]
    )


def button_press(query: CallbackQuery) -> ButtonPress | None:
    """A press of a button under one of the bot's messages; None for anything else
    (inline-mode messages, games, data longer than any button of ours can carry), which
    still get their query answered."""
    if query.message is None or not isinstance(query.data, str):
        return None
    if len(query.data) > CALLBACK_DATA_LIMIT:  # characters: never fewer than the bytes
        return None
    return ButtonPress(
        message_chat(query.message), user_ref(query.from_user), query.data, press_id=query.id
    )


# --- text and errors ----------------------------------------------------------------------


def utf16_len(value: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji counts twice)."""
    return len(value.encode("utf-16-le")) // 2


def caption_fits(caption: Rich) -> bool:
    """Whether the caption fits under a photo or document (measured on the plain text,
    which is never shorter than what Telegram shows)."""
    return utf16_len(caption.plain) <= CAPTION_LIMIT


def edit_moot(exc: BadRequest) -> bool:
    return any(marker in exc.message.lower() for marker in _EDIT_MOOT)


def chat_gone(exc: BadRequest) -> bool:
    return any(marker in exc.message.lower() for marker in _GONE)
