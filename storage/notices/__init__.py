"""Private notices the bot sends on its own about polls and Terminumfragen (nudges, "everyone
has answered", a deadline passed, a date picked): one row per notice and person, so each goes
out exactly once through restarts and outages."""
