"""Old path of handlers/polls/secret.py, kept while other features still import it from here."""

from handlers.polls.secret import (
    account_token as account_token,
)
from handlers.polls.secret import (
    read_key as read_key,
)
from handlers.polls.secret import (
    secret_key as secret_key,
)
from handlers.polls.secret import (
    voter_keys as voter_keys,
)
