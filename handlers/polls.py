"""Polls: quick polls and the founding survey (issue 3, being built)."""
