"""gzip for HTML and JSON answers: for clients that accept it, never for a browser request from another site."""

from __future__ import annotations

import gzip
import json

from webob import Request

from .. import factories as f


def _get(testapp, url, **headers):
    # Straight through WSGI: WebTest would decompress the answer and drop its Content-Encoding.
    return Request.blank(url, headers=headers).get_response(testapp.app)


def test_json_and_html_are_gzipped_for_clients_that_ask(testapp, dbsession):
    token = f.token(dbsession, role="admin", name="gz")
    for i in range(30):
        f.exam(dbsession, context_id=f"course-{i}", resource_link_id=f"gz-{i}")
    plain = _get(testapp, "/admin/exams/", Authorization=f"Bearer {token}")
    assert plain.headers.get("Content-Encoding") is None and "Accept-Encoding" in plain.headers["Vary"]
    zipped = _get(testapp, "/admin/exams/", Authorization=f"Bearer {token}", **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.body)) == json.loads(plain.body)
    assert len(zipped.body) < len(plain.body) / 2
    # an error keeps its JSON shape, compressed or not
    missing = _get(testapp, "/admin/exams/999999", Authorization=f"Bearer {token}", **{"Accept-Encoding": "gzip"})
    body = gzip.decompress(missing.body) if missing.headers.get("Content-Encoding") == "gzip" else missing.body
    assert missing.status_int == 404 and json.loads(body)["error"]["code"] == "not_found"


def test_small_answers_and_other_types_stay_as_they_are(testapp):
    health = _get(testapp, "/", **{"Accept-Encoding": "gzip"})
    assert health.status_int == 200 and health.headers.get("Content-Encoding") is None
    css = _get(testapp, "/static/admin.css", **{"Accept-Encoding": "gzip"})
    assert css.status_int == 200 and css.headers.get("Content-Encoding") is None


def test_a_browser_request_from_another_site_is_not_compressed(testapp, dbsession):
    # BREACH: a page carrying the CSRF token, requested cross-site with the victim's cookie
    cross = _get(testapp, "/admin/sign-in", Accept="text/html", Cookie="x=1", **{"Accept-Encoding": "gzip",
                                                                             "Sec-Fetch-Site": "cross-site"})
    assert cross.headers.get("Content-Encoding") is None and b'name="csrf_token"' in cross.body
    same = _get(testapp, "/admin/sign-in", Accept="text/html", Cookie="x=1", **{"Accept-Encoding": "gzip",
                                                                            "Sec-Fetch-Site": "same-origin"})
    assert same.headers["Content-Encoding"] == "gzip" and b'name="csrf_token"' in gzip.decompress(same.body)
