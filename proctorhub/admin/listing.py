"""Paged lists of the admin (exams, attempts, webhook deliveries): newest first, keyset pages by id
both ways, and a course filter that matches any part of a course id, whatever its case."""

from __future__ import annotations

from dataclasses import dataclass

import colander
from sqlalchemy import func, select

from ..errors import InvalidPayload, colander_details
from ..models import Exam
from ..schemas import INT_MAX
from .forms import admin_url

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageSchema(colander.MappingSchema):
    """A page: ``after`` or ``before`` an id, ``limit`` rows."""

    after = colander.SchemaNode(colander.Int(), missing=None, validator=colander.Range(min=1, max=INT_MAX))
    before = colander.SchemaNode(colander.Int(), missing=None, validator=colander.Range(min=1, max=INT_MAX))
    limit = colander.SchemaNode(colander.Int(), missing=DEFAULT_LIMIT, validator=colander.Range(min=1, max=MAX_LIMIT))


class ListSchema(PageSchema):
    """A page of a list of courses' rows."""

    course = colander.SchemaNode(colander.String(), missing="", validator=colander.Length(max=255))


def parse_list_params(params, schema=None) -> dict:
    schema = schema or ListSchema()
    raw = {node.name: params.get(node.name) for node in schema.children
           if params.get(node.name) not in (None, "")}
    try:
        data = schema.deserialize(raw)
    except colander.Invalid as invalid:
        raise InvalidPayload("the list's filters are not valid", details=colander_details(invalid)) from None
    if data["after"] is not None and data["before"] is not None:
        raise InvalidPayload("the list's filters are not valid",
                             details={"fields": {"before": "give after or before, not both"}})
    if "course" in data:
        data["course"] = data["course"].strip()
    return data


def like_anywhere(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def course_condition(column, course: str):
    """``column`` (a course id) contains ``course``, in any case."""
    return func.lower(column).like(like_anywhere(course), escape="\\")


def exams_matching(course: str):
    """The ids of the exams whose course id contains ``course`` (exams are few: a subquery is cheap)."""
    return select(Exam.id).where(course_condition(Exam.context_id, course))


@dataclass
class ListPage:
    rows: list
    next_cursor: int | None
    previous_cursor: int | None


def id_page(dbsession, query, id_column, *, after: int | None, before: int | None, limit: int) -> ListPage:
    """One page of ``query`` (a select of rows) newest first by ``id_column``, after or before a cursor."""
    if before is not None:
        rows = list(dbsession.execute(query.where(id_column > before).order_by(id_column)
                                      .limit(limit + 1)).scalars().unique())
        more = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return ListPage(rows, next_cursor=_id(rows[-1]) if rows else None,
                        previous_cursor=_id(rows[0]) if rows and more else None)
    if after is not None:
        query = query.where(id_column < after)
    rows = list(dbsession.execute(query.order_by(id_column.desc()).limit(limit + 1)).scalars().unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return ListPage(rows, next_cursor=_id(rows[-1]) if rows and more else None,
                    previous_cursor=_id(rows[0]) if rows and after is not None else None)


def _id(row) -> int:
    return row.id


def page_links(request, resource, page: ListPage, params: dict) -> dict:
    """The first, previous and next pages' URLs (or ``None``) with the same filters."""
    keep = {k: v for k, v in params.items() if v not in (None, "") and k not in ("after", "before")}
    if keep.get("limit") == DEFAULT_LIMIT:
        keep.pop("limit")
    return {
        "next": admin_url(request, resource, query={**keep, "after": page.next_cursor}) if page.next_cursor else None,
        "previous": (admin_url(request, resource, query={**keep, "before": page.previous_cursor})
                     if page.previous_cursor else None),
        "first": (admin_url(request, resource, query=keep or None)
                  if (params.get("after") or params.get("before")) else None),
    }
