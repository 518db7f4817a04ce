"""The tool's HTTP side: JWKS, Dynamic Registration, third-party-initiated login, launch, start of
assessment, reviews."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

from pyramid.csrf import get_csrf_token
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config

from . import claims as c
from . import pages
from .errors import ToolError
from .platform import verify_id_token
from .registration import register
from .review import payload_from_form, send_review

#: How long a login (state and nonce in the cookie) may take to come back as a launch.
LOGIN_TTL_SECONDS = 600
#: Logins one browser may have open at once; older ones are dropped to keep the cookie small.
MAX_OPEN_LOGINS = 5
#: OIDC standard claims copied from the id_token into verified_user.
IDENTITY_CLAIMS = ("name", "given_name", "family_name", "middle_name", "email", "picture", "locale")


def html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, content_type="text/html", charset="utf-8")
    response.cache_control = "no-store"
    return response


def browser_id(request) -> str:
    if "bid" not in request.session:
        request.session["bid"] = secrets.token_urlsafe(16)
    return request.session["bid"]


@view_config(route_name="home", request_method="GET")
def home(request):
    tool = request.registry.tool
    try:
        client = tool.client()
    except ToolError:
        client = None
    return html(pages.home(tool.settings, client, tool.key.kid, get_csrf_token(request)))


@view_config(route_name="register", request_method="GET")
def registration(request):
    """The initiation URL of LTI Dynamic Registration: the platform's admin opens the tool here
    with ``openid_configuration`` and ``registration_token``; the tool registers itself, then its
    page asks the platform's window to close it (``org.imsglobal.lti.close``)."""
    tool = request.registry.tool
    answer = register(tool.settings, tool.store, request.GET.get("openid_configuration", ""),
                      request.GET.get("registration_token"))
    return html(pages.registered(answer))


@view_config(route_name="jwks", request_method="GET", renderer="json")
@view_config(route_name="well_known_jwks", request_method="GET", renderer="json")
def jwks(request):
    """The tool's public key set, which the platform uses to verify LtiStartAssessment."""
    return request.registry.tool.key.jwks()


@view_config(route_name="login", request_method=("GET", "POST"), require_csrf=False)
def login(request):
    """Third-party-initiated login: check who is asking, bind a state and nonce to this browser's
    cookie, and send the browser to the platform's OIDC authorization endpoint."""
    settings = request.registry.tool.settings
    client = request.registry.tool.client()
    params = request.POST if request.method == "POST" else request.GET
    if params.get("iss") != settings.issuer:
        raise ToolError("unknown_issuer", f"iss must be the platform this tool trusts ({settings.issuer})")
    login_hint = params.get("login_hint")
    if not login_hint:
        raise ToolError("missing_login_hint", "login_hint is missing")
    if params.get("target_link_uri") != settings.launch_url:
        raise ToolError("invalid_target_link_uri", f"target_link_uri must be this tool's {settings.launch_url}")
    if params.get("client_id") not in (None, client.client_id):
        raise ToolError("unknown_client_id", "client_id is not this tool's registration")
    if params.get("lti_deployment_id") not in (None, client.deployment_id):
        raise ToolError("invalid_deployment_id", "lti_deployment_id is not this tool's deployment")

    now = time.time()
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    logins = {s: v for s, v in request.session.get("logins", {}).items() if v["exp"] > now}
    logins = dict(sorted(logins.items(), key=lambda item: item[1]["exp"])[-(MAX_OPEN_LOGINS - 1):])
    logins[state] = {"nonce": nonce, "exp": now + LOGIN_TTL_SECONDS}
    request.session["logins"] = logins
    browser_id(request)

    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": client.client_id, "redirect_uri": settings.launch_url, "login_hint": login_hint,
             "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    response = HTTPFound(location=f"{settings.authorization_url}?{urlencode(query)}")
    response.cache_control = "no-store"
    return response


def _platform_refusal(params) -> None:
    if params.get("error"):
        raise ToolError("platform_refused", f"the platform refused the login: {params['error']}: "
                        f"{params.get('error_description', '')}")


@view_config(route_name="launch", request_method="GET")
def launch_error(request):
    """A platform may send an OIDC error back to the redirect URI as a query; an id_token only
    ever arrives as a form post (response_mode=form_post)."""
    _platform_refusal(request.GET)
    raise ToolError("missing_id_token", "the id_token must be form-posted to this URL (response_mode=form_post)",
                    status=405)


@view_config(route_name="launch", request_method="POST", require_csrf=False)
def launch(request):
    """The platform's form post of the id_token: verify it strictly, then show the learner the
    proctoring check (LtiStartProctoring) or the end of the exam (LtiEndAssessment)."""
    tool = request.registry.tool
    settings = tool.settings
    _platform_refusal(request.POST)
    token, state = request.POST.get("id_token"), request.POST.get("state")
    if not token:
        raise ToolError("missing_id_token", "the form post has no id_token")
    logins = dict(request.session.get("logins", {}))
    login = logins.pop(state, None) if state else None
    request.session["logins"] = logins
    if login is None or login["exp"] <= time.time():
        raise ToolError("state_mismatch", "this browser did not start a login with this state (or it expired); "
                        "start again from the platform")
    client = tool.client()
    claims = verify_id_token(token, keys=tool.platform_keys, issuer=settings.issuer, client_id=client.client_id,
                             deployment_id=client.deployment_id, nonce=login["nonce"],
                             launch_url=settings.launch_url, leeway=settings.leeway_seconds)
    # The cookie could be replayed with the same id_token; the nonce ledger cannot.
    if not tool.store.remember_nonce(claims["nonce"], claims["exp"] + settings.leeway_seconds):
        raise ToolError("replayed_nonce", "this id_token's nonce was accepted before")
    launch_id = secrets.token_urlsafe(32)
    tool.store.add_launch(launch_id, browser_id(request), claims)
    if claims[c.MESSAGE_TYPE] == c.START_PROCTORING:
        return html(pages.start_page(claims, launch_id, get_csrf_token(request)))
    custom = claims.get(c.CUSTOM)
    attempt_code = custom.get("attempt_code", "") if isinstance(custom, dict) else ""
    return html(pages.end_page(claims, get_csrf_token(request), str(attempt_code)))


def start_assessment_message(settings, client_id: str, claims: dict, *, end_assessment_return: bool) -> dict:
    """The LtiStartAssessment claims: what the platform issued, echoed, plus the tool's answers."""
    now = int(time.time())
    message = {
        "iss": client_id,
        "aud": claims["iss"],
        "iat": now,
        "exp": now + settings.message_ttl_seconds,
        "nonce": secrets.token_urlsafe(32),
        "jti": secrets.token_urlsafe(16),
        c.MESSAGE_TYPE: c.START_ASSESSMENT,
        c.VERSION: c.LTI_VERSION,
        c.DEPLOYMENT_ID: claims[c.DEPLOYMENT_ID],
        c.RESOURCE_LINK: claims[c.RESOURCE_LINK],
        c.ATTEMPT_NUMBER: claims[c.ATTEMPT_NUMBER],
        c.SESSION_DATA: claims[c.SESSION_DATA],
        c.END_ASSESSMENT_RETURN: end_assessment_return,
        c.VERIFIED_USER: {name: claims[name] for name in IDENTITY_CLAIMS if name in claims},
    }
    return message


@view_config(route_name="start", request_method="POST")
def start(request):
    """The learner pressed "Start exam": sign LtiStartAssessment and post it to the platform."""
    tool = request.registry.tool
    launch_id = request.POST.get("launch") or ""
    record = tool.store.get_launch(launch_id)
    if record is None:
        raise ToolError("unknown_launch", "this launch is unknown or has expired; start again from the platform")
    if not secrets.compare_digest(record["browser_id"], request.session.get("bid", "")):
        raise ToolError("browser_mismatch", "this launch was opened in another browser")
    claims = record["claims"]
    if claims[c.MESSAGE_TYPE] != c.START_PROCTORING:
        raise ToolError("not_a_start_launch", "only an LtiStartProctoring launch can start an exam")
    if not tool.store.use_launch(launch_id):
        raise ToolError("launch_used", "this exam was started already from this launch")
    message = start_assessment_message(tool.settings, tool.client().client_id, claims,
                                       end_assessment_return=request.POST.get("end_assessment_return") == "true")
    return html(pages.auto_post(claims[c.START_ASSESSMENT_URL], {"JWT": tool.key.sign(message)},
                                "Continue to the exam"))


@view_config(route_name="review", request_method="POST")
def post_review(request):
    """Post the review from the form to proctorhub, signed with the shared secret; show its answer."""
    settings = request.registry.tool.settings
    if not settings.review_secret:
        raise ToolError("no_review_secret", "the tool was started without --review-secret", status=500)
    status, answer = send_review(settings.review_url, settings.review_secret, payload_from_form(request.POST))
    return html(pages.review_result(status, answer), status=200 if status == 200 else 502)


@exception_view_config(ToolError)
def tool_error(exc, request):
    response = html(pages.error_page(exc.status, exc.code, exc.message), status=exc.status)
    response.headers["X-Sandbox-Error"] = exc.code
    return response


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def bad_csrf(exc, request):
    return tool_error(ToolError("bad_csrf_token", "the form's CSRF token does not match this browser's session; "
                                "reload the page", status=403), request)
