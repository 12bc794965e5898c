"""The staff area in Debian's chromium against a real `chatbot serve`: the patient page shows no staff content,
/staff needs a login, a patient's question reaches the gaps table masked, logout closes the area.

Screenshots go to test-artifacts/ (staff-login, staff-gaps, staff-compare-en, staff-compare-id).
"""

from __future__ import annotations

import re
import time

import pytest
from ui_helpers import BROWSER_TESTS, Server, browser, new_page, playwright_expect, shot, start_server  # noqa: F401 (browser: fixture)

TIMEOUT = 30_000  # ms
NAME, PASSWORD = "nurse.ani", "a long enough password"
PLANTED = {"name": "Budi Santoso", "phone": "0812-3456-7890", "nik": "3201234567890001"}
QUESTION = (f"Hi, my name is {PLANTED['name']}, NIK {PLANTED['nik']}, phone {PLANTED['phone']}. "
            "How is CMV transmitted?")

pytestmark = BROWSER_TESTS
expect = playwright_expect()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("staff-browser"))


@pytest.fixture
def page(browser):
    with new_page(browser) as p:
        yield p


def log_in(page, server: Server, password: str = PASSWORD) -> None:
    page.goto(server.url + "staff", wait_until="load")
    page.locator("#name").fill(NAME)
    page.locator("#password").fill(password)
    page.locator("#login-button").click()
    page.wait_for_load_state("load")


def wait_for(server: Server, **fields) -> dict:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for record in server.records():
            if fields.items() <= record.items():
                return record
        time.sleep(0.2)
    raise AssertionError(f"no record with {fields}: {server.records()}")


def test_without_an_account_staff_says_how_to_create_one(page, server):
    page.goto(server.url + "staff", wait_until="load")
    expect(page.locator("#login-message")).to_contain_text("No staff account exists yet")
    expect(page.locator("code")).to_have_text("chatbot staff add NAME")
    expect(page.locator("input")).to_have_count(0)
    server.add_staff(NAME, PASSWORD)


def test_patient_page_has_no_staff_content(page, server):
    page.goto(server.url, wait_until="load")
    expect(page.locator("#question textarea")).to_be_editable(timeout=TIMEOUT)
    expect(page.locator("#privacy-note")).to_contain_text("Your questions are kept for 90 days without personal details")
    body = page.locator("body").inner_text()
    for staff_text in ("Staff", "Content gaps", "Audit", "Answer in both languages", "Log out"):
        assert staff_text not in body, staff_text
    assert page.locator("table").count() == 0 and page.get_by_role("tab").count() == 0
    page.locator("#question textarea").fill("Apakah ada vaksin untuk CMV?")  # the privacy line follows the reply language
    page.locator("#send").click()
    expect(page.locator("#privacy-note")).to_contain_text("Pertanyaan Anda disimpan selama 90 hari tanpa data pribadi",
                                                          timeout=TIMEOUT)


def test_a_patients_question_reaches_the_staff_gaps_table_masked(page, server):
    page.goto(server.url, wait_until="load")
    expect(page.locator("#question textarea")).to_be_editable(timeout=TIMEOUT)
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#send").click()
    expect(page.locator("#chat")).to_contain_text("Here is what our sources say:", timeout=TIMEOUT)
    expect(page.locator('#chat [aria-busy="true"]')).to_have_count(0, timeout=TIMEOUT)
    page.get_by_role("button", name="Dislike", exact=True).last.click()
    why = page.locator("#why").first  # gradio puts the id on the group and on its inner box
    expect(why).to_be_visible(timeout=TIMEOUT)
    why.get_by_text("Wrong or unsafe").click()
    page.locator("#why-comment textarea").fill(f"Please call me back on {PLANTED['phone']}")
    shot(page, "patient-why")
    page.locator("#why-send").click()
    expect(why).to_be_hidden(timeout=TIMEOUT)
    record = wait_for(server, kind="feedback", liked=False, reason="wrong_or_unsafe")
    assert record["question"] == "Hi, my name is [NAME], NIK [NIK], phone [PHONE]. How is CMV transmitted?"
    assert record["comment"] == "Please call me back on [PHONE]"

    # /staff without a login: only the login form
    page.goto(server.url + "staff", wait_until="load")
    assert page.url.endswith("/staff/login")
    expect(page.locator("#login-form input")).to_have_count(2)
    expect(page.locator("#gaps-table")).to_have_count(0)
    shot(page, "staff-login")
    log_in(page, server, password="not the password")
    expect(page.locator("#login-message")).to_have_text("Wrong user name or password.")
    expect(page.locator("#gaps-table")).to_have_count(0)

    log_in(page, server)
    table = page.locator("#gaps-table")
    expect(table).to_contain_text("Hi, my name is [NAME], NIK [NIK], phone [PHONE]. How is CMV transmitted?", timeout=TIMEOUT)
    expect(table).to_contain_text("Wrong or unsafe")
    expect(table).to_contain_text("Please call me back on [PHONE]")
    expect(page.locator("#signed-in")).to_contain_text(f"Signed in as {NAME}")
    html = page.content()
    for value in PLANTED.values():
        assert value not in html, value
    shot(page, "staff-gaps")

    page.get_by_role("tab", name="Audit trail").click()
    audit = page.locator("#audit-table")
    expect(audit).to_contain_text("view_gaps", timeout=TIMEOUT)
    expect(audit).to_contain_text("login")

    page.locator("#logout").click()
    page.wait_for_load_state("load")
    expect(page.locator("#login-message")).to_have_text("You are logged out.")
    page.goto(server.url + "staff/", wait_until="load")
    assert page.url.endswith("/staff/login")
    expect(page.locator("#gaps-table")).to_have_count(0)


@pytest.mark.parametrize("locale,tab,button,name", [("en-US", "Compare languages", "Answer in both languages", "staff-compare-en"),
                                                     ("id-ID", "Bandingkan bahasa", "Jawab dalam kedua bahasa", "staff-compare-id")])
def test_staff_compare_both_languages(browser, server, locale, tab, button, name):
    ctx = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        log_in(page, server)
        page.get_by_role("tab", name=tab).click()
        page.get_by_role("button", name=button).click()
        expect(page.get_by_text("Here is what our sources say:")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text("Berikut informasi dari sumber kami:")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("details summary").first).to_contain_text(re.compile("Can CMV Cause Anemia and Thrombocytopenia"))
        shot(page, name)
    finally:
        ctx.close()
