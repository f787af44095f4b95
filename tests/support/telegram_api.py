"""The Telegram Bot API, answered from memory, and builders for the updates it sends.

python-telegram-bot's own testing approach: a `BaseRequest` whose `do_request` records
each call (method name and decoded parameters) and answers with JSON shaped as the Bot
API documents it. Updates for `getUpdates` come from a list the test fills, so the real
`Updater.start_polling()` runs against it. Every payload here keeps to the documented
field names and required fields (Message: message_id, date, chat; User: id, is_bot,
first_name; Chat: id, type; entities in UTF-16 code units).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

BOT_ID = 987654321
BOT_USERNAME = "buendnis_test_bot"
# Shaped like a BotFather token (the config checks the form); it opens nothing.
BOT_TOKEN = f"{BOT_ID}:AAE-test-token-not-real_0123456789abc"
Json = dict[str, Any]

ANONYMOUS_ADMIN_BOT: Json = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


_update_ids = itertools.count(10_000)
_message_ids = itertools.count(1)


@dataclass
class ApiCall:
    method: str
    params: Json
    status: int


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
        status, body = await self.api.answer(api_method, params)
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

    async def answer(self, method: str, params: Json) -> tuple[int, Json]:
        if method == "getUpdates":
            self.calls.append(ApiCall(method, params, 200))
            return 200, {"ok": True, "result": await self._get_updates(params)}
        if self._scripted[method]:
            status, body = self._scripted[method].popleft()
        else:
            status, body = self._normal(method, params)
        self.calls.append(ApiCall(method, params, status))
        return status, body

    def _normal(self, method: str, params: Json) -> tuple[int, Json]:
        if method == "getMe":
            return 200, {"ok": True, "result": self.me}
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "deleteMyCommands"):
            return 200, {"ok": True, "result": True}
        if method == "sendMessage":
            return 200, {"ok": True, "result": self._sent_message(params)}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _sent_message(self, params: Json) -> Json:
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id) or (
            {"id": chat_id, "type": "private", "first_name": "?"}
            if chat_id > 0
            else {"id": chat_id, "type": "group", "title": "?"}
        )
        bot = {k: self.me[k] for k in ("id", "is_bot", "first_name", "username")}
        # Telegram answers with the text as shown: markup parsed into entities (left out).
        shown = html.unescape(re.sub(r"<[^>]+>", "", params["text"]))
        message: Json = {
            "message_id": next(_message_ids),
            "from": bot,
            "chat": chat,
            "date": int(time.time()),
            "text": shown,
        }
        if "link_preview_options" in params:
            message["link_preview_options"] = params["link_preview_options"]
        return message

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


# --- payload builders ------------------------------------------------------------------


def user(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "de",
    is_bot: bool = False,
) -> Json:
    found: Json = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        found["last_name"] = last_name
    if username is not None:
        found["username"] = username
    if language_code is not None:
        found["language_code"] = language_code
    return found


def private_chat(person: Json) -> Json:
    chat: Json = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    for key in ("last_name", "username"):
        if key in person:
            chat[key] = person[key]
    return chat


def group(chat_id: int, title: str) -> Json:
    """A basic group: negative id of up to 13 digits."""
    return {"id": chat_id, "type": "group", "title": title}


def supergroup(chat_id: int, title: str) -> Json:
    """A supergroup: id -100…"""
    return {"id": chat_id, "type": "supergroup", "title": title}


def utf16_len(value: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(value.encode("utf-16-le")) // 2


def text_mention(text: str, shown: str, person: Json) -> Json:
    """An entity for a person without a username, as clients create it."""
    start = text.index(shown)
    return {
        "type": "text_mention",
        "offset": utf16_len(text[:start]),
        "length": utf16_len(shown),
        "user": person,
    }


def message(chat: Json, sender: Json | None, text: str, **fields: Any) -> Json:
    """A text message; a leading `/word` gets its bot_command entity, as Telegram does."""
    payload: Json = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "text": text,
    }
    if sender is not None:
        payload["from"] = sender
    entities: list[Json] = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])})
    entities.extend(fields.pop("entities", []))
    if entities:
        payload["entities"] = entities
    payload.update(fields)
    return payload


def service_message(chat: Json, sender: Json, **fields: Any) -> Json:
    """A service message (no text), e.g. `migrate_to_chat_id`."""
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        **fields,
    }


def update(payload: Json, kind: str = "message") -> Json:
    """Wrap a message into an Update: kind `message` or `edited_message` (then the
    message gets its `edit_date`)."""
    if kind == "edited_message":
        payload = {**payload, "edit_date": int(time.time())}
    return {"update_id": next(_update_ids), kind: payload}
