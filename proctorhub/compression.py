"""gzip for HTML and JSON responses (a tween), for clients that ask for it.

Compressed: ``text/html`` and ``application/json`` bodies of at least ``MIN_BYTES``, not already
encoded, for a request that accepts gzip. Pages that carry a secret (the CSRF token) and echo
what a request sent could let a cross-site attacker guess the secret from compressed sizes
(BREACH): so a browser's request is compressed only when it did not come from another site
(``Sec-Fetch-Site`` of ``same-origin``, ``same-site`` or ``none``), while programs (no cookie)
always get it. Every answer that could be compressed says ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

MIN_BYTES = 1024
TYPES = frozenset({"text/html", "application/json"})
SAFE_FETCH_SITES = frozenset({"same-origin", "same-site", "none"})
LEVEL = 6


def _may_compress(request) -> bool:
    # No Accept-Encoding means "anything" to RFC 9110, but plain is what such clients expect.
    if "Accept-Encoding" not in request.headers or not request.accept_encoding.acceptable_offers(["gzip"]):
        return False
    if "Cookie" not in request.headers:
        return True
    return request.headers.get("Sec-Fetch-Site", "") in SAFE_FETCH_SITES


def gzip_tween_factory(handler, registry):
    def gzip_tween(request):
        response = handler(request)
        if response.content_type not in TYPES or response.content_encoding or request.method == "HEAD":
            return response
        response.vary = tuple(dict.fromkeys((*(response.vary or ()), "Accept-Encoding")))
        if response.status_int in (204, 304) or not _may_compress(request):
            return response
        body = response.body
        if len(body) < MIN_BYTES:
            return response
        response.encode_content("gzip", lazy=False)
        return response

    return gzip_tween


def includeme(config):
    config.add_tween("proctorhub.compression.gzip_tween_factory")
