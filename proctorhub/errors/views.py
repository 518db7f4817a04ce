"""Exception views: the only place error responses are made.

Programs get ``{"error": {...}}``; a browser asking for HTML gets a page carrying the same
status and code. API routes always answer JSON.
"""

from __future__ import annotations

import logging

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken, PredicateMismatch
from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_last_attempt
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DataError, IntegrityError

from ..models import faults
from . import (
    BadRequest,
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    ProctorhubError,
    Unauthenticated,
)

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
    response.headers.update(error.headers())
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


def _hidden_from_caller(request) -> bool:
    """The item is one that hides its existence, and the caller may not see it."""
    context = request.context
    view_permission = getattr(context, "view_permission", None)
    return bool(_hides_existence(request) and view_permission
                and not request.has_permission(view_permission, context))


def _hides_existence(request) -> bool:
    return bool(getattr(getattr(request, "context", None), "hides_existence", False))


@forbidden_view_config()
def forbidden(exc, request):
    if request.identity is None:
        return _unauthenticated(request)
    if _hidden_from_caller(request):
        # Someone who may not see this item learns no more than if it did not exist.
        return _nothing_here(request)
    return render_error(
        Forbidden(f"your role may not {getattr(exc.result, 'permission', 'do this')} here",
                  details={"permission": str(getattr(exc.result, "permission", ""))}),
        request,
    )


VIEW_METHODS = "proctorhub.view_methods"


def _view_methods(registry) -> list[tuple]:
    """``(route name, context, view name, methods, media types)`` of every view, read once from
    the introspector; ``methods`` is None for a view that takes any method, ``media types`` (its
    ``accept`` predicate) None for one that answers any Accept."""
    known = registry.get(VIEW_METHODS)
    if known is None:
        known = []
        for entry in registry.introspector.get_category("views") or ():
            view = entry["introspectable"]
            methods = view["request_methods"]
            if isinstance(methods, str):
                methods = (methods,)
            if methods is not None:
                methods = frozenset(methods) | ({"HEAD"} if "GET" in methods else set())
            accept = view["accept"]
            if isinstance(accept, str):
                accept = (accept,)
            known.append((view["route_name"], view["context"], view["name"], methods,
                          None if accept is None else tuple(accept)))
        registry[VIEW_METHODS] = known
    return known


def _is_for(context_type, context) -> bool:
    if context_type is None:
        return True
    if isinstance(context_type, type):
        return isinstance(context, context_type)
    return context_type.providedBy(context)  # a zope interface


def _views_here(request):
    """``(methods, media types)`` of each view at this URL (its route, or its traversal context
    and view name)."""
    route = request.matched_route.name if request.matched_route is not None else None
    for route_name, context_type, name, methods, accept in _view_methods(request.registry):
        if route_name == route and name == request.view_name and _is_for(context_type, request.context):
            yield methods, accept


def allowed_methods(request) -> frozenset:
    """The methods some view answers at this URL; empty when one takes any method, or none is there."""
    allowed: set[str] = set()
    for methods, _ in _views_here(request):
        if methods is None:
            return frozenset()
        allowed |= methods
    return frozenset(allowed)


def offered_media_types(request) -> list[str]:
    """The media types the views here answer this request's method in; empty when one of them
    answers any Accept."""
    offered: list[str] = []
    for methods, accept in _views_here(request):
        if methods is None or request.method in methods:
            if accept is None:
                return []
            offered += [media_type for media_type in accept if media_type not in offered]
    return offered


def _method_not_allowed(request, allowed: frozenset):
    return render_error(MethodNotAllowed(request.method, allowed), request)


@notfound_view_config()
def not_found(exc, request):
    if _hides_existence(request) and request.identity is None:
        # A stranger gets the same answer for a missing item as for one they may not see.
        return _unauthenticated(request)
    if isinstance(exc, PredicateMismatch) and not _hidden_from_caller(request):
        # Something is here, but no view of it takes this method (405) or answers in a media
        # type this Accept allows (406); unless the caller may not see the item at all (then
        # it is not here for them).
        allowed = allowed_methods(request)
        if allowed and request.method not in allowed:
            return _method_not_allowed(request, allowed)
        offered = offered_media_types(request)
        if offered and not request.accept.acceptable_offers(offered):
            return render_error(NotAcceptable(
                f"this answers in {' or '.join(offered)}; the Accept header allows none of them",
                details={"offered": offered}), request)
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


@exception_view_config(sa_exc.DBAPIError)  # OperationalError, InterfaceError, invalidated connections
@exception_view_config(sa_exc.TimeoutError)  # no pooled connection free within pool_timeout
@exception_view_config(sa_exc.PendingRollbackError)
def database_unavailable(exc, request):
    if faults.is_lost_race(exc):
        # A serialization failure or deadlock that pyramid_retry's attempts did not get past.
        return lost_race(exc, request)
    if not faults.is_unavailable(exc):
        return unexpected_error(exc, request)
    retry_after = request.app_settings.database.retry_after
    faults.report_unavailable("database unavailable on %s %s: %s", request.method,
                              raw_path(request), faults.describe(exc))
    if request.environ.get(faults.COMMITTING):
        resend = faults.safe_to_resend(request)
        message = ("the database stopped answering while this request's changes were being committed: they "
                   "may or may not have been stored. " +
                   ("This request is safe to send again: it is stored once however often it is sent."
                    if resend else "Check whether it took effect before sending it again."))
        error = DatabaseUnavailable(message, retry_after=retry_after,
                                    details={"outcome": "unknown", "safe_to_resend": resend})
    else:
        error = DatabaseUnavailable(
            f"the database is unavailable or too slow; nothing was stored. Try again in {retry_after} s",
            retry_after=retry_after, details={"outcome": "not_stored", "safe_to_resend": True})
    return render_error(error, request)


@exception_view_config(UnicodeDecodeError)  # also Pyramid's URLDecodeError, for the path
def undecodable_request(exc, request):
    # WebOb decodes the path, the query and form bodies lazily, wherever a view first reads them.
    return render_error(BadRequest("the URL or the form is not valid UTF-8 once its %-escapes are decoded"),
                        request)


@exception_view_config(Exception)
def unexpected_error(exc, request):
    # The request id ties the traceback to the request's access-log line and to what the caller saw.
    log.exception("unexpected error on %s %r (request %s)", request.method, raw_path(request),
                  request.environ.get("proctorhub.request_id", "-"))
    error = ProctorhubError("an unexpected error occurred; it has been logged", code="internal_error",
                            status=500)
    return render_error(error, request)


def includeme(config):
    pass
