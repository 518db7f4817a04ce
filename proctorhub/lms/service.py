"""Lmss (tenants): creating, finding and naming them, for the CLI, the admin and the LMS API."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..errors import BadRequest, Conflict, InvalidPayload, NotFound
from ..models import ApiToken, Lms
from ..models.lms import slug_from_name, slug_problem


@dataclass(frozen=True)
class LmsRef:
    """The lms a request acts within: its row id and its slug."""

    id: int
    slug: str


def unknown_lms(slug: str) -> NotFound:
    return NotFound(f"no lms has the slug {slug!r}", code="unknown_lms", details={"lms": slug})


def find_lms(dbsession, slug: str) -> Lms | None:
    if slug_problem(slug):
        return None  # a slug that cannot exist is not looked up
    return dbsession.execute(select(Lms).where(Lms.slug == slug)).scalar_one_or_none()


def get_lms(dbsession, slug: str) -> Lms:
    """The lms with this slug; 404 ``unknown_lms`` otherwise."""
    lms = find_lms(dbsession, slug)
    if lms is None:
        raise unknown_lms(slug)
    return lms


def list_lmss(dbsession) -> list[Lms]:
    return list(dbsession.execute(select(Lms).order_by(Lms.slug)).scalars())


def only_lms(dbsession) -> Lms | None:
    """The one lms when exactly one exists (a caller need not name it then), else None."""
    rows = dbsession.execute(select(Lms).order_by(Lms.id).limit(2)).scalars().all()
    return rows[0] if len(rows) == 1 else None


def create_lms(dbsession, name: str, slug: str | None = None) -> Lms:
    """A new lms; its slug is made from ``name`` when not given.

    400 ``invalid_payload`` for a bad name or slug, 409 ``lms_exists`` for a slug in use."""
    name = (name or "").strip()
    if not name or len(name) > Lms.__table__.c.name.type.length:
        raise InvalidPayload("an lms needs a name of 1 to 200 characters",
                             details={"fields": {"name": "1 to 200 characters"}})
    if slug is None or slug == "":
        slug = slug_from_name(name)
    problem = slug_problem(slug)
    if problem:
        raise InvalidPayload(f"{slug!r} cannot be an lms slug: {problem}", details={"fields": {"slug": problem}})
    taken = dbsession.execute(select(Lms.id).where(func.lower(Lms.slug) == slug)).first()
    if taken:
        raise Conflict(f"an lms with the slug {slug!r} exists already", code="lms_exists", details={"lms": slug})
    lms = Lms(name=name, slug=slug)
    dbsession.add(lms)
    dbsession.flush()
    return lms


def tokens_of(dbsession, lms: Lms) -> list[ApiToken]:
    return list(dbsession.execute(select(ApiToken).where(ApiToken.lms_id == lms.id).order_by(ApiToken.id)).scalars())


def lms_of_request(request) -> LmsRef:
    """The lms an LMS API call acts within (``request.lms``).

    An ``lms`` token acts within its own lms and cannot name another. An admin token names the
    lms with the ``lms`` query parameter (``?lms=SLUG``), which may be left out while only one lms
    exists: an admin acting for an LMS sees exactly what that LMS's token would."""
    identity = request.identity
    if identity is not None and identity.role == "lms":
        if identity.lms_id is None:
            # Tokens are made with their lms, and the tenant migration gave old ones `default`.
            raise BadRequest("this lms token belongs to no lms; create a new one with --lms", code="token_without_lms")
        return LmsRef(identity.lms_id, identity.lms_slug)
    slug = request.GET.get("lms")
    if slug:
        lms = get_lms(request.dbsession, slug)
    else:
        lms = only_lms(request.dbsession)
        if lms is None:
            raise BadRequest("name the lms this call acts for with ?lms=SLUG (an admin token belongs to none)",
                             code="lms_required")
    return LmsRef(lms.id, lms.slug)
