"""Logging the bot in: the configured access token, else the one saved in the store,
else the password (whose new token is saved for next time, on the same device)."""

from __future__ import annotations

import asyncio
import logging

import nio

from bot.config import MatrixSettings
from bot.transports.matrix.session import (
    CREDENTIALS_FILE,
    Credentials,
    read_credentials,
    write_credentials,
)

log = logging.getLogger(__name__)


class MatrixLoginError(RuntimeError):
    """The bot could not log in; the message names the cause, never a secret."""


async def log_in(client: nio.AsyncClient, s: MatrixSettings) -> None:
    """Access token from the settings, else the saved one, else the password."""
    token = s.access_token.reveal()
    if token:
        device_id = await _whoami(client, s, token)
        if device_id is None:
            raise MatrixLoginError(f"the access token for {s.user_id} was rejected")
        if device_id != s.device_id:
            log.warning("matrix: the access token belongs to device %s", device_id)
        client.restore_login(s.user_id, device_id, token)
        return
    saved = await asyncio.to_thread(read_credentials, s.store_path / CREDENTIALS_FILE)
    if (
        saved is not None
        and (saved.homeserver, saved.user_id, saved.device_id)
        == (s.homeserver, s.user_id, s.device_id)
        and await _whoami(client, s, saved.access_token) == saved.device_id
    ):
        client.restore_login(s.user_id, saved.device_id, saved.access_token)
        log.debug("matrix: reusing the saved login of device %s", saved.device_id)
        return
    await password_login(client, s)


async def _whoami(client: nio.AsyncClient, s: MatrixSettings, token: str) -> str | None:
    """The device a token belongs to, or None if the homeserver rejects the token."""
    client.access_token = token
    resp = await client.whoami()
    client.access_token = ""
    if isinstance(resp, nio.WhoamiResponse) and resp.user_id == s.user_id:
        return str(resp.device_id or s.device_id)
    log.info("matrix: saved login no longer valid (%s)", getattr(resp, "status_code", "?"))
    return None


async def password_login(client: nio.AsyncClient, s: MatrixSettings) -> None:
    password = s.password.reveal()
    if not password:
        raise MatrixLoginError(f"no valid access token and no password for {s.user_id}")
    client.device_id = s.device_id
    resp = await client.login(password, device_name="Bündnisbot")
    if not isinstance(resp, nio.LoginResponse):
        raise MatrixLoginError(
            f"login of {s.user_id} failed: {getattr(resp, 'status_code', None) or 'error'}"
        )
    creds = Credentials(s.homeserver, s.user_id, str(resp.device_id), str(resp.access_token))
    await asyncio.to_thread(write_credentials, s.store_path / CREDENTIALS_FILE, creds)
    log.info("matrix: logged in with the password; device %s kept for next time", creds.device_id)
