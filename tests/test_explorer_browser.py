"""The decision explorer clicked through in headless Chromium (Debian's chromium and the system
chromedriver, driven by selenium), against the shim on a real HTTP server and the real OPA.

``make test`` installs chromium where it can (``make browser``). Set ``EXPLORER_SCREENSHOTS`` to a
directory to keep a screenshot of each panel.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import make_server

from service.api.explorer import load_examples
from service.opa.sidecar import free_port
from tests.conftest import fixed_clock

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def shim(opa_server, tmp_path_factory) -> Iterator[str]:
    """The shim with the explorer on, served over HTTP on a free loopback port."""
    from service.app import create_app

    log = tmp_path_factory.mktemp("explorer") / "decision-log.jsonl"
    app = create_app(
        {
            "OPA_URL": opa_server.url,
            "DECISION_LOG": str(log),
            "DEV_MODE": True,
            "POLICY_REVISION": opa_server.revision,
            "CLOCK": fixed_clock(),  # the findings and decisions of the test time, not of today
        }
    )
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        app.extensions["hipaa_gate"].log_sink.close()
        app.extensions["hipaa_gate"].opa.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    assert Path(CHROMIUM).exists(), "chromium is missing: make browser installs it"
    assert Path(CHROMEDRIVER).exists(), "chromedriver is missing: make browser installs it"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, timeout: float = 15):
    return WebDriverWait(driver, timeout).until(condition)


def shot(driver, name: str) -> None:
    directory = os.environ.get("EXPLORER_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(directory) / f"{name}.png"))


def codes(driver, table_id: str) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    return [row.get_attribute("data-code") for row in rows]


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def open_page(browser, shim: str) -> None:
    browser.get_log("browser")  # drop what earlier tests left (an expected 400, say)
    browser.get(f"{shim}/explorer")
    try:
        wait(browser, lambda d: len(Select(d.find_element(By.ID, "example-select")).options) > 1)
    except Exception:
        pytest.fail(f"the examples did not load; browser console: {browser.get_log('browser')}")


def test_pick_an_example_and_see_the_allow_with_its_basis(browser, shim):
    open_page(browser, shim)
    Select(browser.find_element(By.ID, "example-select")).select_by_value(
        "provider-handoff-treatment"
    )
    shown = json.loads(browser.find_element(By.ID, "request-json").get_attribute("value"))
    expected = {e["name"]: e for e in load_examples()}["provider-handoff-treatment"]
    assert shown == expected["request"]
    browser.find_element(By.ID, "decide-button").click()
    verdict = wait(browser, ec.visibility_of_element_located((By.ID, "verdict")))
    assert verdict.text == "ALLOW"
    assert "TREATMENT" in codes(browser, "basis-table")
    basis_text = browser.find_element(By.ID, "basis-table").text
    assert "45 CFR 164.506(c)" in basis_text  # the citation is shown beside the code
    assert "✓" in browser.find_element(By.ID, "expectation").text
    permitted = browser.find_element(By.ID, "minimum-necessary").text
    assert "problem_list" in permitted
    assert "medications" in permitted
    shot(browser, "decide-allow")
    assert console_errors(browser) == []


def test_a_deny_shows_reasons_requirements_and_citations(browser, shim):
    open_page(browser, shim)
    Select(browser.find_element(By.ID, "example-select")).select_by_value("mfa-missing")
    browser.find_element(By.ID, "decide-button").click()
    verdict = wait(browser, ec.visibility_of_element_located((By.ID, "verdict")))
    assert verdict.text == "DENY"
    assert codes(browser, "reasons-table") == ["MFA_REQUIRED"]
    assert "45 CFR 164.312(d)" in browser.find_element(By.ID, "reasons-table").text
    assert codes(browser, "requirements-table") == ["COMPLETE_MFA"]
    shot(browser, "decide-deny")


def test_a_written_request_with_a_typo_shows_the_warning(browser, shim):
    open_page(browser, shim)
    body = {e["name"]: e for e in load_examples()}["provider-handoff-treatment"]["request"]
    body = json.loads(json.dumps(body))
    body["context"] = {"court_ordr": True}
    body["requester"]["roles"] = ["care_coordinater"]
    area = browser.find_element(By.ID, "request-json")
    browser.execute_script("arguments[0].value = arguments[1]", area, json.dumps(body))
    browser.find_element(By.ID, "decide-button").click()
    warnings = wait(browser, ec.visibility_of_element_located((By.ID, "warnings-list")))
    assert "court_ordr" in warnings.text
    assert "did you mean 'court_order'" in warnings.text
    assert "care_coordinater" in warnings.text
    assert browser.find_element(By.ID, "verdict").text == "DENY"
    assert "ROLE_NOT_PERMITTED" in codes(browser, "reasons-table")
    shot(browser, "decide-warnings")


def test_an_invalid_request_names_each_problem(browser, shim):
    open_page(browser, shim)
    area = browser.find_element(By.ID, "request-json")
    browser.execute_script(
        "arguments[0].value = arguments[1]", area, json.dumps({"purpose": "gossip"})
    )
    browser.find_element(By.ID, "decide-button").click()
    box = wait(browser, ec.visibility_of_element_located((By.ID, "error-box")))
    assert "invalid_request" in box.text
    assert "/purpose" in box.text
    assert "/requester" in box.text


def test_browse_the_state_law_matrix(browser, shim):
    open_page(browser, shim)
    browser.find_element(By.ID, "tab-states").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#states-table tbody tr[data-state]"))
    states = [
        row.get_attribute("data-state")
        for row in browser.find_elements(By.CSS_SELECTOR, "#states-table tbody tr")
    ]
    assert "CA" in states
    assert states == sorted(states)
    browser.find_element(By.CSS_SELECTOR, "button.state-link[data-state='CA']").click()
    wait(browser, ec.text_to_be_present_in_element((By.ID, "state-title"), "California (CA)"))
    detail = browser.find_element(By.ID, "state-categories").text
    assert "hiv" in detail
    assert "Cal." in detail  # citations of the California entries
    assert not browser.find_element(By.ID, "panel-decide").is_displayed()
    shot(browser, "state-laws")


def test_business_associate_findings(browser, shim):
    open_page(browser, shim)
    browser.find_element(By.ID, "tab-vendors").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#findings-table tbody tr[data-code]"))
    found = codes(browser, "findings-table")
    assert "BAA_EXPIRED" in found
    assert "Expired Vendor (example)" in browser.find_element(By.ID, "findings-table").text
    shot(browser, "vendors")


def test_breach_planner(browser, shim):
    open_page(browser, shim)
    browser.find_element(By.ID, "tab-breach").click()
    date = browser.find_element(By.ID, "breach-date")
    browser.execute_script("arguments[0].value = '2026-11-02'", date)
    affected = browser.find_element(By.ID, "breach-affected")
    affected.clear()
    affected.send_keys("CA:600, TX:3")
    browser.find_element(By.ID, "breach-button").click()
    earliest = wait(browser, ec.visibility_of_element_located((By.ID, "earliest-deadline")))
    assert "2026-12-02" in earliest.text  # California's 30 days from discovery
    table = browser.find_element(By.ID, "breach-deadlines").text
    assert "45 CFR 164.404(b)" in table
    assert "2027-01-01" in table  # HIPAA's 60 days
    shot(browser, "breach")
    assert console_errors(browser) == []
