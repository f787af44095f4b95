"""The Telegram Bot API, answered from memory (the updates it sends: telegram_updates.py).

python-telegram-bot's own testing approach: a `BaseRequest` whose `do_request` records
each call (method name and decoded parameters) and answers with JSON shaped as the Bot
API documents it. Updates for `getUpdates` come from a list the test fills, so the real
`Updater.start_polling()` runs against it. Every payload here keeps to the documented
field names and required fields (Message: message_id, date, chat; User: id, is_bot,
first_name; Chat: id, type; entities in UTF-16 code units).

Polls, files and buttons follow the Bot API 9.6/10 of python-telegram-bot 22.8, which
refuses payloads without the fields that version made required: `Poll.allows_revoting`,
`Poll.members_only`, `PollOption.persistent_id`, `PollAnswer.option_persistent_ids`.
`BotApi.vote` plays Telegram's part when someone votes: it keeps each voter's choice and
returns the updates Telegram would send (`poll_answer` for named polls only, then `poll`
with the new totals).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.request import BaseRequest, RequestData

from tests.support.telegram_edits import edited
from tests.support.telegram_updates import (
    ANONYMOUS_ADMIN_BOT,
    CHANNEL_BOT,
    TOPIC_ICON,
    Json,
    callback_query,
    group,
    message,
    message_ids,
    poll_answer,
    poll_object,
    private_chat,
    service_message,
    supergroup,
    text_mention,
    update,
    user,
    utf16_len,
)

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

# The update builders are telegram_updates.py; importable from here as before.
__all__ = [
    "ANONYMOUS_ADMIN_BOT",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USERNAME",
    "CHANNEL_BOT",
    "ApiCall",
    "BotApi",
    "Json",
    "RecordingRequest",
    "Upload",
    "callback_query",
    "group",
    "message",
    "poll_answer",
    "poll_object",
    "private_chat",
    "service_message",
    "supergroup",
    "text_mention",
    "update",
    "user",
    "utf16_len",
]

BOT_ID = 987654321
BOT_USERNAME = "buendnis_test_bot"
# Shaped like a BotFather token (the config checks the form); it opens nothing.
BOT_TOKEN = f"{BOT_ID}:AAE-test-token-not-real_0123456789abc"
_file_ids = itertools.count(1)


@dataclass(frozen=True)
class Upload:
    """One file of a multipart request, as PTB sends it."""

    filename: str
    data: bytes
    mime: str


@dataclass
class ApiCall:
    method: str
    params: Json
    status: int
    files: dict[str, Upload] = field(default_factory=dict)


class RecordingRequest(BaseRequest):
    """Hands every request to the `BotApi` instead of the network."""

    def __init__(self, api: BotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        files: dict[str, Upload] = {}
        if request_data is not None:
            for part, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                files[part] = Upload(filename, data, mime)
        status, body = await self.api.answer(api_method, params, files)
        return status, json.dumps(body).encode()


class BotApi:
    """One bot's view of Telegram: who it is, what it was asked, what it answers."""

    def __init__(
        self, *, can_join_groups: bool = True, can_read_all_group_messages: bool = False
    ) -> None:
        # getMe: a User with the fields only getMe returns (Bot API 9.x).
        self.me: Json = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Bündnisbot",
            "username": BOT_USERNAME,
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[ApiCall] = []
        self.chats: dict[int, Json] = {}
        # Every message the bot sent, by (chat id, message id); polls by their id.
        self.messages: dict[tuple[int, int], Json] = {}
        self.polls: dict[str, Json] = {}
        self._choices: dict[str, dict[int, list[int]]] = defaultdict(dict)
        self._scripted: dict[str, deque[tuple[int, Json]]] = defaultdict(deque)
        self._pending: list[Json] = []
        self._changed = asyncio.Condition()
        self.offset = 0
        self.request = RecordingRequest(self)
        self.updates_request = RecordingRequest(self)

    # --- what tests set up -------------------------------------------------------------

    def script(self, method: str, status: int, body: Json) -> None:
        """Answer the next call of `method` with this instead of the normal answer."""
        self._scripted[method].append((status, body))

    def remember(self, *chats: Json) -> None:
        """Chats the API should describe in its answers (sendMessage returns the chat)."""
        for chat in chats:
            self.chats[chat["id"]] = chat

    async def push(self, update: Json) -> None:
        """Queue an update for the next getUpdates."""
        async with self._changed:
            self._pending.append(update)
            self._changed.notify_all()

    async def wait_called(self, method: str, count: int = 1) -> list[ApiCall]:
        """Until `method` was called `count` times (calls made from the bot's own tasks).
        Gives up after 5 s."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        return self.calls_to(method)

    def vote(
        self, poll_id: str, voter: Json, option_ids: list[int], *, voter_chat: Json | None = None
    ) -> list[Json]:
        """Someone chose `option_ids` (all of their current choice; [] retracts it). Returns
        the updates Telegram sends the poll's bot: `poll_answer` for a named poll, then the
        new totals as `poll`."""
        poll = self.polls[poll_id]
        if poll["is_closed"]:
            return []
        voter_id = (voter_chat or voter)["id"]
        choices = self._choices[poll_id]
        if option_ids:
            choices[voter_id] = list(option_ids)
        else:
            choices.pop(voter_id, None)
        for index, option in enumerate(poll["options"]):
            option["voter_count"] = sum(index in chosen for chosen in choices.values())
        poll["total_voter_count"] = len(choices)
        sent: list[Json] = []
        if not poll["is_anonymous"]:
            answer = poll_answer(poll, voter, option_ids, voter_chat=voter_chat)
            sent.append(update(answer, "poll_answer"))
        sent.append(update(json.loads(json.dumps(poll)), "poll"))
        return sent

    def last_sent(self, chat_id: int | None = None) -> Json:
        """The last message the bot sent (to one chat), as Telegram stored it."""
        found = [m for (cid, _), m in self.messages.items() if chat_id in (None, cid)]
        assert found, "the bot sent nothing there"
        return found[-1]

    async def wait_fetched(self, update_id: int) -> None:
        """Until the bot confirmed the update (asked for a later offset), which PTB does
        only after it put the update into its queue. Gives up after 5 s."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: self.offset > update_id)

    # --- what tests look at ------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def delivered(self, chat_id: int | None = None) -> list[Json]:
        """The parameters of every sendMessage that succeeded (to one chat)."""
        return [
            call.params
            for call in self.calls_to("sendMessage")
            if call.status == 200 and (chat_id is None or call.params["chat_id"] == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [params["text"] for params in self.delivered(chat_id)]

    # --- the server side ---------------------------------------------------------------

    async def answer(
        self, method: str, params: Json, files: dict[str, Upload] | None = None
    ) -> tuple[int, Json]:
        if method == "getUpdates":
            self.calls.append(ApiCall(method, params, 200))
            return 200, {"ok": True, "result": await self._get_updates(params)}
        if self._scripted[method]:
            status, body = self._scripted[method].popleft()
        else:
            status, body = self._normal(method, params, files or {})
        async with self._changed:
            self.calls.append(ApiCall(method, params, status, files or {}))
            self._changed.notify_all()
        return status, body

    def _normal(self, method: str, params: Json, files: dict[str, Upload]) -> tuple[int, Json]:
        if method == "getMe":
            return 200, {"ok": True, "result": self.me}
        if method in (
            "deleteWebhook",
            "setWebhook",
            "setMyCommands",
            "deleteMyCommands",
            "answerCallbackQuery",
        ):
            return 200, {"ok": True, "result": True}
        if method == "sendMessage":
            shown = _shown(params["text"])
            return 200, {"ok": True, "result": self._sent_message(params, text=shown)}
        if method == "sendPoll":
            poll = poll_object(
                params["question"],
                [option["text"] for option in params["options"]],
                anonymous=params.get("is_anonymous", True),
                multi=params.get("allows_multiple_answers", False),
                allows_revoting=params.get("allows_revoting", True),
            )
            self.polls[poll["id"]] = poll
            return 200, {"ok": True, "result": self._sent_message(params, poll=poll)}
        if method == "stopPoll":
            return self._stop_poll(params)
        if method == "editMessageText":
            return edited(self.messages, params)
        if method == "createForumTopic":  # the thread id is its first message's id
            topic = {"message_thread_id": next(message_ids), "name": params["name"]}
            return 200, {"ok": True, "result": {**topic, "icon_color": TOPIC_ICON}}
        if method in ("sendPhoto", "sendDocument"):
            return 200, {"ok": True, "result": self._sent_file(method, params, files)}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _sent_message(self, params: Json, **content: Any) -> Json:
        """The Message Telegram answers a send with; remembered for later replies,
        button presses and stopPoll."""
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id) or (
            {"id": chat_id, "type": "private", "first_name": "?"}
            if chat_id > 0
            else {"id": chat_id, "type": "group", "title": "?"}
        )
        bot = {k: self.me[k] for k in ("id", "is_bot", "first_name", "username")}
        message: Json = {
            "message_id": next(message_ids),
            "from": bot,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if "message_thread_id" in params:
            message.update(message_thread_id=params["message_thread_id"], is_topic_message=True)
        if "link_preview_options" in params:
            message["link_preview_options"] = params["link_preview_options"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        replied = self.messages.get((chat_id, params.get("reply_parameters", {}).get("message_id")))
        if replied is not None:
            message["reply_to_message"] = replied
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _sent_file(self, method: str, params: Json, files: dict[str, Upload]) -> Json:
        content: Json = {}
        if "caption" in params:
            content["caption"] = _shown(params["caption"])
        if method == "sendPhoto":
            upload = files["photo"]
            file_id = f"AgACAgIAAxkDAAI{next(_file_ids):05d}"
            # Telegram keeps several sizes of a picture; the file name is not kept.
            content["photo"] = [
                {
                    "file_id": f"{file_id}-{width}",
                    "file_unique_id": f"AQAD{width}",
                    "width": width,
                    "height": width * 3 // 4,
                    "file_size": len(upload.data) * width // 800,
                }
                for width in (90, 320, 800)
            ]
        else:
            upload = files["document"]
            content["document"] = {
                "file_id": f"BQACAgIAAxkDAAI{next(_file_ids):05d}",
                "file_unique_id": f"AgAD{next(_file_ids):05d}",
                "file_name": upload.filename,
                "mime_type": upload.mime,
                "file_size": len(upload.data),
            }
        return self._sent_message(params, **content)

    def _stop_poll(self, params: Json) -> tuple[int, Json]:
        message = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if message is None or "poll" not in message:
            return _bad_request("message with poll to stop not found")
        poll = self.polls[message["poll"]["id"]]
        if poll["is_closed"]:
            return _bad_request("poll has already been closed")
        poll["is_closed"] = True
        return 200, {"ok": True, "result": poll}

    async def _get_updates(self, params: Json) -> list[Json]:
        """Long polling: confirmed updates (below `offset`) are gone; wait up to `timeout`
        seconds for new ones."""
        async with self._changed:
            self.offset = max(self.offset, int(params.get("offset") or 0))
            self._pending = [u for u in self._pending if u["update_id"] >= self.offset]
            self._changed.notify_all()
            timeout = float(params.get("timeout") or 0)
            if not self._pending and timeout > 0:
                try:
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(lambda: bool(self._pending))
                except TimeoutError:
                    pass
            return list(self._pending)


def _shown(markup: str) -> str:
    """Telegram answers with text as shown: markup parsed into entities (left out)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _bad_request(description: str) -> tuple[int, Json]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
