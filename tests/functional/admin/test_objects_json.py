"""Configurations, exams, attempts and backends in the JSON admin, with their permissions."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from proctorhub.models import AuditEntry, Exam, ToolConfiguration

from ... import factories as f
from .conftest import receive_review, staff_token

TOOL = {
    "name": "Sandbox proctoring",
    "deployment_id": "dep-1",
    "oidc_login_url": "https://tool.test/login",
    "launch_url": "https://tool.test/launch",
    "redirect_uris": ["https://tool.test/launch", "https://tool.test/launch?x=1"],
    "jwks_url": "https://tool.test/jwks",
    "acs_actions": ["pause", "terminate"],
    "backend": "rest",
}


def test_admin_creates_lists_shows_and_updates_a_configuration(testapp, dbsession, admin_token):
    h = f.auth(admin_token)
    created = testapp.post_json("/admin/configurations/", TOOL, headers=h, status=201).json
    assert created["redirect_uris"] == TOOL["redirect_uris"] and created["client_id"]
    setup = created["tool_setup"]
    assert setup["issuer"] == "http://platform.test" and setup["client_id"] == created["client_id"]
    assert setup["deployment_id"] == "dep-1"
    assert setup["authorization_endpoint"] == "http://platform.test/lti/authorize"
    assert setup["jwks_url"] == "http://platform.test/lti/jwks"
    assert setup["start_assessment_url"] == "http://platform.test/lti/start-assessment"
    listed = testapp.get("/admin/configurations/", headers=h).json["configurations"]
    assert [c["id"] for c in listed] == [created["id"]]
    updated = testapp.patch_json(f"/admin/configurations/{created['id']}",
                                 {"redirect_uris": ["https://tool.test/other"], "proctoring_enabled": False},
                                 headers=h).json
    assert updated["redirect_uris"] == ["https://tool.test/other"] and updated["proctoring_enabled"] is False
    assert updated["client_id"] == created["client_id"] and updated["name"] == TOOL["name"]
    shown = testapp.get(f"/admin/configurations/{created['id']}", headers=h).json
    assert [a["action"] for a in shown["audit"]] == ["update", "create"]
    assert shown["audit"][0]["changes"]["redirect_uris"] == [TOOL["redirect_uris"], ["https://tool.test/other"]]
    row = dbsession.execute(select(ToolConfiguration)).scalar_one()
    assert row.redirect_uris == ["https://tool.test/other"]
    # null does not put a default back: proctoring stays off, the deployment id stays the tool's.
    for field in ("proctoring_enabled", "deployment_id", "acs_severity_threshold"):
        error = testapp.patch_json(f"/admin/configurations/{created['id']}", {field: None, "name": "renamed"},
                                   headers=h, status=400).json["error"]
        assert error["code"] == "invalid_payload" and error["details"]["fields"] == {field: "may not be null"}
    dbsession.expire_all()
    row = dbsession.execute(select(ToolConfiguration)).scalar_one()
    assert (row.proctoring_enabled, row.deployment_id, row.name) == (False, "dep-1", TOOL["name"])


def test_configuration_validation(testapp, dbsession, admin_token):
    h = f.auth(admin_token)

    def fields(body):
        return testapp.post_json("/admin/configurations/", body, headers=h, status=400).json["error"]["details"][
            "fields"]

    assert "oidc_login_url" in fields({**TOOL, "oidc_login_url": "not a url"})
    assert "launch_url" in fields({**TOOL, "launch_url": "http://tool.example.com/launch"})
    assert "redirect_uris.0" in fields({**TOOL, "redirect_uris": ["https://tool.test/cb#frag"]})
    assert "redirect_uris" in fields({**TOOL, "redirect_uris": []})
    assert "jwks_url" in fields({k: v for k, v in TOOL.items() if k != "jwks_url"})
    assert "public_key_pem" in fields({**TOOL, "jwks_url": None, "public_key_pem": "nonsense"})
    assert "backend" in fields({**TOOL, "backend": "nosuchvendor"})
    assert "acs_actions.0" in fields({**TOOL, "acs_actions": ["explode"]})
    assert "surprise" in str(fields({**TOOL, "surprise": 1}))
    assert dbsession.execute(select(ToolConfiguration)).first() is None
    # a PEM key is a key source too; loopback http is allowed for a tool on this machine
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    body = {**TOOL, "jwks_url": None, "public_key_pem": pem, "oidc_login_url": "http://localhost:8000/login"}
    testapp.post_json("/admin/configurations/", body, headers=h, status=201)
    assert testapp.post_json("/admin/configurations/", TOOL, headers=h, status=409).json["error"][
        "code"] == "configuration_name_taken"


def test_only_admins_touch_configurations(testapp, dbsession, reviewer_a):
    conf = f.configuration(dbsession)
    h = f.auth(staff_token(dbsession, reviewer_a))
    testapp.get("/admin/configurations/", headers=h, status=403)
    testapp.get(f"/admin/configurations/{conf.id}", headers=h, status=403)
    testapp.post_json("/admin/configurations/", TOOL, headers=h, status=403)
    testapp.patch_json(f"/admin/configurations/{conf.id}", {"name": "mine now"}, headers=h, status=403)
    testapp.get("/admin/configurations/", status=401)
    dbsession.expire_all()
    assert dbsession.get(ToolConfiguration, conf.id).name != "mine now"


def test_unknown_configuration_is_404(testapp, dbsession, admin_token):
    testapp.get("/admin/configurations/12345", headers=f.auth(admin_token), status=404)


def test_exam_show_and_update_no_longer_proctored(testapp, dbsession, admin_token):
    review = receive_review(testapp, dbsession, status="passed")
    h = f.auth(admin_token)
    shown = testapp.get(f"/admin/exams/{review.exam_id}", headers=h).json
    assert shown["is_proctored"] is True and shown["attempts"][0]["attempt_code"] == review.attempt_code
    updated = testapp.patch_json(f"/admin/exams/{review.exam_id}", {"is_proctored": False}, headers=h).json
    assert updated["is_proctored"] is False and updated["name"] == "Final exam"
    [entry] = dbsession.execute(select(AuditEntry).where(AuditEntry.object_type == "exam")).scalars().all()
    assert entry.changes == {"is_proctored": [True, False]}
    # the vendor's next review for this exam is refused
    body, headers = f.signed("rest", f.rest_payload(review.attempt_code, status="violation"))
    assert testapp.post("/api/v1/reviews/rest", body, headers=headers, status=412).json["error"][
        "code"] == "exam_not_proctored"
    error = testapp.patch_json(f"/admin/exams/{review.exam_id}", {"time_limit_mins": "soon"}, headers=h, status=400)
    assert "time_limit_mins" in error.json["error"]["details"]["fields"]


def test_exam_update_clears_a_time_limit_with_null_and_requires_the_rest(testapp, dbsession, admin_token):
    exam = f.exam(dbsession, context_id="course-A", time_limit_mins=60)
    h = f.auth(admin_token)
    cleared = testapp.patch_json(f"/admin/exams/{exam.id}", {"time_limit_mins": None}, headers=h).json
    assert cleared["time_limit_mins"] is None
    dbsession.expire_all()
    assert dbsession.get(Exam, exam.id).time_limit_mins is None
    # A field that cannot be empty is not cleared by null: nothing is written.
    error = testapp.patch_json(f"/admin/exams/{exam.id}", {"name": None, "time_limit_mins": 30}, headers=h,
                               status=400).json["error"]
    assert error["code"] == "invalid_payload" and "name" in error["details"]["fields"]
    dbsession.expire_all()
    assert dbsession.get(Exam, exam.id).time_limit_mins is None


def test_reviewer_reads_own_course_exams_but_changes_none(testapp, dbsession, reviewer_a):
    mine = f.exam(dbsession, context_id="course-A")
    other = f.exam(dbsession, context_id="course-B")
    h = f.auth(staff_token(dbsession, reviewer_a))
    assert testapp.get(f"/admin/exams/{mine.id}", headers=h).json["id"] == mine.id
    testapp.get(f"/admin/exams/{other.id}", headers=h, status=404)  # as a missing one
    testapp.patch_json(f"/admin/exams/{mine.id}", {"is_proctored": False}, headers=h, status=403)
    assert [e["id"] for e in testapp.get("/admin/exams/", headers=h).json["exams"]] == [mine.id]
    dbsession.expire_all()
    assert dbsession.get(Exam, mine.id).is_proctored is True


def test_attempt_show_with_status_history(testapp, dbsession, admin_token, reviewer_a):
    review = receive_review(testapp, dbsession, status="suspicious")
    h = f.auth(admin_token)
    answer = testapp.get(f"/admin/attempts/{review.attempt_code}", headers=h).json
    assert answer["status"] == "second_review_required" and answer["review"]["status"] == "suspicious"
    assert [(s["from"], s["to"]) for s in answer["status_history"]] == [("submitted", "second_review_required")]
    testapp.get("/admin/attempts/no-such-code", headers=h, status=404)
    other = receive_review(testapp, dbsession, course="course-B", user_id="u9")
    rh = f.auth(staff_token(dbsession, reviewer_a))
    testapp.get(f"/admin/attempts/{review.attempt_code}", headers=rh, status=200)
    testapp.get(f"/admin/attempts/{other.attempt_code}", headers=rh, status=404)  # as a missing one


def test_backends_list_installed_plugins(testapp, dbsession, reviewer_a):
    answer = testapp.get("/admin/backends/", headers=f.auth(staff_token(dbsession, reviewer_a))).json
    by_name = {b["name"]: b for b in answer["backends"]}
    assert by_name["softwaresecure"]["passing_statuses"] == ["passed", "violation"]
    assert by_name["rest"]["passing_statuses"] == ["passed"] and by_name["rest"]["enabled"] is True
    testapp.get("/admin/backends/", status=401)


def test_admin_index_links(testapp, dbsession, admin_token, reviewer_a):
    links = testapp.get("/admin/", headers=f.auth(admin_token)).json["links"]
    assert links["configurations"].endswith("/admin/configurations/")
    assert links["registrations"].endswith("/admin/registrations/")
    links = testapp.get("/admin/", headers=f.auth(staff_token(dbsession, reviewer_a))).json["links"]
    assert "configurations" not in links and "registrations" not in links
    assert links["reviews"].endswith("/admin/reviews/")
