"""The Bot API's side of the way into a group: member status, invite links that create
join requests, answers to join requests, bans and unbans, answered from memory."""

from __future__ import annotations

import itertools
import time

from tests.support.telegram_api import BotApi, Json, Upload, update

_links = itertools.count(1)


class DoorsApi(BotApi):
    """`BotApi` that also knows who is in which group (`inside`: (chat id, user id))."""

    def __init__(self) -> None:
        super().__init__()
        self.inside: set[tuple[int, int]] = set()
        self.revoked: set[str] = set()  # links an admin revoked in Telegram

    def _normal(self, method: str, params: Json, files: dict[str, Upload]) -> tuple[int, Json]:
        if method == "getChatMember":
            chat, person = int(params["chat_id"]), int(params["user_id"])
            status = "member" if (chat, person) in self.inside else "left"
            member = {"status": status, "user": {"id": person, "is_bot": False, "first_name": "?"}}
            return 200, {"ok": True, "result": member}
        if method == "createChatInviteLink":
            bot = {k: self.me[k] for k in ("id", "is_bot", "first_name", "username")}
            link: Json = {
                "invite_link": f"https://t.me/+AbCdEf{next(_links):04d}",
                "creator": bot,
                "creates_join_request": bool(params.get("creates_join_request")),
                "is_primary": False,
                "is_revoked": False,
            }
            if "name" in params:
                link["name"] = params["name"]
            return 200, {"ok": True, "result": link}
        if method == "editChatInviteLink":
            if params["invite_link"] in self.revoked:
                return bad_request("INVITE_HASH_EXPIRED")
            bot = {k: self.me[k] for k in ("id", "is_bot", "first_name", "username")}
            kept: Json = {
                "invite_link": params["invite_link"],
                "creator": bot,
                "creates_join_request": bool(params.get("creates_join_request")),
                "is_primary": False,
                "is_revoked": False,
                "name": params.get("name", ""),
            }
            return 200, {"ok": True, "result": kept}
        if method == "banChatMember":
            self.inside.discard((int(params["chat_id"]), int(params["user_id"])))
            return 200, {"ok": True, "result": True}
        if method in ("approveChatJoinRequest", "declineChatJoinRequest", "unbanChatMember"):
            return 200, {"ok": True, "result": True}
        return super()._normal(method, params, files)


def join_request(chat: Json, person: Json) -> Json:
    """A `chat_join_request` update, as Telegram sends it for a link that asks to join."""
    asked = {"chat": chat, "from": person, "user_chat_id": person["id"], "date": int(time.time())}
    return update(asked, "chat_join_request")


def bad_request(description: str) -> tuple[int, Json]:
    return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
