"""pylti1p3 playing the proctoring tool, wired to a WebTest app.

pylti1p3 knows no Proctoring Services message types; ``ProctoringMessageLaunch`` teaches it
``LtiStartProctoring`` and ``LtiEndAssessment`` (and nothing else): every other check (state,
nonce, registration, signature against the platform's JWKS, deployment) is pylti1p3's own.
"""

from __future__ import annotations

from pylti1p3.cookie import CookieService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.message_validators import get_validators
from pylti1p3.message_validators.abstract import MessageValidatorAbstract
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from pylti1p3.tool_config import ToolConfDict

from ...lti_tool import path_of

MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"


class ToolRequest(Request):
    def __init__(self, params: dict, session: dict):
        self._params = params
        self._session = session

    @property
    def session(self):
        return self._session

    def is_secure(self) -> bool:
        return False

    def get_param(self, key: str):
        return self._params.get(key)


class ToolCookies(CookieService):
    def __init__(self):
        self.cookies: dict[str, str] = {}

    def get_cookie(self, name):
        return self.cookies.get(self._cookie_prefix + "-" + name)

    def set_cookie(self, name, value, exp=3600):
        self.cookies[self._cookie_prefix + "-" + name] = value


class CapturedRedirect(Redirect):
    def __init__(self, location: str):
        self.location = location

    def do_redirect(self):
        return self.location

    def do_js_redirect(self):
        return self.location

    def set_redirect_url(self, location):
        self.location = location

    def get_redirect_url(self):
        return self.location


class ToolLogin(OIDCLogin):
    def get_redirect(self, url):
        return CapturedRedirect(url)


class StartProctoringValidator(MessageValidatorAbstract):
    def can_validate(self, jwt_body) -> bool:
        return jwt_body.get(MESSAGE_TYPE) == "LtiStartProctoring"

    def validate(self, jwt_body) -> bool:
        self.run_common_validators(jwt_body)
        for claim in ("attempt_number", "start_assessment_url", "session_data"):
            if not jwt_body.get(AP + claim):
                raise LtiException(f"Missing {claim} claim")
        return True


class EndAssessmentValidator(MessageValidatorAbstract):
    def can_validate(self, jwt_body) -> bool:
        return jwt_body.get(MESSAGE_TYPE) == "LtiEndAssessment"

    def validate(self, jwt_body) -> bool:
        self.run_common_validators(jwt_body)
        if not jwt_body.get(AP + "attempt_number"):
            raise LtiException("Missing attempt_number claim")
        return True


class ProctoringMessageLaunch(MessageLaunch):
    def _get_request_param(self, key):
        return self._request.get_param(key)

    def validate_message(self):
        message_type = self._get_jwt_body().get(MESSAGE_TYPE)
        validators = [v for v in get_validators() + [StartProctoringValidator(), EndAssessmentValidator()]
                      if v.can_validate(self._get_jwt_body())]
        if len(validators) != 1:
            raise LtiException(f"Unrecognized message type {message_type!r}")
        validators[0].validate(self._get_jwt_body())
        return self


class WebTestRequests:
    """Just enough of ``requests.Session`` for pylti1p3 to fetch the platform's JWKS from the app."""

    def __init__(self, testapp):
        self.testapp = testapp
        self.fetched: list[str] = []

    def get(self, url, **_kw):
        self.fetched.append(url)
        return _JsonResponse(self.testapp.get(path_of(url), headers={"Accept": "application/json"}))


class _JsonResponse:
    def __init__(self, response):
        self.text = response.text
        self._json = response.json

    def json(self):
        return self._json


class PyltiTool:
    """One tool registration in pylti1p3, keeping its session and cookies between login and launch."""

    def __init__(self, testapp, *, issuer: str, client_id: str, deployment_id: str):
        self.config = ToolConfDict({issuer: [{
            "default": True, "client_id": client_id,
            "auth_login_url": f"{issuer}/lti/authorize", "auth_token_url": f"{issuer}/lti/token",
            "key_set_url": f"{issuer}/lti/jwks", "key_set": None, "deployment_ids": [deployment_id],
        }]})
        self.session: dict = {}
        self.cookies = ToolCookies()
        self.requests = WebTestRequests(testapp)

    def login(self, login_params: dict, launch_url: str) -> str:
        """The tool's OIDC login: the URL of the authentication request at the platform."""
        request = ToolRequest(login_params, self.session)
        login = ToolLogin(request, self.config, SessionService(request), self.cookies)
        return login.redirect(launch_url)

    def launch(self, form: dict) -> dict:
        """Validate the platform's id_token post; the launch claims."""
        request = ToolRequest(form, self.session)
        launch = ProctoringMessageLaunch(request, self.config, SessionService(request), self.cookies,
                                         requests_session=self.requests)
        return launch.get_launch_data()
