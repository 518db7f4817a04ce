"""The Pyramid 2 security policy: who is calling, and what the resource's ACL lets them do.

Programs authenticate with ``Authorization: Bearer <token>`` (only the token's hash is stored).
Staff in a browser authenticate with the signed session cookie (``staff_user_id`` in the session).
The resource decides which of the two it takes: ``accepts_api_tokens`` and
``accepts_session_cookie`` (both true unless the resource says otherwise), never the URL's path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISessionFactory
from pyramid.request import RequestLocalCache
from sqlalchemy import bindparam, select

from ..models import ApiToken, Lms, StaffCourse, StaffUser, digest
from .permissions import course_principal, role_principal

SESSION_KEY = "staff_user_id"
GENERATION_KEY = "staff_session_generation"
SIGNED_IN_AT_KEY = "staff_signed_in_at"


def accepts_session_cookie(request) -> bool:
    """Whether the staff session cookie may authenticate a request to this request's resource.
    Before traversal has found one (no context yet), it may not."""
    context = getattr(request, "context", None)
    return context is not None and getattr(context, "accepts_session_cookie", True)


@dataclass(frozen=True)
class Identity:
    kind: str  # "token" or "staff"
    id: int
    role: str
    name: str
    # The (lms id, context id) pairs of a reviewer's courses.
    courses: tuple[tuple[int, str], ...] = field(default_factory=tuple)
    staff_user_id: int | None = None
    email: str | None = None
    # An ``lms`` token's lms: every LMS API read and write is limited to it.
    lms_id: int | None = None
    lms_slug: str | None = None

    @property
    def userid(self) -> str:
        return f"{self.kind}:{self.id}"


token_t = ApiToken.__table__
staff_t = StaffUser.__table__
lms_t = Lms.__table__
course_t = StaffCourse.__table__

# Every API call runs this: a prepared Core query of the few columns an Identity needs.
TOKEN_QUERY = (
    select(token_t.c.id, token_t.c.role, token_t.c.name, staff_t.c.id.label("staff_user_id"), staff_t.c.email,
           staff_t.c.disabled_at, lms_t.c.id.label("lms_id"), lms_t.c.slug.label("lms_slug"))
    .select_from(token_t.outerjoin(staff_t, token_t.c.staff_user_id == staff_t.c.id)
                 .outerjoin(lms_t, token_t.c.lms_id == lms_t.c.id))
    .where(token_t.c.token_hash == bindparam("token_hash"), token_t.c.revoked_at.is_(None))
)
COURSES_QUERY = (select(course_t.c.lms_id, course_t.c.context_id)
                 .where(course_t.c.staff_user_id == bindparam("staff_user_id"))
                 .order_by(course_t.c.lms_id, course_t.c.context_id))


def _courses(request, staff_user_id: int) -> tuple[tuple[int, str], ...]:
    rows = request.dbsession.connection().execute(COURSES_QUERY, {"staff_user_id": staff_user_id})
    return tuple((row.lms_id, row.context_id) for row in rows)


def _token_identity(request, token: str) -> Identity | None:
    row = request.dbsession.connection().execute(TOKEN_QUERY, {"token_hash": digest(token)}).one_or_none()
    if row is None or row.disabled_at is not None:  # revoked, or its staff user disabled
        request.authentication_problem = "the bearer token is not recognised or has been revoked"
        return None
    return Identity(
        kind="token",
        id=row.id,
        role=row.role,
        name=row.name,
        # Only a token linked to a reviewer has courses: an LMS's call costs no second query.
        courses=_courses(request, row.staff_user_id) if row.staff_user_id and row.role == "reviewer" else (),
        staff_user_id=row.staff_user_id,
        email=row.email,
        lms_id=row.lms_id,
        lms_slug=row.lms_slug,
    )


def _staff_identity(request) -> Identity | None:
    if request.registry.queryUtility(ISessionFactory) is None:
        return None  # no session factory configured: token authentication only
    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None:
        return None
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    # An absolute lifetime: however active, a session ends this long after its sign-in.
    if not isinstance(signed_in_at, int | float) or \
            time.time() - signed_in_at > request.app_settings.session_max_age_seconds:
        return None
    staff = request.dbsession.get(StaffUser, user_id)
    # Sign-out, a password change and `staff disable` move the generation on: a cookie from
    # before (a copy kept by anyone) no longer counts.
    if staff is None or staff.disabled_at is not None or session.get(GENERATION_KEY) != staff.session_generation:
        return None
    return Identity(
        kind="staff",
        id=staff.id,
        role=staff.role,
        name=staff.name or staff.email,
        courses=_courses(request, staff.id) if staff.role == "reviewer" else (),
        staff_user_id=staff.id,
        email=staff.email,
    )


class SecurityPolicy:
    def __init__(self):
        self.acl = ACLHelper()
        # Pyramid asks for the identity several times a request (pyramid_tm's annotation, every
        # permission check); the token or session is looked up once.
        self._identities = RequestLocalCache(self._load_identity)

    def identity(self, request) -> Identity | None:
        return self._identities.get_or_create(request)

    def _load_identity(self, request) -> Identity | None:
        authorization = request.authorization
        context = getattr(request, "context", None)
        if authorization is not None:
            if not getattr(context, "accepts_api_tokens", True):
                return None
            scheme, token = authorization.authtype, authorization.params
            if str(scheme).lower() != "bearer" or not isinstance(token, str) or not token.strip():
                request.authentication_problem = "the Authorization header must read 'Bearer <token>'"
                return None
            return _token_identity(request, token.strip())
        if not accepts_session_cookie(request):
            return None
        return _staff_identity(request)

    def authenticated_userid(self, request) -> str | None:
        identity = request.identity
        return identity.userid if identity else None

    def principals(self, request) -> list[str]:
        principals = [Everyone]
        identity = request.identity
        if identity is not None:
            principals += [Authenticated, identity.userid, role_principal(identity.role)]
            principals += [course_principal(lms_id, context_id) for lms_id, context_id in identity.courses]
        return principals

    def permits(self, request, context, permission):
        return self.acl.permits(context, self.principals(request), permission)

    def remember(self, request, userid, *, generation: int = 0, **kw):
        request.session[SESSION_KEY] = userid
        request.session[GENERATION_KEY] = generation
        request.session[SIGNED_IN_AT_KEY] = int(time.time())
        self._identities.clear(request)
        return []

    def forget(self, request, **kw):
        for key in (SESSION_KEY, GENERATION_KEY, SIGNED_IN_AT_KEY):
            request.session.pop(key, None)
        self._identities.clear(request)
        return []
