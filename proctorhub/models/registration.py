"""LTI Dynamic Registration: a registration an admin started, behind a one-time token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .configuration import ToolConfiguration
from .meta import Base, UTCDateTime, utcnow


class Registration(Base):
    """One registration started in the admin: the tool is opened at ``initiation_url`` with a
    ``registration_token`` (stored only as its digest), spent by the tool's one registration
    request. ``configuration_id`` is the configuration it updates, if it was started for one,
    and otherwise the configuration the tool's request created."""

    __tablename__ = "lti_registration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    initiation_url: Mapped[str] = mapped_column(String(2048))
    # "create" (a new tool) or "update" (a new registration of configuration_id's tool).
    kind: Mapped[str] = mapped_column(String(16))
    configuration_id: Mapped[int | None] = mapped_column(ForeignKey("tool_configuration.id"), index=True)
    # The review backend the admin chose for the tool (a new configuration takes it).
    backend: Mapped[str | None] = mapped_column(String(64))
    # Who started it, as the audit trail labels people and programs.
    started_by: Mapped[str] = mapped_column(String(255))
    started_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    configuration: Mapped[ToolConfiguration | None] = relationship(lazy="joined")
