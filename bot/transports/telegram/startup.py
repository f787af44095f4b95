"""What the Telegram transport says and needs at start: the BotFather settings' meaning,
and the options of python-telegram-bot's own webhook server."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import User

from bot.settings import TelegramSettings

log = logging.getLogger(__name__)


def check_bot_settings(me: User) -> None:
    """Say at start-up what the BotFather settings mean for this bot; warn only where
    something it needs is missing."""
    if not me.can_join_groups:
        log.warning(
            "telegram: @%s cannot be added to groups. Fix it in @BotFather: /setjoingroups "
            "(or /mybots -> @%s -> Bot Settings -> Allow Groups? -> Turn groups on).",
            me.username,
            me.username,
        )
    if me.can_read_all_group_messages:
        log.info(
            "telegram: privacy mode is off: the bot receives every group message but acts "
            "only on commands. Turning it on is recommended (@BotFather: /setprivacy -> "
            "Enable; then remove and re-add the bot in each group)."
        )
    else:
        log.info(
            "telegram: privacy mode is on: in groups the bot sees commands and service "
            "messages only, which is all it needs."
        )


def webhook_options(settings: TelegramSettings, allowed: Sequence[str]) -> dict[str, Any]:
    """Listen where the settings say; the URL path comes from the public URL (never
    from the token, which would then show up in proxy logs)."""
    secret = settings.webhook_secret.reveal()
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": secret,
        "allowed_updates": list(allowed),
    }
