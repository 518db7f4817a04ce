"""Failed staff sign-ins, counted in the database so that every process slows the same guesser."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base, UTCDateTime, utcnow


class SigninThrottle(Base):
    """Recent failed sign-ins for one key: an (email, client address) pair, or a client address
    (see ``admin.throttle``). Rows whose failures are old are purged."""

    __tablename__ = "signin_throttle"
    __table_args__ = (Index("ix_signin_throttle_last_failure_at", "last_failure_at"),)

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
