"""An attempt as plain frozen values, for the paths that read or write it with Core (the review
callback, the fast-path launch, the webhook hand-out): ``attempts.serialize`` renders it as it
renders an ORM row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select

from ..lms.service import LmsRef
from ..models import Attempt, Exam, Lms


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


attempt_t = Attempt.__table__
exam_t = Exam.__table__
lms_t = Lms.__table__

# ExamFacts' columns of the exam table, and the labels a facts query gives them.
EXAM_COLUMNS = {"context_id": "context_id", "resource_link_id": "resource_link_id", "is_practice": "is_practice",
                "is_proctored": "is_proctored", "backend": "exam_backend", "time_limit_mins": "time_limit_mins"}

#: Every attempt with its exam and lms, in the columns ``facts_of`` reads; add a WHERE.
FACTS_QUERY = (
    select(
        *(attempt_t.c[name] for name in ATTEMPT_COLUMNS),
        *(exam_t.c[column].label(label) for column, label in EXAM_COLUMNS.items()),
        lms_t.c.id.label("lms_id"), lms_t.c.slug.label("lms_slug"),
    )
    .join_from(attempt_t, exam_t, attempt_t.c.exam_id == exam_t.c.id)
    .join(lms_t, lms_t.c.id == exam_t.c.lms_id)
)


def facts_of(row) -> AttemptFacts:
    """The facts in a row (a mapping) of ``FACTS_QUERY``."""
    exam = ExamFacts(id=row["exam_id"], lms=LmsRef(row["lms_id"], row["lms_slug"]),
                     **{column: row[label] for column, label in EXAM_COLUMNS.items()})
    return AttemptFacts(exam=exam, **{name: row[name] for name in ATTEMPT_COLUMNS})
