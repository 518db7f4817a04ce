"""The tool's HTML pages. Every value is escaped; forms carry the session's CSRF token."""

from __future__ import annotations

import json
from html import escape

from . import claims as c
from .review import COMMENT_SLOTS, STATUSES

STYLE = """body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
.banner{background:#fff4d6;border:1px solid #e5c66b;padding:.4rem .8rem;font-size:.9rem}
fieldset{margin:1rem 0}label{display:block;margin:.4rem 0}input[type=number]{width:6rem}
pre{background:#f4f4f4;padding:.8rem;overflow:auto}.error{color:#a00}code{word-break:break-all}"""

DEFAULT_COMMENTS = [
    (10, 25, "Looking away from the screen", "suspicious"),
    (60, 75, "Second person in view", "violation"),
]


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · sandbox vendor'
            f"</title><style>{STYLE}</style></head><body>"
            '<p class="banner">proctorhub sandbox vendor: a local stand-in for a proctoring tool.</p>'
            f"<h1>{escape(title)}</h1>{body}</body></html>")


def hidden(name: str, value) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(str(value))}">'


def auto_post(action: str, fields: dict, label: str) -> str:
    inputs = "".join(hidden(name, value) for name, value in fields.items())
    return page(label, f'<form id="auto-post" method="post" action="{escape(action)}">{inputs}'
                       f'<noscript><p>JavaScript is off: press the button.</p></noscript>'
                       f'<button type="submit">{escape(label)}</button></form>'
                       '<script>document.getElementById("auto-post").submit();</script>')


def _who(claims: dict) -> str:
    name = claims.get("name") or claims.get("email") or claims["sub"]
    link = claims.get(c.RESOURCE_LINK, {})
    exam = link.get("title") or link.get("id")
    return (f"<p>Learner: <strong>{escape(str(name))}</strong><br>Exam: <strong>{escape(str(exam))}</strong>"
            f"<br>Attempt: {escape(str(claims.get(c.ATTEMPT_NUMBER)))}</p>")


def start_page(claims: dict, launch_id: str, csrf_token: str) -> str:
    body = (_who(claims)
            + "<p>Proctoring check… camera, microphone and identity look fine (this is a sandbox: nothing is "
              "recorded).</p>"
            + '<form method="post" action="start">' + hidden("csrf_token", csrf_token) + hidden("launch", launch_id)
            + '<label><input type="checkbox" name="end_assessment_return" value="true" checked> '
              "Ask the platform to launch me again when the exam ends (end_assessment_return)</label>"
            + '<button type="submit">Start exam</button></form>')
    return page("Proctoring check", body)


def review_form(csrf_token: str, *, attempt_code: str = "", external_id: str = "") -> str:
    statuses = "".join(f'<option value="{s}"{" selected" if s == "passed" else ""}>{s}</option>' for s in STATUSES)
    comments = ""
    for slot in range(1, COMMENT_SLOTS + 1):
        start, stop, text, status = DEFAULT_COMMENTS[slot - 1] if slot <= len(DEFAULT_COMMENTS) else (0, 0, "", "")
        comments += (f"<fieldset><legend>Incident {slot} (leave the comment empty to leave it out)</legend>"
                     f'<label>Comment <input name="comment_{slot}" value="{escape(text)}" size="40"></label>'
                     f'<label>From <input type="number" min="0" name="comment_{slot}_start" value="{start}"> to '
                     f'<input type="number" min="0" name="comment_{slot}_stop" value="{stop}"> seconds</label>'
                     f'<label>Status <input name="comment_{slot}_status" value="{escape(status)}"></label>'
                     "</fieldset>")
    return ('<form method="post" action="review">' + hidden("csrf_token", csrf_token)
            + f'<label>Attempt code <input name="attempt_code" value="{escape(attempt_code)}" size="40" required>'
              "</label>"
            + f'<label>Vendor record id (external_id, optional) <input name="external_id" '
              f'value="{escape(external_id)}"></label>'
            + f'<label>Review status <select name="status">{statuses}</select></label>'
            + comments + '<button type="submit">Post review to proctorhub</button></form>')


def end_page(claims: dict, csrf_token: str, attempt_code: str) -> str:
    note = "" if attempt_code else (
        "<p>The platform did not name the attempt code in the launch: paste the <code>attempt_code</code> the LMS "
        "got from <code>POST /api/v1/launches</code>.</p>")
    return page("Exam ended", _who(claims) + "<p>The proctoring session is over. As the vendor, post your review:</p>"
                + note + review_form(csrf_token, attempt_code=attempt_code))


def review_result(status: int, answer) -> str:
    outcome = ""
    if status == 200 and isinstance(answer, dict):
        attempt = answer.get("attempt") or {}
        outcome = (f"<p>Review stored as <strong>{escape(str(answer.get('status')))}</strong>; the attempt is now "
                   f'<strong id="attempt-status">{escape(str(attempt.get("status")))}</strong>.</p>')
    shown = json.dumps(answer, indent=2) if not isinstance(answer, str) else answer
    title = "Review posted" if status == 200 else "proctorhub refused the review"
    return page(title, f'<p>proctorhub answered <strong id="http-status">HTTP {status}</strong>.</p>{outcome}'
                       f"<pre>{escape(shown)}</pre>")


def error_page(status: int, code: str, message: str) -> str:
    return page("Refused", f'<p class="error">{escape(message)}</p><p>Check: <code id="error-code">{escape(code)}'
                           f"</code> (HTTP {status})</p>")


def registered(answer: dict) -> str:
    """The end of Dynamic Registration: say so, and ask the platform's window to close this one.
    The message carries nothing secret, so any opener may read it."""
    body = (f'<p id="registered">Registered with <code>{escape(answer["issuer"])}</code>: client_id '
            f'<code id="client-id">{escape(answer["client_id"])}</code>, deployment_id '
            f'<code id="deployment-id">{escape(answer["deployment_id"])}</code>.</p>'
            "<p>The platform's administrator approves the tool before its first launch.</p>"
            '<button type="button" id="close">Close</button>'
            "<script>(function () {var close = function () {(window.opener || window.parent).postMessage("
            '{subject: "org.imsglobal.lti.close"}, "*");};'
            'document.getElementById("close").addEventListener("click", close); close();}());</script>')
    return page("Registered", body)


def home(settings, client, kid: str, csrf_token: str) -> str:
    rows = [("Platform issuer", settings.issuer),
            ("client_id", client.client_id if client else "— (not registered yet)"),
            ("deployment_id", client.deployment_id if client else "—"),
            ("Registration (initiation) URL", settings.registration_url), ("OIDC login URL", settings.login_url),
            ("Launch / redirect URL", settings.launch_url), ("JWKS URL", settings.jwks_url), ("Key id", kid),
            ("Reviews go to", settings.review_url)]
    table = "".join(f"<tr><th>{escape(k)}</th><td><code>{escape(v)}</code></td></tr>" for k, v in rows)
    return page("Sandbox proctoring tool", f"<table>{table}</table><h2>Post a review by hand</h2>"
                + review_form(csrf_token))
