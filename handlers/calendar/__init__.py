"""Calendar feeds: `/kalender` gives links, the web server serves the feeds."""
