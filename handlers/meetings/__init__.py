"""Meetings: planning, moving, cancelling, listing them, and who comes."""
