"""Link tokens of the bot's web side (calendar feeds, later pages)."""
