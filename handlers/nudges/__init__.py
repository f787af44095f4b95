"""Private notices about polls and Terminumfragen: nudges before a deadline (and by hand
with `/erinnern`), "everyone has answered" and "the deadline passed" to the lead."""
