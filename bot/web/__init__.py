"""The bot's small HTTP server: calendar feeds, Telegram's webhook, `/healthz`."""
