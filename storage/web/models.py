"""The `web_token` table: one link a person was given to the bot's web side.

Only a keyed hash of the token is stored (HMAC-SHA256 under the bot's secret key, which
lives outside the database): a copy of the database does not open anyone's feed. The
row says what the link is for (`purpose`: feed, later page), whose it is (`person_id`),
what it shows (`scope`: `mine:all`, `mine:going`, `ag:<id>`, later `poll:<id>` ...),
when it was made, until when it works (feeds: no end until revoked) and whether it
was revoked (`/kalender neu`).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import UtcDateTime

SCOPE_MAX = 32
DIGEST_LENGTH = 64  # hex of SHA-256

_ID = BigInteger().with_variant(Integer, "sqlite")


class TokenPurpose(enum.StrEnum):
    FEED = "feed"  # a calendar feed (/kalender)
    PAGE = "page"  # a web page (the next step: poll result, Terminumfrage grid, AG overview)


class WebToken(Base):
    __tablename__ = "web_token"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(SCOPE_MAX))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
