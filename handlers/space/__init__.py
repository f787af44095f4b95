"""The alliance on Matrix: its Space (`/space`) and a room per AG inside it (`/ag room`)."""
