"""The admin in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium).

One browser serves the whole module. Selenium is pointed at /usr/bin/chromedriver explicitly, so
Selenium Manager never downloads a driver or a browser. axe-core comes from the
``axe-selenium-python`` distribution on PyPI (the ``testing`` extra), which ships axe.min.js, so
nothing is fetched at test time. Screenshots go to ``artifacts/`` (ignored by git).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from proctorhub.models import Attempt, Delivery, Event, Review, WebhookEndpoint, utcnow

from ... import factories as f
from ...live import serve
from .conftest import PASSWORD, receive_review, staff_with_password

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1440, 900)
PHONE = (390, 844)
MANY_INCIDENTS = [{"start": s, "stop": s + d, "duration": d, "comment": f"Incident at {s}", "status": st}
                  for s, d, st in [(5, 1, "Suspicious"), (40, 300, "Rules Violation"), (42, 2, "Clean"),
                                   (900, 60, "Suspicious"), (1700, 5, "info"), (2400, 600, "Rules Violation")]]


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.TemporaryDirectory(prefix="proctorhub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1440,900", f"--user-data-dir={profile.name}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    profile.cleanup()


@pytest.fixture(scope="module")
def live(app):
    with serve(app, threads=4) as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh_browser(browser):
    browser.delete_all_cookies()
    viewport(browser, *DESKTOP)
    yield


def viewport(browser, width, height):
    """The page's layout viewport, exactly (a window's size would include its borders)."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def wait_for(browser, condition):
    """Until ``condition(driver)`` holds; elements of a page being replaced are retried, not fatal."""
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
        condition)


def sign_in(browser, live, email):
    browser.get(f"{live}/admin/sign-in")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # Wait for the redirect to land, or a later get() could be overtaken by it.
    wait_for(browser, lambda driver: "/admin/sign-in" not in driver.current_url
                                     and driver.find_elements(By.CSS_SELECTOR, "table.queue, .card.muted"))


def page_ready(browser, url):
    browser.get(url)
    wait_for(browser, lambda driver: driver.execute_script("return document.readyState") == "complete")


def test_review_flow_in_chromium(browser, live, testapp, dbsession):
    staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    review = receive_review(testapp, dbsession, backend="softwaresecure", status="Suspicious",
                            external_id="SSI-RECORD-1", time_limit_mins=5)
    receive_review(testapp, dbsession, status="passed", user_id="learner-2", user_name="Grace Learner")
    receive_review(testapp, dbsession, status="violation", user_id="learner-3", user_name="Alan Learner")
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(browser, live, "rev-a@example.edu")
    assert browser.current_url.endswith("/admin/reviews/")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert len(rows) == 3
    assert "second review" in rows[0].text
    # times are named UTC, and the viewer's local time is added where JavaScript runs
    # (in the queue's compact rows, as the time's title)
    assert "UTC" in rows[0].text
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, 'time.utc[title^="Your time"]'))

    browser.find_element(By.CSS_SELECTOR, f'a.open[href*="/admin/reviews/{review.id}?"]').click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, "time.utc + .time-local"))
    marks = browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect.mark")
    assert len(marks) == 3
    assert {m.get_attribute("class") for m in marks} == {"mark violation", "mark suspicious"}
    assert all(mark.size["width"] > 0 for mark in marks)

    browser.find_element(By.CSS_SELECTOR, 'input[name=status][value="violation"]').click()
    browser.find_element(By.ID, "note").send_keys("Second person in the room at 1:40")
    browser.find_element(By.CSS_SELECTOR, "#second-review button[value=stay]").click()
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".flash"))
    assert "Second review saved" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    # SoftwareSecure passes violations: the attempt is verified by the staff decision
    assert "verified" in browser.find_element(By.CSS_SELECTOR, ".attempt-status").text
    dbsession.expire_all()
    assert dbsession.get(Attempt, review.attempt_id).status == "verified"
    assert dbsession.get(Review, review.id).note == "Second person in the room at 1:40"


def test_reviewer_cannot_open_another_course_and_a_refused_form_keeps_what_was_typed(browser, live, testapp,
                                                                                       dbsession):
    staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    mine = receive_review(testapp, dbsession, course="course-A", status="suspicious")
    other = receive_review(testapp, dbsession, course="course-B", status="suspicious", user_id="learner-9")
    sign_in(browser, live, "rev-a@example.edu")
    browser.get(f"{live}/admin/reviews/{other.id}")
    assert "404" in browser.find_element(By.TAG_NAME, "h1").text  # as for a review that does not exist
    # the error page keeps the admin's navigation
    assert browser.find_elements(By.CSS_SELECTOR, "header nav a[href$='/admin/reviews/']")

    browser.get(f"{live}/admin/reviews/{mine.id}")
    browser.execute_script("document.querySelector('#second-review input[name=csrf_token]').remove()")
    browser.find_element(By.CSS_SELECTOR, 'input[name=status][value="passed"]').click()
    browser.find_element(By.ID, "note").send_keys("typed before the token expired")
    browser.find_element(By.CSS_SELECTOR, "#second-review button[value=stay]").click()
    # the review again, the refusal at the top, what was typed kept
    wait_for(browser, lambda driver: "CSRF" in driver.find_element(By.ID, "problem").text)
    assert browser.find_element(By.ID, "note").get_attribute("value") == "typed before the token expired"
    assert browser.find_element(By.CSS_SELECTOR, 'input[name=status][value="passed"]').is_selected()
    dbsession.expire_all()
    stored = dbsession.execute(select(Review).where(Review.id == mine.id)).scalar_one()
    assert stored.reviewer_id is None and stored.status == "suspicious"


def _press(browser, keys, counter):
    """Send keys to whatever has the focus, as a person would; count the keystrokes (a chord is one)."""
    actions = ActionChains(browser)
    for key in keys:
        if isinstance(key, tuple):  # a chord: (modifier, key)
            actions.key_down(key[0]).send_keys(key[1]).key_up(key[0])
        else:
            actions.send_keys(key)
        counter.append(key)
    actions.perform()


def test_a_reviewer_clears_five_reviews_with_the_keyboard_alone(browser, live, testapp, dbsession):
    staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    reviews = [receive_review(testapp, dbsession, status="violation", user_id=f"learner-{i}",
                              user_name=f"Learner {i}") for i in range(5)]
    receive_review(testapp, dbsession, status="passed", user_id="learner-ok")
    sign_in(browser, live, "rev-a@example.edu")
    page_ready(browser, f"{live}/admin/reviews/?bucket=needs_decision")
    opening = []
    _press(browser, ["j", "o"], opening)  # the first row, opened
    wait_for(browser, lambda driver: driver.find_elements(By.ID, "second-review"))
    per_decision = []
    for index in range(5):
        wait_for(browser, lambda driver: driver.execute_script("return document.readyState") == "complete"
                 and driver.find_elements(By.ID, "second-review"))
        here = browser.current_url
        keys = []
        _press(browser, ["2"], keys)  # violation; the focus moves to the note
        note = f"seen on camera {index}"
        ActionChains(browser).send_keys(note).perform()
        _press(browser, [(Keys.CONTROL, Keys.ENTER)], keys)  # save and next
        wait_for(browser, lambda driver, here=here: driver.current_url != here)
        per_decision.append(len(keys))
    assert per_decision == [2] * 5 and max(per_decision) <= 4 and len(opening) == 2
    assert "last review in this queue" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    dbsession.expire_all()
    decided = dbsession.execute(select(Review).where(Review.id.in_([r.id for r in reviews]))).scalars().all()
    assert {r.note for r in decided} == {f"seen on camera {i}" for i in range(5)}
    assert all(r.reviewer_id is not None and r.status == "violation" for r in decided)


def test_the_queue_shows_25_rows_and_the_decision_sits_beside_the_timeline(browser, live, testapp, dbsession):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    exam = f.exam(dbsession, context_id="course-A", time_limit_mins=60)
    for i in range(30):
        receive_review(testapp, dbsession, status="suspicious", exam_row=exam, user_id=f"learner-{i:02d}",
                       user_name=f"Learner number {i}", user_email=f"learner{i}@example.edu")
    review = receive_review(testapp, dbsession, status="suspicious", comments=MANY_INCIDENTS, user_id="x-1",
                            time_limit_mins=60)
    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(browser, live, "admin@example.edu")
    page_ready(browser, f"{live}/admin/reviews/")
    visible = browser.execute_script(
        "return [...document.querySelectorAll('table.queue tbody tr')]"
        ".filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length")
    layout = browser.execute_script(
        "return [...document.querySelectorAll('header, h1, form.filters, .tabs, table.queue tr')]"
        ".slice(0, 8).map(e => e.tagName + ':' + Math.round(e.getBoundingClientRect().top) + '+' +"
        " Math.round(e.getBoundingClientRect().height))")
    browser.save_screenshot(str(ARTIFACTS / "admin-queue.png"))
    assert visible >= 25, layout
    browser.save_screenshot(str(ARTIFACTS / "admin-queue.png"))

    page_ready(browser, f"{live}/admin/reviews/{review.id}")
    decide = browser.find_element(By.CSS_SELECTOR, "section.decide").rect
    timeline = browser.find_element(By.CSS_SELECTOR, "svg.timeline").rect
    assert decide["x"] > timeline["x"] + timeline["width"] - 1 and decide["y"] < 400
    browser.save_screenshot(str(ARTIFACTS / "admin-review.png"))
    # every mark is a link a keyboard reaches, named for a screen reader
    links = browser.find_elements(By.CSS_SELECTOR, "svg.timeline a")
    assert len(links) == 6 and all(link.get_attribute("aria-label").startswith("Incident ") for link in links)
    assert not browser.find_elements(By.CSS_SELECTOR, "svg.timeline[role=img]")
    # clicking a mark (even a one-second one) selects its incident and the timeline stays in view
    browser.execute_script("window.scrollTo(0, 0)")
    browser.find_element(By.CSS_SELECTOR, "svg.timeline a[href='#incident-1'] rect.hit").click()
    top = browser.execute_script("return document.querySelector('svg.timeline').getBoundingClientRect().top")
    assert 0 <= top < 900
    assert "selected" in browser.find_element(By.ID, "incident-1").get_attribute("class")
    # the decision panel stays in view while the page scrolls
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    panel_top = browser.execute_script("return document.querySelector('section.decide').getBoundingClientRect().top")
    assert 0 <= panel_top < 100


def _every_admin_page(live, testapp, dbsession):
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    review = receive_review(testapp, dbsession, status="suspicious", comments=MANY_INCIDENTS,
                            user_name="A learner with a rather long name", time_limit_mins=60,
                            user_email="a.very.long.email.address.for.layout@example-university.edu")
    receive_review(testapp, dbsession, course="course-v1:SomeUniversity+LongCourseName+2026_Spring",
                   status="not_reviewed", user_id="learner-with-a-long-identifier-0000000001")
    configuration = f.configuration(dbsession)
    webhook = _a_receiver_sending_a_delivery(dbsession)
    pages = ["/admin/reviews/", "/admin/reviews/?bucket=needs_decision&sort=severity",
             f"/admin/reviews/{review.id}", f"/admin/reviews/{review.id}?raw=1",
             "/admin/attempts/", f"/admin/attempts/{review.attempt_code}", "/admin/exams/",
             f"/admin/exams/{review.exam_id}", "/admin/configurations/", "/admin/configurations/new",
             f"/admin/configurations/{configuration.id}", "/admin/backends/", "/admin/lms/", "/admin/lms/default",
             "/admin/lms/default/deliveries/", f"/admin/lms/default/webhooks/{webhook}", "/admin/no-such-page"]
    return pages


def _a_receiver_sending_a_delivery(dbsession) -> int:
    """A receiver of the lms `default` with two deliveries: one failed, one a worker is sending right now."""
    attempt = f.attempt(dbsession)
    endpoint = WebhookEndpoint(lms_id=f.lms(dbsession).id, url="https://hooks.lms.example.edu/proctorhub",
                               events=["*"], description="", secret="x", enabled=True)
    events = [Event(kind="review.received", attempt_id=attempt.id, attempt_code=attempt.attempt_code, payload={})
              for _ in range(2)]
    dbsession.add_all([endpoint, *events])
    dbsession.flush()
    lease = utcnow() + dt.timedelta(minutes=10)
    dbsession.add_all([
        Delivery(event_id=events[0].id, endpoint_id=endpoint.id, attempt_id=attempt.id, kind=events[0].kind,
                 body="{}", status="failed", tries=7, last_status=500),
        Delivery(event_id=events[1].id, endpoint_id=endpoint.id, attempt_id=attempt.id, kind=events[1].kind,
                 body="{}", status="pending", next_try_at=lease, leased_until=lease)])
    dbsession.commit()
    return endpoint.id


def test_no_admin_page_scrolls_sideways_on_a_phone(browser, live, testapp, dbsession):
    pages = _every_admin_page(live, testapp, dbsession)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(f"{live}/admin/sign-in")
    viewport(browser, *PHONE)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    sign_in(browser, live, "admin@example.edu")
    wide = {}
    for path in pages:
        page_ready(browser, f"{live}{path}")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
        if path.startswith("/admin/reviews/") and path[-1].isdigit():
            browser.save_screenshot(str(ARTIFACTS / "admin-review-phone.png"))
            # on a narrow screen the decision comes right after the summary
            order = browser.execute_script(
                "const s = document.querySelector('section.summary').getBoundingClientRect();"
                "const d = document.querySelector('section.decide').getBoundingClientRect();"
                "const t = document.querySelector('svg.timeline').getBoundingClientRect();"
                "return [s.bottom <= d.top + 1, d.bottom <= t.top + 1];")
            assert order == [True, True]
    assert wide == {}


def test_axe_finds_no_serious_or_critical_violation_on_any_page(browser, live, testapp, dbsession):
    pages = _every_admin_page(live, testapp, dbsession)
    browser.get(f"{live}/admin/sign-in")
    axe = Axe(browser)
    found = {}
    for path in ["/admin/sign-in", *pages]:
        if path == "/admin/sign-in":
            page_ready(browser, f"{live}{path}")
        else:
            if path == pages[0]:
                sign_in(browser, live, "admin@example.edu")
            page_ready(browser, f"{live}{path}")
        axe.inject()
        results = axe.run()
        bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in bad]
    assert found == {}, "\n".join(f"{path}: {issues}" for path, issues in found.items())
