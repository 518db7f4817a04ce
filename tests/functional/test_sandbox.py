"""The sandbox vendor: its review backend, and the whole flow through its LTI tool over real HTTP.

The end-to-end tests serve proctorhub, the sandbox tool and a stand-in LMS page each with waitress
on 127.0.0.1, and drive one learner's browser (``requests`` with cookies) through launch, login,
id_token, "Start exam", LtiStartAssessment, the return to the LMS, the LtiEndAssessment launch
and the vendor's signed review. Nothing of proctorhub is mocked.
"""

from __future__ import annotations

import pytest
import requests
from proctorhub_sandbox.app import make_app
from proctorhub_sandbox.keys import ToolKey
from proctorhub_sandbox.settings import ToolSettings, registration
from sqlalchemy import func, select

from proctorhub import main
from proctorhub.lti.keys import new_key
from proctorhub.models import Attempt, KeyState, Review, ReviewComment

from .. import factories as f
from ..live import serve
from .sandbox_browser import Browser

SANDBOX = "/api/v1/reviews/sandbox"


def sandbox_payload(attempt_code, status="passed", **extra):
    payload = {"attempt_code": attempt_code, "status": status, "comments": [
        {"start": 3, "stop": 9, "duration": 6, "comment": "Phone on the desk", "status": "suspicious"}]}
    payload.update(extra)
    return payload


def post(testapp, payload, status=200, **sign):
    body, headers = f.signed("sandbox", payload, **sign)
    return testapp.post(SANDBOX, body, headers=headers, status=status).json


def stored(dbsession):
    dbsession.expire_all()
    return (dbsession.execute(select(func.count()).select_from(Review)).scalar_one(),
            dbsession.execute(select(func.count()).select_from(ReviewComment)).scalar_one())


def status_of(dbsession, attempt):
    dbsession.expire_all()
    return dbsession.get(Attempt, attempt.id).status


# -- the review backend ----------------------------------------------------------------------------


def test_passed_review_is_stored_and_verifies_the_attempt(testapp, dbsession):
    attempt = f.attempt(dbsession)
    answer = post(testapp, sandbox_payload(attempt.attempt_code))
    assert answer["status"] == "passed" and answer["vendor_status"] == "passed"
    assert answer["attempt"]["status"] == "verified"
    assert status_of(dbsession, attempt) == "verified"
    review = dbsession.execute(select(Review)).scalar_one()
    assert review.backend == "sandbox" and review.attempt_code == attempt.attempt_code
    comment = dbsession.execute(select(ReviewComment)).scalar_one()
    assert (comment.start, comment.stop, comment.duration, comment.comment, comment.status) == (
        3, 9, 6, "Phone on the desk", "suspicious")


@pytest.mark.parametrize(("status", "attempt_status"), [
    ("suspicious", "second_review_required"), ("violation", "second_review_required"), ("not_reviewed", "error")])
def test_only_passed_is_passing(testapp, dbsession, status, attempt_status):
    attempt = f.attempt(dbsession)
    assert post(testapp, sandbox_payload(attempt.attempt_code, status=status))["attempt"]["status"] == attempt_status
    assert status_of(dbsession, attempt) == attempt_status


def test_external_id_is_checked_case_insensitively(testapp, dbsession):
    attempt = f.attempt(dbsession, external_id="SBX-Record-7")
    post(testapp, sandbox_payload(attempt.attempt_code, external_id="sbx-record-7"))
    assert status_of(dbsession, attempt) == "verified"
    other = f.attempt(dbsession, external_id="SBX-Record-8", user_id="learner-2")
    error = post(testapp, sandbox_payload(other.attempt_code, external_id="SBX-Record-9"), status=409)["error"]
    assert error["code"] == "external_id_mismatch"
    assert status_of(dbsession, other) == "submitted" and stored(dbsession) == (1, 1)


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"status": "passed"}, 400, "invalid_payload"),
    ({"attempt_code": "   ", "status": "passed"}, 400, "invalid_payload"),
    ({"attempt_code": 12, "status": "passed"}, 400, "invalid_payload"),
    ({"attempt_code": "CODE", "status": "clean"}, 400, "bad_review_status"),
    ({"attempt_code": "CODE", "status": "passed", "external_id": 7.5}, 400, "invalid_payload"),
    ({"attempt_code": "CODE", "status": "passed", "comments": [{"start": 9, "stop": 3, "duration": 0,
                                                                "status": "x"}]}, 400, "invalid_payload"),
    ({"attempt_code": "no-such-attempt", "status": "passed"}, 404, "unknown_attempt"),
])
def test_bad_payloads_are_refused_and_store_nothing(testapp, dbsession, payload, status, code):
    attempt = f.attempt(dbsession)
    payload = {k: (attempt.attempt_code if v == "CODE" else v) for k, v in payload.items()}
    assert post(testapp, payload, status=status)["error"]["code"] == code
    assert stored(dbsession) == (0, 0) and status_of(dbsession, attempt) == "submitted"


def test_unsigned_or_wrongly_signed_reviews_are_refused(testapp, dbsession):
    attempt = f.attempt(dbsession)
    body, headers = f.signed("sandbox", sandbox_payload(attempt.attempt_code))
    del headers["X-Proctorhub-Signature"]
    assert testapp.post(SANDBOX, body, headers=headers, status=401).json["error"]["code"] == "missing_signature"
    post(testapp, sandbox_payload(attempt.attempt_code), status=401, secret=f.SECRETS["rest"])
    assert stored(dbsession) == (0, 0) and status_of(dbsession, attempt) == "submitted"


# -- the whole flow, over HTTP ---------------------------------------------------------------------


def _lms_page(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<h1>Back at the LMS</h1>"]


class Deferred:
    """A WSGI app set after its server is listening: the apps need their own URLs to be built."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def sandbox_key(tmp_path_factory):
    return ToolKey.load_or_create(tmp_path_factory.mktemp("sandbox") / "key.pem")


@pytest.fixture
def world(base_settings, dbengine, dbsession, sandbox_key, tmp_path, encryptor):
    """proctorhub, the sandbox tool registered with it, and an LMS page, all listening on 127.0.0.1."""
    platform_app, tool_app = Deferred(), Deferred()
    with serve(platform_app) as platform, serve(tool_app) as tool, serve(_lms_page, threads=2) as lms:
        platform_app.app = main({}, **{**base_settings, "proctorhub.issuer": platform})
        dbsession.add(new_key(KeyState.active, encryptor))
        dbsession.commit()
        config = f.configuration(dbsession, **registration(tool, name="Sandbox vendor",
                                                           deployment_id="deployment-1"))
        settings = ToolSettings(platform_url=platform, client_id=config.client_id, base_url=tool,
                                deployment_id=config.deployment_id, review_secret=f.SECRETS["sandbox"],
                                db_file=str(tmp_path / "sandbox.sqlite"))
        tool_app.app = make_app(settings, key=sandbox_key)
        yield World(platform, tool, lms, config, f.token(dbsession))
    platform_app.app.registry["dbengine"].dispose()


class World:
    def __init__(self, platform, tool, lms, config, lms_token):
        self.platform, self.tool, self.lms, self.config = platform, tool, lms, config
        self.headers = f.auth(lms_token)
        self.return_url = f"{lms}/courses/1/exams/final"

    def launch(self, message_type: str) -> dict:
        body = {"config_id": self.config.id, "message_type": message_type,
                "user": {"id": "learner-1", "role": "learner", "name": "Ada Learner", "email": "ada@example.edu"},
                "resource_link": {"id": "final-exam", "title": "Final exam"},
                "context": {"id": "course-1", "title": "Course 1"}, "attempt_number": 1,
                "return_url": self.return_url}
        answer = requests.post(f"{self.platform}/api/v1/launches", json=body, headers=self.headers, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def submit_attempt(self, code: str) -> dict:
        answer = requests.post(f"{self.platform}/api/v1/attempts/{code}/submit", headers=self.headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()


def attempt_row(dbsession, code):
    dbsession.expire_all()
    return dbsession.execute(select(Attempt).where(Attempt.attempt_code == code)).scalar_one()


def start_exam(world, browser, dbsession, *, uncheck=()) -> str:
    """LtiStartProctoring through the tool's "Start exam" to the LMS page; the attempt code."""
    launch = world.launch("LtiStartProctoring")
    code = launch["attempt"]["attempt_code"]
    authorize = browser.get(launch["launch_url"])  # platform entry → tool login → platform authorize
    assert authorize.status_code == 200 and authorize.url.startswith(f"{world.platform}/lti/authorize?")
    check = browser.submit(authorize)  # the id_token, posted to the tool
    assert check.status_code == 200 and check.url == f"{world.tool}/launch", check.text
    assert "Proctoring check" in check.text and "Ada Learner" in check.text
    assert attempt_row(dbsession, code).status == "ready_to_start"
    signed = browser.submit(check, uncheck=uncheck)  # "Start exam": the tool signs LtiStartAssessment
    assert signed.status_code == 200 and 'name="JWT"' in signed.text, signed.text
    landed = browser.submit(signed)  # posted to the platform, which sends the browser to the LMS
    assert landed.status_code == 200, landed.text
    assert landed.url == world.return_url and "Back at the LMS" in landed.text
    assert [r.status_code for r in landed.history] == [302]
    assert landed.history[0].url == f"{world.platform}/lti/start-assessment"
    # The tool's start page is single-use.
    again = browser.submit(check)
    assert again.status_code == 400 and again.headers["X-Sandbox-Error"] == "launch_used"
    return code


def test_whole_flow_start_exam_end_assessment_and_review(world, dbsession):
    browser = Browser()
    code = start_exam(world, browser, dbsession)
    attempt = attempt_row(dbsession, code)
    assert attempt.status == "started" and attempt.started_at is not None
    assert attempt.end_assessment_return is True
    assert attempt.verified_user == {"name": "Ada Learner", "email": "ada@example.edu"}

    # The LMS hears the learner finished; the tool asked to be launched again at the end.
    assert world.submit_attempt(code)["end_assessment_return"] is True
    end = world.launch("LtiEndAssessment")
    ended = browser.submit(browser.get(end["launch_url"]))
    assert ended.status_code == 200 and "Exam ended" in ended.text, ended.text

    result = browser.submit(ended, attempt_code=code, status="suspicious")
    assert result.status_code == 200 and "HTTP 200" in result.text, result.text
    attempt = attempt_row(dbsession, code)
    assert attempt.status == "second_review_required"
    review = dbsession.execute(select(Review)).scalar_one()
    assert (review.backend, review.status, review.attempt_code) == ("sandbox", "suspicious", code)
    comments = dbsession.execute(select(ReviewComment).order_by(ReviewComment.position)).scalars().all()
    assert [(c.start, c.stop, c.duration, c.comment, c.status) for c in comments] == [
        (10, 25, 15, "Looking away from the screen", "suspicious"), (60, 75, 15, "Second person in view", "violation")]


def test_without_end_assessment_return_the_vendor_reviews_from_its_own_page(world, dbsession):
    browser = Browser()
    code = start_exam(world, browser, dbsession, uncheck=("end_assessment_return",))
    assert attempt_row(dbsession, code).end_assessment_return is False
    answer = world.submit_attempt(code)
    assert answer["end_assessment_return"] is False and answer["attempt"]["status"] == "submitted"
    # No LtiEndAssessment is owed, so the platform refuses one.
    refused = requests.post(f"{world.platform}/api/v1/launches", headers=world.headers, timeout=30, json={
        "config_id": world.config.id, "message_type": "LtiEndAssessment",
        "user": {"id": "learner-1", "role": "learner"},
        "resource_link": {"id": "final-exam"}, "context": {"id": "course-1"}, "attempt_number": 1,
        "return_url": world.return_url})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "end_assessment_not_requested"

    home = browser.get(f"{world.tool}/")
    result = browser.submit(home, attempt_code=code, status="passed", comment_1="", comment_2="")
    assert result.status_code == 200 and 'id="attempt-status">verified<' in result.text, result.text
    assert attempt_row(dbsession, code).status == "verified"
    assert dbsession.execute(select(func.count()).select_from(ReviewComment)).scalar_one() == 0
