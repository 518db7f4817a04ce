"""The normalised review every backend produces, validated before anything is stored."""

from __future__ import annotations

import colander

from ..models import ReviewStatus
from ..schemas import StrictInt

REVIEW_STATUSES = tuple(s.value for s in ReviewStatus)


class CommentSchema(colander.MappingSchema):
    # Seconds as JSON numbers: "7", 1.5 or true are refused, not silently turned into 7, 1 or 1.
    start = colander.SchemaNode(StrictInt(), validator=colander.Range(min=0))
    stop = colander.SchemaNode(StrictInt(), validator=colander.Range(min=0))
    duration = colander.SchemaNode(StrictInt(), validator=colander.Range(min=0))
    comment = colander.SchemaNode(colander.String(allow_empty=True), missing="",
                                  validator=colander.Length(max=10000))
    status = colander.SchemaNode(colander.String(), validator=colander.Length(min=1, max=64))

    def validator(self, node, value):
        if value["stop"] < value["start"]:
            invalid = colander.Invalid(node)
            invalid["stop"] = f"stop ({value['stop']}) is before start ({value['start']})"
            raise invalid


class CommentsSchema(colander.SequenceSchema):
    comment = CommentSchema()


class NormalisedReviewSchema(colander.MappingSchema):
    status = colander.SchemaNode(colander.String(), validator=colander.OneOf(REVIEW_STATUSES))
    comments = CommentsSchema(missing=())
    reviewed_by = colander.SchemaNode(
        colander.String(), missing=None, validator=colander.All(colander.Length(max=255), colander.Email())
    )
