"""Old path of storage/polls/models.py, kept while other features still import it from here."""

from storage.polls.models import (
    Poll as Poll,
)
from storage.polls.models import (
    PollBallot as PollBallot,
)
from storage.polls.models import (
    PollChoice as PollChoice,
)
from storage.polls.models import (
    PollKind as PollKind,
)
from storage.polls.models import (
    PollMessage as PollMessage,
)
from storage.polls.models import (
    PollNativeCount as PollNativeCount,
)
from storage.polls.models import (
    PollOption as PollOption,
)
from storage.polls.models import (
    SurveyRun as SurveyRun,
)
