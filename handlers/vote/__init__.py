"""`/vote`: answering a poll or the survey walk-through by number."""
