"""Exception views: the only place error responses are made.

Programs get ``{"error": {...}}``; a browser asking for HTML gets a page carrying the same
status and code. API routes always answer JSON.
"""

from __future__ import annotations

import logging

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_last_attempt
from sqlalchemy.exc import DataError, IntegrityError

from . import BadRequest, Conflict, Forbidden, NotFound, ProctorhubError, Unauthenticated

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def raw_path(request) -> str:
    """The URL's path; as sent (WSGI's latin-1 text) when it is not valid UTF-8."""
    try:
        return request.path_info
    except UnicodeDecodeError:
        return request.environ.get("PATH_INFO", "")


def wants_html(request) -> bool:
    if raw_path(request).startswith("/api/"):
        return False
    # Services that programs call (the token endpoint, the ACS) answer JSON whatever they accept.
    if getattr(getattr(request, "context", None), "json_errors", False):
        return False
    best = request.accept.best_match(["application/json", "text/html"], default_match="application/json")
    return best == "text/html"


def render_error(error: ProctorhubError, request):
    if wants_html(request):
        # Staff pages keep the admin's layout and navigation around the error.
        admin = raw_path(request).startswith("/admin")
        template = "proctorhub:templates/admin/error.jinja2" if admin else "proctorhub:templates/error.jinja2"
        response = render_to_response(template, {"error": error, "nav": None}, request=request)
    else:
        # A fresh response: nothing the failed view had set (a cookie, a status, caching
        # headers) may ride along on the refusal.
        response = Response(json_body=error.as_json(), content_type="application/json")
    response.status_int = error.status
    if error.status == 401 and raw_path(request).startswith("/api/"):
        response.headers["WWW-Authenticate"] = 'Bearer realm="proctorhub"'
    return response


@exception_view_config(ProctorhubError)
def proctorhub_error(exc, request):
    return render_error(exc, request)


def _unauthenticated(request):
    signin = getattr(request.registry, "signin_route", None)
    if signin and wants_html(request):
        return HTTPFound(request.route_url(signin, _query={"next": request.path_qs}))
    message = getattr(request, "authentication_problem", None) or "sign in or send a bearer API token"
    return render_error(Unauthenticated(message), request)


def _nothing_here(request):
    return render_error(NotFound(f"nothing is at {raw_path(request)}"), request)


def _hides_existence(request) -> bool:
    return bool(getattr(getattr(request, "context", None), "hides_existence", False))


@forbidden_view_config()
def forbidden(exc, request):
    if request.identity is None:
        return _unauthenticated(request)
    context = request.context
    view_permission = getattr(context, "view_permission", None)
    if _hides_existence(request) and view_permission and not request.has_permission(view_permission, context):
        # Someone who may not see this item learns no more than if it did not exist.
        return _nothing_here(request)
    return render_error(
        Forbidden(f"your role may not {getattr(exc.result, 'permission', 'do this')} here",
                  details={"permission": str(getattr(exc.result, "permission", ""))}),
        request,
    )


@notfound_view_config()
def not_found(exc, request):
    if _hides_existence(request) and request.identity is None:
        # A stranger gets the same answer for a missing item as for one they may not see.
        return _unauthenticated(request)
    return _nothing_here(request)


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def bad_csrf(exc, request):
    # A form (or cookie-authenticated call) without this session's CSRF token: refused, nothing done.
    return render_error(
        Forbidden("the form's CSRF token is missing or does not match your session; reload the page and "
                  "send it again", code="bad_csrf_token"),
        request,
    )


@exception_view_config(HTTPException)
def http_exception(exc, request):
    if isinstance(exc, HTTPNotFound | HTTPForbidden):  # pragma: no cover - handled above
        raise exc
    if exc.status_int < 400:
        return exc
    code = HTTP_CODES.get(exc.status_int, "http_error")
    return render_error(ProctorhubError(exc.detail or exc.explanation, code=code, status=exc.status_int), request)


@exception_view_config(IntegrityError)
def lost_race(exc, request):
    # A lost unique-constraint race (see models.retry.flush_or_retry): pyramid_retry discards this
    # answer and runs the request again, unless this was its last attempt.
    if is_last_attempt(request):
        log.warning("integrity error after retries on %s %r: %s", request.method, raw_path(request), exc.orig)
    return render_error(
        Conflict("another request changed the same record at the same moment; send this one again",
                 code="concurrent_update"),
        request,
    )


@exception_view_config(DataError)
def value_out_of_range(exc, request):
    # The database refused a value the request's schema let through (a string longer than its
    # column, a number beyond its column's range, a NUL character on PostgreSQL). Schemas
    # should catch these first; this keeps any they miss a 400, with nothing written.
    log.warning("database refused a value on %s %r: %s", request.method, raw_path(request), exc.orig)
    return render_error(
        ProctorhubError("a value in the request is too long, out of range, or contains characters the "
                        "database cannot store", code="invalid_value", status=400),
        request,
    )


@exception_view_config(UnicodeDecodeError)  # also Pyramid's URLDecodeError, for the path
def undecodable_request(exc, request):
    # WebOb decodes the path, the query and form bodies lazily, wherever a view first reads them.
    return render_error(BadRequest("the URL or the form is not valid UTF-8 once its %-escapes are decoded"),
                        request)


@exception_view_config(Exception)
def unexpected_error(exc, request):
    log.exception("unexpected error on %s %r", request.method, raw_path(request))
    error = ProctorhubError("an unexpected error occurred; it has been logged", code="internal_error",
                            status=500)
    return render_error(error, request)


def includeme(config):
    pass
