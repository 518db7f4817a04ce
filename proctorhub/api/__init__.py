"""The LMS API under ``/api/v1`` (bearer token with the ``lms`` role)."""

from pyramid.authorization import ALL_PERMISSIONS, Allow

from ..security import Permission, role_principal


class ApiRoot:
    """The context of every LMS API route: LMS tokens use it, admins may too."""

    __acl__ = [
        (Allow, role_principal("lms"), Permission.lms),
        (Allow, role_principal("admin"), ALL_PERMISSIONS),
    ]

    # Programs only: a bearer token authenticates, the staff session cookie never does (a cookie is
    # ambient, and these JSON endpoints carry no CSRF token).
    accepts_session_cookie = False

    def __init__(self, request):
        self.request = request


def includeme(config):
    config.add_route("api.attempts", "/attempts", factory=ApiRoot)
    config.add_route("api.attempt", "/attempts/{attempt_code}", factory=ApiRoot)
    config.add_route("api.attempt_submit", "/attempts/{attempt_code}/submit", factory=ApiRoot)
    # The LMS's side of an LTI launch and of the exam's end (the LTI steps live in lti/).
    config.add_route("api.launches", "/launches", factory=ApiRoot)
    config.add_route("api.end_assessment_return", "/end-assessment-return", factory=ApiRoot)
