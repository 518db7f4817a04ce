"""LTI Dynamic Registration in a real headless Chromium: the admin pastes the sandbox tool's
registration URL, the page opens the tool in a window, the tool registers itself and posts
``org.imsglobal.lti.close``, the page closes that window and shows the outcome; the admin
approves the tool from its page."""

from __future__ import annotations

import pytest
from proctorhub_sandbox.app import make_app
from proctorhub_sandbox.keys import ToolKey
from proctorhub_sandbox.settings import ToolSettings
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from proctorhub import main
from proctorhub.models import ToolConfiguration

from ...live import serve
from ..test_sandbox import Deferred
from .conftest import staff_with_password
from .test_browser import browser, sign_in, wait_for  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def servers(base_settings, dbengine, tmp_path):
    platform_app, tool_app = Deferred(), Deferred()
    with serve(platform_app) as platform, serve(tool_app) as tool:
        platform_app.app = main({}, **{**base_settings, "proctorhub.issuer": platform})
        tool_app.app = make_app(ToolSettings(platform_url=platform, base_url=tool,
                                             db_file=str(tmp_path / "sandbox.sqlite")),
                                key=ToolKey.load_or_create(tmp_path / "key.pem"))
        yield platform, tool, tool_app.app.registry.tool
    platform_app.app.registry["dbengine"].dispose()


def test_the_admin_registers_the_sandbox_tool_in_a_window_and_approves_it(browser, servers, dbsession):  # noqa: F811
    platform, tool_url, tool = servers
    staff_with_password(dbsession, "admin@example.edu", role="admin")
    sign_in(browser, platform, "admin@example.edu")
    browser.get(f"{platform}/admin/configurations/")
    browser.find_element(By.LINK_TEXT, "Register a tool by its registration URL").click()
    browser.find_element(By.ID, "initiation_url").send_keys(f"{tool_url}/register")
    Select(browser.find_element(By.ID, "backend")).select_by_visible_text("sandbox")
    browser.find_element(By.CSS_SELECTOR, "#registration-form button[type=submit]").click()
    wait_for(browser, lambda driver: driver.find_elements(By.ID, "open-tool"))
    admin_window = browser.current_window_handle

    browser.find_element(By.ID, "open-tool").click()
    # The tool's window registers, posts org.imsglobal.lti.close, and is closed by the admin's page,
    # which then shows the registration completed.
    wait_for(browser, lambda driver: driver.find_elements(By.ID, "configuration-link"))
    assert browser.window_handles == [admin_window]
    assert "completed" in browser.find_element(By.TAG_NAME, "h1").text

    dbsession.expire_all()
    configuration = dbsession.execute(select(ToolConfiguration)).scalar_one()
    assert configuration.status == "pending" and tool.client().client_id == configuration.client_id

    browser.find_element(By.ID, "configuration-link").click()
    wait_for(browser, lambda driver: driver.find_elements(By.ID, "approval"))
    assert "LtiStartProctoring" in browser.find_element(By.ID, "approval").text
    browser.find_element(By.CSS_SELECTOR, "#approval .decisions button.btn:not(.danger)").click()
    wait_for(browser, lambda driver: not driver.find_elements(By.ID, "approval"))
    dbsession.expire_all()
    assert dbsession.get(ToolConfiguration, configuration.id).status == "active"
