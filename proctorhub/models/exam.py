"""Exams: one per lms, course (context) and resource link."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .configuration import ToolConfiguration
from .lms import Lms
from .meta import Base, UTCDateTime, utcnow


class Exam(Base):
    __tablename__ = "exam"
    # Two lmss may use the same context and resource link ids without meeting (DESIGN.md 5.1).
    __table_args__ = (UniqueConstraint("lms_id", "context_id", "resource_link_id",
                                       name="uq_exam_lms_context_resource_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lms_id: Mapped[int] = mapped_column(ForeignKey("lms.id"))
    # "" when the LMS sends no context: resource link ids alone then identify the exam.
    context_id: Mapped[str] = mapped_column(String(255), default="")
    context_title: Mapped[str | None] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    resource_link_title: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    time_limit_mins: Mapped[int | None] = mapped_column(Integer)
    is_proctored: Mapped[bool] = mapped_column(Boolean, default=True)
    is_practice: Mapped[bool] = mapped_column(Boolean, default=False)
    configuration_id: Mapped[int | None] = mapped_column(ForeignKey("tool_configuration.id"), index=True)
    backend: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    configuration: Mapped[ToolConfiguration | None] = relationship(lazy="joined")
    lms: Mapped[Lms] = relationship(lazy="joined")
