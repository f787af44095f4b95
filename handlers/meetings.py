"""Meetings and reminders (issue 4, being built)."""
