"""Old path of handlers/polls/render.py, kept while other features still import it from here."""

from handlers.polls.render import (
    network_name as network_name,
)
