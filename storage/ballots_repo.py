"""Old path of storage/polls/ballots.py, kept while other features still import it from here."""

from storage.polls.ballots import (
    Tally as Tally,
)
from storage.polls.ballots import (
    TokenKeys as TokenKeys,
)
from storage.polls.ballots import (
    drop_ballots as drop_ballots,
)
from storage.polls.ballots import (
    tally as tally,
)
from storage.polls.ballots import (
    tokens_of as tokens_of,
)
