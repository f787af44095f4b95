"""Digital business cards, and the pending confirmation of `/forget`.

Both hang off the person with ON DELETE CASCADE, so deleting a person removes them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import UtcDateTime

CARD_NAME_MAX = 80
CARD_ORG_MAX = 120
CARD_ABOUT_MAX = 500
CARD_CONTACT_MAX = 200
# Regions and topics are chosen from the survey's lists and stored joined by LIST_SEP.
CARD_LIST_MAX = 600
LIST_SEP = "\n"
FORGET_CODE_MAX = 16


class Visibility(enum.StrEnum):
    AG = "ag"  # people who share an AG with the owner
    ALLIANCE = "alliance"  # every member of any AG


class Card(Base):
    __tablename__ = "card"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(CARD_NAME_MAX), default="")
    org: Mapped[str] = mapped_column(String(CARD_ORG_MAX), default="")
    regions: Mapped[str] = mapped_column(String(CARD_LIST_MAX), default="")
    topics: Mapped[str] = mapped_column(String(CARD_LIST_MAX), default="")
    about: Mapped[str] = mapped_column(String(CARD_ABOUT_MAX), default="")
    contact: Mapped[str] = mapped_column(String(CARD_CONTACT_MAX), default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.AG.value)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ForgetRequest(Base):
    """`/forget` asked and not yet confirmed: the code and until when it holds."""

    __tablename__ = "forget_request"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(FORGET_CODE_MAX))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
