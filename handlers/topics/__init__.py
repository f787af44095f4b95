"""An AG's own forum topic in a Telegram forum group (`/ag topic ag2`)."""
