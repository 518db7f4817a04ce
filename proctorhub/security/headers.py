"""Security headers on every response (one tween), so no view can forget them.

- ``Content-Security-Policy``: pages run only proctorhub's own scripts and the one inline script
  (the LTI auto-submitting form) carrying this response's nonce (``request.csp_nonce``); styles
  may be inline (the templates use style attributes, which cannot carry a nonce); no plugins, no
  ``<base>``. Other responses (JSON) allow nothing at all.
- Framing: refused (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``) unless the resource
  says ``framing_allowed = True``: the LTI browser steps, which an LMS may show in an iframe.
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` (a launch URL carries
  its token: it must not reach the tool as a Referer).
- ``Cache-Control: no-store`` on every response that did not choose its own caching: admin pages
  and API answers hold personal data, and the LTI and registration answers carry tokens or secrets
  (launch redirects, the id_token form, ACS access tokens and answers, registration tokens and
  client ids). This is the one place that says so: views set no ``Cache-Control`` of their own
  unless they may be cached (the JWKS, the OpenID configuration, static files).
- ``Strict-Transport-Security`` when ``proctorhub.secure_cookies`` is on (served over HTTPS).
"""

from __future__ import annotations

import secrets

HSTS = "max-age=31536000"
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; object-src 'none'; base-uri 'none'")
OTHER_POLICY = "default-src 'none'; base-uri 'none'"


def _framing_allowed(request) -> bool:
    return bool(getattr(getattr(request, "context", None), "framing_allowed", False))


def security_headers_tween_factory(handler, registry):
    hsts = registry.app_settings.secure_cookies

    def security_headers_tween(request):
        response = handler(request)
        headers = response.headers
        is_page = (response.content_type or "").startswith("text/html")
        policy = PAGE_POLICY.format(nonce=request.csp_nonce) if is_page else OTHER_POLICY
        if _framing_allowed(request):
            headers.pop("X-Frame-Options", None)
        else:
            policy += "; frame-ancestors 'none'"
            headers["X-Frame-Options"] = "DENY"
        headers["Content-Security-Policy"] = policy
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if hsts:
            headers["Strict-Transport-Security"] = HSTS
        return response

    return security_headers_tween


def includeme(config):
    # A fresh nonce per request, made only when a page (or the tween) asks for it.
    config.add_request_method(lambda request: secrets.token_urlsafe(18), "csp_nonce", reify=True)
    # No over/under: the tween sits above the exception views, so error pages get the headers too.
    config.add_tween("proctorhub.security.headers.security_headers_tween_factory")
