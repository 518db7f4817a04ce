"""The admin's resource tree (hybrid traversal under ``/admin``).

``/admin/lms/{slug}``, ``/admin/configurations/{id}``, ``/admin/registrations/{id}``, ``/admin/exams/{id}``,
``/admin/attempts/{code}``, ``/admin/reviews/{id}``, ``/admin/backends/``. Each resource wraps one row or
one collection, carries its ``__acl__``, and answers ``KeyError`` (404) for a malformed or unknown name.

Who may do what: admins everything; reviewers the reviews, attempts and exams of the courses
on their account (``course:<lms id>:<context_id>`` principals: a course is a context id within
one lms) and the list of backends; only admins
touch configurations and change exams.
"""

from __future__ import annotations

from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow
from pyramid.view import view_config
from sqlalchemy import select

from ..lms.service import find_lms, unknown_lms
from ..models import Attempt, Exam, Registration, Review, ToolConfiguration
from ..schemas import parse_row_id
from ..security import Permission, course_principal, role_principal

ADMIN = role_principal("admin")
REVIEWER = role_principal("reviewer")


def _int_id(name: str) -> int:
    row_id = parse_row_id(name)
    if row_id is None:
        raise KeyError(name)  # Pyramid's 404
    return row_id


class Resource:
    __name__ = ""
    __parent__ = None
    # No existence oracle: a signed-in user who may not see an item gets the 404 a missing one
    # gets, and a stranger gets the sign-in answer for missing items too (see errors.views).
    hides_existence = True

    def __init__(self, request, name: str = "", parent=None):
        self.request = request
        self.__name__ = name
        self.__parent__ = parent


class AdminRoot(Resource):
    __acl__ = [
        (Allow, ADMIN, ALL_PERMISSIONS),
        (Allow, REVIEWER, Permission.view_admin),
        DENY_ALL,
    ]

    children = {}

    def __getitem__(self, name: str):
        factory = self.children[name]  # KeyError: Pyramid's 404, or a view name such as "sign-in"
        return factory(self.request, name, self)


class Collection(Resource):
    """A folder of rows: ``__getitem__`` turns a name into a row resource, or raises ``KeyError``."""

    item_factory = None
    model = None  # rows named by their integer id, unless ``load`` says otherwise

    def load(self, name: str):
        return self.request.dbsession.get(self.model, _int_id(name))

    def __getitem__(self, name: str):
        row = self.load(name)
        if row is None:
            raise KeyError(name)
        return self.item_factory(self.request, name, self, row)


class Item(Resource):
    #: The permission that lets a user know the item exists; without it, the item is a 404
    #: (course-scoped items: a reviewer learns nothing of other courses' ids). None: a 403.
    view_permission = None

    def __init__(self, request, name, parent, row):
        super().__init__(request, name, parent)
        self.row = row


def _course_acl(exam, *permissions) -> list:
    """Admins, and reviewers of the exam's course (its lms and context id)."""
    return [(Allow, ADMIN, ALL_PERMISSIONS), (Allow, course_principal(exam.lms_id, exam.context_id), permissions),
            DENY_ALL]


# -- lmss (admins only), named by slug ------------------------------------------------------------------

class LmsResource(Item):
    """One lms. Its parts hang below it by name: ``children`` maps a name to a factory
    ``(request, name, parent)``, e.g. ``LmsResource.children["webhooks"] = WebhooksResource``."""

    __acl__ = [(Allow, ADMIN, ALL_PERMISSIONS), DENY_ALL]
    children: dict = {}

    def __getitem__(self, name: str):
        factory = self.children[name]  # KeyError: Pyramid's 404 (or a view name)
        return factory(self.request, name, self)


class LmssResource(Collection):
    __acl__ = [(Allow, ADMIN, ALL_PERMISSIONS), DENY_ALL]
    item_factory = LmsResource

    def load(self, name):
        return find_lms(self.request.dbsession, name)

    def __getitem__(self, name: str):
        lms = self.load(name)
        if lms is None:
            # Its own code, for everything below it too (/admin/lms/{slug}/webhooks/ ...).
            raise unknown_lms(name)
        return self.item_factory(self.request, name, self, lms)


# -- configurations (admins only: the root's ACL already denies everyone else) ----------------------

class ConfigurationResource(Item):
    __acl__ = [(Allow, ADMIN, ALL_PERMISSIONS), DENY_ALL]


class ConfigurationsResource(Collection):
    __acl__ = [(Allow, ADMIN, ALL_PERMISSIONS), DENY_ALL]
    item_factory = ConfigurationResource
    model = ToolConfiguration


# -- LTI Dynamic Registrations (admins only) --------------------------------------------------------

class RegistrationResource(Item):
    __acl__ = [(Allow, ADMIN, ALL_PERMISSIONS), DENY_ALL]


class RegistrationsResource(Collection):
    __acl__ = [(Allow, ADMIN, ALL_PERMISSIONS), DENY_ALL]
    item_factory = RegistrationResource
    model = Registration


# -- exams -------------------------------------------------------------------------------------------

class ExamResource(Item):
    view_permission = Permission.view_exam

    @property
    def __acl__(self):
        return _course_acl(self.row, Permission.view_exam)


class ExamsResource(Collection):
    __acl__ = [(Allow, REVIEWER, Permission.view_exam)]
    item_factory = ExamResource
    model = Exam


# -- attempts (named by attempt code) ------------------------------------------------------------------

class AttemptResource(Item):
    view_permission = Permission.view_attempt

    @property
    def __acl__(self):
        return _course_acl(self.row.exam, Permission.view_attempt)


class AttemptsResource(Collection):
    """Attempts by code; reviewers list their courses' only."""

    __acl__ = [(Allow, REVIEWER, Permission.view_attempt)]
    item_factory = AttemptResource

    def load(self, name):
        if not name or len(name) > 64:
            raise KeyError(name)
        return self.request.dbsession.execute(
            select(Attempt).where(Attempt.attempt_code == name)
        ).scalar_one_or_none()


# -- reviews -------------------------------------------------------------------------------------------

class ReviewResource(Item):
    view_permission = Permission.view_review

    @property
    def __acl__(self):
        return _course_acl(self.row.attempt.exam, Permission.view_review, Permission.decide_review)


class ReviewsResource(Collection):
    """The review queue; reviewers see only their courses' reviews in it."""

    __acl__ = [(Allow, REVIEWER, Permission.view_review)]
    item_factory = ReviewResource
    model = Review


# -- backends ------------------------------------------------------------------------------------------

class BackendsResource(Resource):
    __acl__ = [(Allow, REVIEWER, Permission.view_backends)]

    def __getitem__(self, name):
        raise KeyError(name)


AdminRoot.children = {
    "lms": LmssResource,
    "configurations": ConfigurationsResource,
    "registrations": RegistrationsResource,
    "exams": ExamsResource,
    "attempts": AttemptsResource,
    "reviews": ReviewsResource,
    "backends": BackendsResource,
}


def admin_root_factory(request) -> AdminRoot:
    return AdminRoot(request)


class admin_view(view_config):  # noqa: N801 - a decorator, named like the one it specialises
    """``view_config`` for a view of the tree: in hybrid traversal a view must name the route."""

    def __init__(self, **settings):
        super().__init__(route_name="admin", **settings)
