"""Digital business cards: `/card`, `/cards`, `/find`."""
