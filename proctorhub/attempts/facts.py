"""An attempt as plain frozen values, for the paths that read or write it with Core (the review
callback, the fast-path launch): ``attempts.serialize`` renders it as it renders an ORM row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ..lms.service import LmsRef


@dataclass(frozen=True)
class ExamFacts:
    id: int
    lms: LmsRef
    context_id: str
    resource_link_id: str
    is_practice: bool
    is_proctored: bool
    backend: str | None
    time_limit_mins: int | None


@dataclass(frozen=True)
class AttemptFacts:
    """An attempt and its exam as plain values, read or written with Core on the hot paths (a
    review callback's target, a fast-path launch's new attempt); rendered like an ORM row."""

    id: int
    attempt_code: str
    status: str
    attempt_number: int
    exam_id: int
    user_id: str
    user_name: str | None
    user_email: str | None
    external_id: str | None
    end_assessment_return: bool
    verified_user: dict | None
    started_at: dt.datetime | None
    created_at: dt.datetime
    modified_at: dt.datetime
    archived_at: dt.datetime | None
    submitted_at: dt.datetime | None
    completed_at: dt.datetime | None
    extra_time_seconds: int
    paused_seconds: int
    paused_at: dt.datetime | None
    exam: ExamFacts

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def changed(self, **columns) -> AttemptFacts:
        known = {k: v for k, v in columns.items() if k in self.__dataclass_fields__}
        return replace(self, **known)


# The attempt's columns these facts carry: what a Core read selects and a Core insert returns.
ATTEMPT_COLUMNS = tuple(name for name in AttemptFacts.__dataclass_fields__ if name != "exam")
