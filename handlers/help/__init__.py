"""Help: the greeting, help generated from the command declarations, the language."""
