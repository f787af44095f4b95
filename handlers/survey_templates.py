"""Old path of handlers/survey/templates.py, kept while other features still import it from here."""

from handlers.survey.templates import (
    SurveyError as SurveyError,
)
from handlers.survey.templates import (
    load_survey as load_survey,
)
