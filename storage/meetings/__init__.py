"""Meetings, their occurrences, RSVPs and reminders: the tables and their queries."""
