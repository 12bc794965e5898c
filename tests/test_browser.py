"""The chat window in Debian's chromium, driven by Playwright, against a real `chatbot serve`.

Screenshots (desktop 1280x900 and phone 390x844, English and Indonesian) go to test-artifacts/.
"""

from __future__ import annotations

import time

import pytest
from ui_helpers import BROWSER_TESTS, Server, browser, playwright_expect, start_server  # noqa: F401 (browser: fixture)
from ui_helpers import shot as save_shot

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
ANSWER_TIMEOUT = 30_000  # ms

pytestmark = BROWSER_TESTS
expect = playwright_expect()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    yield from start_server(tmp_path_factory.mktemp("browser"))


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def open_(locale: str = "en-US", viewport: dict = DESKTOP):
        ctx = browser.new_context(locale=locale, viewport=viewport)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(server.url, wait_until="load")
        expect(page.locator("#question textarea")).to_be_editable(timeout=ANSWER_TIMEOUT)
        return page

    yield open_
    for ctx in contexts:
        ctx.close()


def ask(page, question: str, expected: str) -> None:
    """Type a question, send it, wait until the reply containing `expected` is complete."""
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()
    expect(page.locator("#chat")).to_contain_text(expected, timeout=ANSWER_TIMEOUT)
    expect(page.locator('#chat [aria-busy="true"]')).to_have_count(0, timeout=ANSWER_TIMEOUT)


def shot(page, name: str, full_page: bool = False) -> None:
    """Screenshot to test-artifacts/, page scrolled to the top (the chat keeps its own scroll position)."""
    save_shot(page, name, full_page=full_page, to_top=True)


def wait_for_record(server: Server, **fields) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in server.records():
            if fields.items() <= record.items():
                return record
        time.sleep(0.1)
    raise AssertionError(f"no record with {fields} in the store of {server.data_dir}: {server.records()}")


def open_first_source(page) -> None:
    box = page.locator("#chat .thought-group").last
    box.locator(".title").click()
    expect(box.locator(".content")).to_be_visible()


def test_english_answer_with_citations_and_source_boxes(open_page, server):
    page = open_page()
    ask(page, "How is CMV transmitted?", "Here is what our sources say:")
    reply = page.locator('#chat [data-testid="bot"]').first
    expect(reply).to_contain_text("[1]")
    expect(reply).to_contain_text("This is general health information, not a diagnosis.")
    title = page.locator("#chat .thought-group .title").first
    expect(title).to_have_text("Source [1] · Can CMV Cause Anemia and Thrombocytopenia? · How is CMV transmitted? · English")
    expect(page.locator("#chat .thought-group .content")).to_have_count(0)  # collapsed until opened
    open_first_source(page)
    expect(page.locator("#chat .thought-group .content").first).to_contain_text("bodily fluids")
    shot(page, "desktop-en")

    page.get_by_role("button", name="Like", exact=True).last.click()
    liked = wait_for_record(server, kind="feedback", liked=True, question="How is CMV transmitted?")
    assert liked["language"] == "en" and liked["chunk_ids"] and "[1]" in liked["answer"]
    page.get_by_role("button", name="Dislike", exact=True).last.click()
    wait_for_record(server, kind="feedback", liked=False, question="How is CMV transmitted?")


def test_indonesian_browser_gets_indonesian_window_and_answer(open_page, server):
    page = open_page(locale="id-ID")
    expect(page.locator("#send")).to_have_text("Kirim")
    expect(page.locator("#privacy-note")).to_contain_text("Pertanyaan Anda disimpan selama 90 hari tanpa data pribadi")
    ask(page, "Apakah ada vaksin untuk CMV?", "Berikut informasi dari sumber kami:")
    expect(page.locator("#chat .thought-group .title").first).to_contain_text(
        "Sumber [1] · Can CMV Cause Anemia and Thrombocytopenia? · Is there a vaccine for CMV? · Inggris")
    open_first_source(page)
    shot(page, "desktop-id")
    page.get_by_role("button", name="Suka", exact=True).last.click()
    record = wait_for_record(server, kind="feedback", liked=True, question="Apakah ada vaksin untuk CMV?")
    assert record["language"] == "id"


def test_language_selector_overrides_browser_locale(open_page):
    page = open_page()
    page.locator("#language").get_by_text("Bahasa Indonesia").click()
    expect(page.locator("#send")).to_have_text("Kirim")
    expect(page.locator("#heading")).to_contain_text("Pertanyaan kesehatan")
    ask(page, "How is CMV transmitted?", "Berikut informasi dari sumber kami:")
    page.locator("#language").get_by_text("Otomatis").click()
    expect(page.locator("#send")).to_have_text("Send")
    expect(page.locator("#language")).to_contain_text("Auto")


def test_urgent_message_stands_out_and_html_stays_inert(open_page):
    page = open_page()
    ask(page, '<img src=x onerror="window.__xss=1">My baby is not breathing and has a seizure',
        "This may be an emergency")
    urgent = page.locator('#chat [data-testid="bot"] .urgent').first
    expect(urgent).to_be_visible()
    assert urgent.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert page.locator("#chat img[src=x]").count() == 0
    assert page.evaluate("window.__xss") is None
    expect(page.locator('#chat [data-testid="user"]').last).to_contain_text('<img src=x onerror="window.__xss=1">')
    shot(page, "desktop-en-urgent")


def test_too_long_question_gets_a_friendly_message(open_page):
    page = open_page()
    ask(page, "CMV " * 600, "Your question is too long (2400 characters)")


@pytest.mark.parametrize("locale,question,expected,name", [
    ("en-US", "How is CMV transmitted?", "Here is what our sources say:", "phone-en"),
    ("id-ID", "Apakah ada vaksin untuk CMV?", "Berikut informasi dari sumber kami:", "phone-id"),
])
def test_phone_layout(open_page, locale, question, expected, name):
    page = open_page(locale=locale, viewport=PHONE)
    ask(page, question, expected)
    open_first_source(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    shot(page, name)
