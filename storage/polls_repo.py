"""Old path of storage/polls/polls.py, kept while other features still import it from here."""

from storage.polls.polls import (
    options_of as options_of,
)
from storage.polls.polls import (
    poll_by_short_id as poll_by_short_id,
)
from storage.polls.polls import (
    utc as utc,
)
