"""Terminumfragen: finding a date together (issue 15)."""
