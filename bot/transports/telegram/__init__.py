"""Telegram through python-telegram-bot (transport.py receives, send.py sends).
Re-exports the transport for the app."""

from bot.transports.telegram.transport import TelegramTransport

__all__ = ["TelegramTransport"]
