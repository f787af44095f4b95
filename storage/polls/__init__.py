"""Polls and the survey: tables (models), queries (polls, ballots, view), transactions (writes)."""
