"""The admin in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium).

Selenium is pointed at /usr/bin/chromedriver explicitly, so Selenium Manager never downloads a
driver or a browser. Screenshots of the queue and a review page go to ``artifacts/``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from proctorhub.models import Attempt, Review

from ...live import serve
from .conftest import PASSWORD, receive_review, staff_with_password

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    profile = tempfile.TemporaryDirectory(prefix="proctorhub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1100", f"--user-data-dir={profile.name}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    profile.cleanup()


@pytest.fixture
def live(app):
    with serve(app, threads=4) as url:
        yield url


def wait_for(browser, condition):
    """Until ``condition(driver)`` holds; elements of a page being replaced are retried, not fatal."""
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
        condition)


def sign_in(browser, live, email):
    browser.get(f"{live}/admin/reviews/")
    assert "/admin/sign-in" in browser.current_url
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # Wait for the redirect to land, or a later get() could be overtaken by it.
    wait_for(browser, lambda driver: "/admin/sign-in" not in driver.current_url
                                     and driver.find_elements(By.CSS_SELECTOR, "table.queue, .card.muted"))


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
    browser.save_screenshot(str(ARTIFACTS / "admin-queue.png"))

    browser.find_element(By.CSS_SELECTOR, f'a.open[href*="/admin/reviews/{review.id}?"]').click()
    marks = browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect.mark")
    assert len(marks) == 3
    assert {m.get_attribute("class") for m in marks} == {"mark violation", "mark suspicious"}
    assert all(mark.size["width"] > 0 for mark in marks)
    browser.save_screenshot(str(ARTIFACTS / "admin-review.png"))

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


def test_reviewer_cannot_open_another_course_and_forms_need_csrf(browser, live, testapp, dbsession):
    staff_with_password(dbsession, "rev-a@example.edu", courses=["course-A"])
    mine = receive_review(testapp, dbsession, course="course-A", status="suspicious")
    other = receive_review(testapp, dbsession, course="course-B", status="suspicious", user_id="learner-9")
    sign_in(browser, live, "rev-a@example.edu")
    browser.get(f"{live}/admin/reviews/{other.id}")
    assert "403" in browser.find_element(By.TAG_NAME, "h1").text

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
