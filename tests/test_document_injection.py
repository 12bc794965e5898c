"""A corpus document carrying HTML, scripts and javascript: links, shown in Debian's chromium.

The document is built into a hashing index and served by a real `chatbot serve`. Whatever it
says must appear as text in the answer, the source boxes and the staff view: no dialog, no
script run, no navigation, no link. A screenshot goes to test-artifacts/document-injection.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from ui_helpers import ARTIFACTS, BROWSER_TESTS, CHATBOT, ROOT, browser, playwright_expect, serve  # noqa: F401 (browser: fixture)

TIMEOUT = 30_000  # ms
STAFF_NAME, STAFF_PASSWORD = "nurse", "a long enough password"

pytestmark = BROWSER_TESTS
expect = playwright_expect()

TITLE = 'Nosebleeds in children <img src=x onerror="window.__xss=5;alert(5)">'
PLANTED = ['<img src=x onerror="window.__xss=1;alert(1)">', "<script>window.__xss=2;alert(2)</script>",
           '<a href="javascript:window.__xss=3">click</a>', "[more](javascript:window.__xss=4)"]
BARE_URL = "www.nosebleed-help.example.org"
QUESTION = "What should I do about nosebleeds in children?"
DOCUMENT = f"""---
id: nosebleeds-children
title: {TITLE}
language: en
source: Test clinic
---
Nosebleeds in children are common and usually not serious. {PLANTED[0]}

Most nosebleeds in children start at the front of the nose, where small blood vessels break easily. {PLANTED[1]}

To stop nosebleeds in children, sit the child up, lean forward and pinch the soft part of the nose for ten minutes. {PLANTED[2]}

See a doctor when nosebleeds in children last longer than twenty minutes or happen very often. {PLANTED[3]}

Parents can read more about nosebleeds in children at {BARE_URL} on any day.
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> Iterator[str]:
    """`chatbot serve` (hashing model) over the seed corpus plus the hostile document."""
    work = tmp_path_factory.mktemp("injection")
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "nosebleeds-children.md").write_text(DOCUMENT, encoding="utf-8")
    where = ["--index", str(index), "--corpus", str(corpus), "--model", "hashing"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")} | {"HF_HUB_OFFLINE": "1"}
    built = subprocess.run([*CHATBOT, "build", *where], env=env, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    for server in serve(work, where):
        server.add_staff(STAFF_NAME, STAFF_PASSWORD)
        yield server.url


@pytest.fixture
def page(browser, url):
    """A fresh page on the chat window that records every dialog (and dismisses it)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.on("popup", lambda popup: popup.close())  # a link opening a new tab leaves this page alone
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    expect(page.locator("#question textarea")).to_be_editable(timeout=TIMEOUT)
    yield page
    ctx.close()


def ask_in_chat(page) -> None:
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#send").click()
    expect(page.locator("#chat")).to_contain_text("Here is what our sources say:", timeout=TIMEOUT)
    expect(page.locator('#chat [aria-busy="true"]')).to_have_count(0, timeout=TIMEOUT)
    titles = page.locator("#chat .thought-group .title")
    expect(titles.first).to_contain_text(TITLE)
    for n in range(titles.count()):
        titles.nth(n).click()
    expect(page.locator("#chat .thought-group .content")).to_have_count(titles.count())


def open_staff_view(page) -> str:
    """Log in to /staff and open the comparison tab; returns the staff page's address."""
    base = page.url.split("/staff")[0].rstrip("/")
    page.goto(base + "/staff/login", wait_until="load")
    page.locator("#name").fill(STAFF_NAME)
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#login-button").click()
    page.wait_for_load_state("load")
    page.get_by_role("tab", name="Compare languages").click()
    return page.url


def ask_in_staff_view(page) -> None:
    page.get_by_label("Question to compare").fill(QUESTION)
    page.get_by_role("button", name="Answer in both languages").click()
    expect(page.get_by_text("Berikut informasi dari sumber kami:")).to_be_visible(timeout=TIMEOUT)
    summaries = page.locator("details summary")
    expect(summaries.first).to_contain_text(TITLE)
    for n in range(summaries.count()):
        summaries.nth(n).click()


def click_links(page, where: str) -> int:
    """Click every link inside `where`; returns how many there were."""
    links = page.locator(f"{where} a:visible")
    count = links.count()
    for n in range(count):
        links.nth(n).click(timeout=5_000)
    page.wait_for_timeout(300)  # time for a javascript: handler or a navigation to happen
    return count


def assert_nothing_ran(page, start: str, where: str) -> None:
    assert page.dialogs == [], f"a dialog opened: {page.dialogs}"
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.url == start
    assert page.locator(f"{where} img[src='x']").count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('__xss'))") is False
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], hrefs
    region = page.locator(where).first
    for planted in [TITLE, *PLANTED]:
        expect(region).to_contain_text(planted)


BOT = '#chat [data-testid="bot"]'
STAFF = "details"


def test_planted_markup_stays_text_in_the_chat(page):
    start = page.url
    ask_in_chat(page)
    click_links(page, BOT)
    assert_nothing_ran(page, start, "#chat")
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "document-injection.png"))


def test_planted_markup_stays_text_in_the_staff_view(page):
    start = open_staff_view(page)
    ask_in_staff_view(page)
    click_links(page, ".prose")
    assert_nothing_ran(page, start, STAFF)
    page.screenshot(path=str(ARTIFACTS / "document-injection-staff.png"), full_page=True)


def test_an_address_in_a_document_is_not_a_link(page):
    ask_in_chat(page)
    expect(page.locator("#chat")).to_contain_text(BARE_URL)
    links = page.locator(f"{BOT} a").evaluate_all("links => links.map(a => a.outerHTML)")
    assert links == [], f"the source box renders links the document wrote: {links}"
    open_staff_view(page)
    ask_in_staff_view(page)
    links = page.locator(f"{STAFF} a").evaluate_all("links => links.map(a => a.outerHTML)")
    assert links == [], f"the staff view renders links the document wrote: {links}"
