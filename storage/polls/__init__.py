"""Polls and the survey: their tables (models), polls and where they were posted (polls), ballots and the tally (ballots), the vote transaction (votes)."""
