"""``/admin/attempts/`` and ``/admin/exams/``: newest first, pages both ways, partial-match course filters."""

from __future__ import annotations

from ... import factories as f
from .conftest import HTML, receive_review, sign_in, staff_token, staff_with_password


def test_exams_page_past_200_with_partial_course_filter(testapp, dbsession, admin_token):
    h = f.auth(admin_token)
    exams = [f.exam(dbsession, context_id=f"course-v1:Uni+{'Bio' if i % 2 else 'Chem'}{i}+2026",
                    resource_link_id=f"link-{i}") for i in range(230)]
    ids, url, pages = [], "/admin/exams/?limit=100", 0
    while url:
        answer = testapp.get(url, headers=h).json
        ids += [e["id"] for e in answer["exams"]]
        url, pages = answer["next"], pages + 1
    assert pages == 3 and ids == sorted((e.id for e in exams), reverse=True)
    # previous from the last page
    last = testapp.get(f"/admin/exams/?limit=100&after={ids[199]}", headers=h).json
    back = testapp.get(last["previous"], headers=h).json
    assert [e["id"] for e in back["exams"]] == ids[100:200]
    # any part of the course id, any case
    bio = testapp.get("/admin/exams/?course=bIO&limit=200", headers=h).json["exams"]
    assert len(bio) == 115 and all("Bio" in e["context_id"] for e in bio)
    assert testapp.get("/admin/exams/?course=100_", headers=h).json["exams"] == []  # _ is no wildcard
    error = testapp.get("/admin/exams/?limit=0", headers=h, status=400).json["error"]
    assert "limit" in error["details"]["fields"]


def test_attempts_list_filters_search_and_reviewer_courses(testapp, dbsession, admin_token):
    a1 = receive_review(testapp, dbsession, course="course-v1:Uni+Bio1+2026", user_id="u-1", user_name="Ada One")
    a2 = receive_review(testapp, dbsession, course="course-v1:Uni+Chem1+2026", user_id="u-2", user_name="Bob Two",
                        status="passed")
    h = f.auth(admin_token)
    listed = testapp.get("/admin/attempts/", headers=h).json
    assert [a["attempt_code"] for a in listed["attempts"]] == [a2.attempt_code, a1.attempt_code]
    assert listed["attempts"][0]["review"]["status"] == "passed" and listed["next"] is None
    assert [a["user_id"] for a in testapp.get("/admin/attempts/?course=bio", headers=h).json["attempts"]] == ["u-1"]
    assert [a["user_id"] for a in testapp.get("/admin/attempts/?q=bob", headers=h).json["attempts"]] == ["u-2"]
    assert [a["user_id"] for a in testapp.get("/admin/attempts/?status=verified", headers=h).json["attempts"]] \
        == ["u-2"]
    testapp.get("/admin/attempts/?status=nonsense", headers=h, status=400)
    pages = testapp.get("/admin/attempts/?limit=1", headers=h).json
    second = testapp.get(pages["next"], headers=h).json
    assert [a["user_id"] for a in second["attempts"]] == ["u-1"] and second["previous"]
    # a reviewer lists only their courses' attempts
    reviewer = f.staff(dbsession, email="rev@example.edu", courses=["course-v1:Uni+Chem1+2026"])
    rh = f.auth(staff_token(dbsession, reviewer))
    assert [a["user_id"] for a in testapp.get("/admin/attempts/", headers=rh).json["attempts"]] == ["u-2"]
    assert testapp.get("/admin/attempts/?course=bio", headers=rh).json["attempts"] == []
    testapp.get("/admin/attempts/", headers=f.auth(f.token(dbsession, role="lms")), status=403)


def test_attempts_and_exams_pages_in_html(testapp, dbsession):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    review = receive_review(testapp, dbsession, course="course-v1:Uni+Bio1+2026", user_name="Ada One")
    sign_in(testapp, "admin@example.edu")
    page = testapp.get("/admin/attempts/?course=Bio", headers=HTML)
    assert f"/admin/attempts/{review.attempt_code}" in page.text and "Ada One" in page.text
    assert 'aria-current="page">Attempts' in page.text
    assert "No attempt matches" in testapp.get("/admin/attempts/?course=nothing", headers=HTML).text
    exams = testapp.get("/admin/exams/?course=uni%2Bbio", headers=HTML)
    assert f"/admin/exams/{review.exam_id}" in exams.text
