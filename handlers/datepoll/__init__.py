"""Terminumfragen: a lead proposes dates, members answer ja / wenn nötig / nein, the lead picks one and it becomes a meeting (issue 15)."""
