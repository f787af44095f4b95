"""The founding survey: its questions as polls, the walk-through, the results."""
