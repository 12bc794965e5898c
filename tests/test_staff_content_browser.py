"""The staff content pages in Debian's chromium against a real `chatbot serve` (real models) on a copy of
the seed corpus: upload a web page with site chrome and a PDF, preview, publish, and the patient page
answers from them without a restart; retire them and they stop being used; a reviewed English
translation of an Indonesian passage is shown to an English reader, labelled, with the original one
click away; change the passage and the translation is flagged and no longer shown; the worklist.

The tests of this module run in order on one server. Screenshots go to test-artifacts/ (staff-documents-
preview, staff-documents, staff-translations, staff-translations-flagged, staff-worklist, staff-audit,
staff-records, patient-new-document, patient-translated, patient-after-change); the seconds from "Publish" to the patient's answer
go to test-artifacts/publish-times.json (measured, not asserted).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time

import pytest
from ui_helpers import ARTIFACTS, BROWSER_TESTS, ROOT, Server, browser, built_index, new_page, playwright_expect, serve, shot  # noqa: F401 (browser: fixture)

import document_files as files

TIMEOUT = 60_000  # ms
BUILD_TIMEOUT = 300_000  # ms: a rebuild on a busy 2-core machine
NAME, PASSWORD = "nurse.ani", "a long enough password"


def saved_on(start: dt.date) -> str:
    """A pattern for the date a save started on `start` is stamped with: that day, or the next one
    when it ends after midnight."""
    return "(" + "|".join(re.escape((start + dt.timedelta(days=i)).isoformat()) for i in (0, 1)) + ")"


# English of the Indonesian seed document's treatment passages, written for this test (as staff would)
ENGLISH = {
    "Terapi Suportif": "Supportive care",
    "Transfusi darah mungkin diperlukan untuk anemia berat (Hb <8 g/dL)": "A blood transfusion may be needed for severe anaemia (Hb <8 g/dL).",
    "Semua produk darah harus diiradiasi untuk menghindari penyakit graft-versus-host terkait transfusi":
        "All blood products must be irradiated to avoid transfusion-associated graft-versus-host disease.",
    "Pada pasien yang seronegatif CMV dan memerlukan transfusi darah, hanya produk darah yang antibodi-CMV negatif atau "
    "leukosit-berkurang yang harus diberikan dalam situasi non-darurat":
        "In CMV-seronegative patients who need a blood transfusion, only CMV-antibody-negative or leukocyte-reduced blood "
        "products should be given in non-emergency situations.",
}
QUESTION = "Why do the blood bags have to be irradiated before a transfusion?"
IRRADIATED_EN = ENGLISH["Semua produk darah harus diiradiasi untuk menghindari penyakit graft-versus-host terkait transfusi"]
times: dict[str, float] = {}

pytestmark = [*BROWSER_TESTS, pytest.mark.models]
expect = playwright_expect()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    """`chatbot serve` on a copy of the seed corpus and of the shared test index (with its embedding cache)."""
    work = tmp_path_factory.mktemp("staff-content")
    shutil.copytree(ROOT / "corpus", work / "corpus")
    shared = built_index()
    shutil.copytree(shared, work / "indexes" / "index")
    cache = shared.parent / ".embeddings" / shared.name
    if cache.is_dir():
        shutil.copytree(cache, work / "indexes" / ".embeddings" / "index")
    args = ["--index", str(work / "indexes" / "index"), "--corpus", str(work / "corpus")]
    yield from serve(work, args, {"CHATBOT_LOG_QUESTIONS": "true"})


@pytest.fixture(scope="module")
def staff(browser, server):
    server.add_staff(NAME, PASSWORD)
    with new_page(browser) as page:
        page.goto(server.url + "staff", wait_until="load")
        page.locator("#name").fill(NAME)
        page.locator("#password").fill(PASSWORD)
        page.locator("#login-button").click()
        page.wait_for_load_state("load")
        yield page


@pytest.fixture(scope="module")
def patient(browser, server):
    with new_page(browser) as page:
        yield page


def ask(patient, server: Server, question: str) -> str:
    """The patient page's answer to one question, as text (a fresh conversation each time)."""
    patient.goto(server.url, wait_until="load")
    box = patient.locator("#question textarea")
    expect(box).to_be_editable(timeout=TIMEOUT)
    box.fill(question)
    patient.locator("#send").click()
    expect(patient.locator('#chat [aria-busy="true"]')).to_have_count(0, timeout=TIMEOUT)
    expect(patient.locator("#chat")).to_contain_text("This is general health information", timeout=TIMEOUT)
    return patient.locator("#chat").inner_text()


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def wait_for_update(staff, reason: str) -> None:
    """Until the progress line says the index was updated for `reason` ("publish ID", "retire ID", ...)."""
    expect(staff.locator("#doc-progress")).to_contain_text(re.compile(rf"Index updated in .*{re.escape(reason)} by {NAME}"),
                                                            timeout=BUILD_TIMEOUT)


def publish_upload(staff, path, expect_in_preview: str) -> tuple[float, str]:
    """Upload a file, preview it, publish it; returns the moment Publish was pressed and the preview's text."""
    tab(staff, "Documents")
    staff.locator("#doc-file input[type=file]").set_input_files(str(path))
    # Gradio's file list shows the name and its extension in two elements: "leaflet .pdf" in some renders
    expect(staff.locator("#doc-file")).to_contain_text(re.compile(rf"{re.escape(path.stem)}\s*{re.escape(path.suffix)}"),
                                                      timeout=TIMEOUT)
    staff.locator("#doc-preview").click()
    expect(staff.locator("#doc-preview-box")).to_contain_text(expect_in_preview, timeout=TIMEOUT)
    expect(staff.locator("#doc-message")).to_contain_text("Check the text and press Publish")
    shown = staff.locator("#doc-preview-box").inner_text()
    started = time.monotonic()
    staff.locator("#doc-publish").click()
    expect(staff.locator("#doc-message")).to_contain_text("The index is being updated", timeout=TIMEOUT)
    return started, shown


def test_an_uploaded_web_page_is_previewed_without_chrome_and_answered_from_after_publishing(staff, patient, server, tmp_path):
    page_file = tmp_path / "dengue.html"
    page_file.write_text(files.chrome_page(), encoding="utf-8")
    tab(staff, "Documents")
    staff.locator("#doc-file input[type=file]").set_input_files(str(page_file))
    # Gradio shows the name's stem and extension in two elements: read as text they may come apart ("dengue .html")
    expect(staff.locator("#doc-file")).to_contain_text(re.compile(r"dengue\s*\.html"), timeout=TIMEOUT)
    staff.locator("#doc-preview").click()
    preview = staff.locator("#doc-preview-box")
    expect(preview).to_contain_text("Warning signs", timeout=TIMEOUT)
    expect(preview.locator(".dropped")).to_contain_text("Thank you to our sponsor Esdebe")  # marked, with its rule
    expect(preview).to_contain_text("Passages (")
    text = preview.inner_text()
    for chrome in (*files.PAGE_CHROME, *files.LEAKS):
        assert chrome not in text, chrome
    shot(staff, "staff-documents-preview")
    started = time.monotonic()
    staff.locator("#doc-publish").click()
    wait_for_update(staff, "publish dengue-fever-in-children")
    answer = ask(patient, server, "Should I give my child ibuprofen for dengue fever?")
    times["seed corpus: web page, publish -> patient answer (s)"] = round(time.monotonic() - started, 1)
    assert "never give ibuprofen or aspirin" in answer and "Dengue fever in children" in answer, answer
    shot(patient, "patient-new-document")
    expect(staff.locator("#doc-table")).to_contain_text("dengue-fever-in-children", timeout=TIMEOUT)


def test_an_uploaded_pdf_is_answered_from_after_publishing(staff, patient, server, tmp_path):
    pdf = files.leaflet_pdf(tmp_path / "leaflet.pdf")
    started, shown = publish_upload(staff, pdf, "Preventing mosquito bites")
    assert files.RUNNING_HEADER not in shown and "Page 2" not in shown and "- " + files.WARNING_ITEMS[0] in shown
    wait_for_update(staff, "publish dengue-fever-what-parents-should-know")
    answer = ask(patient, server, "Where do Aedes mosquitoes breed around the house?")
    times["seed corpus: PDF, publish -> patient answer (s)"] = round(time.monotonic() - started, 1)
    assert "Dengue fever: what parents should know" in answer and "flower pots" in answer, answer
    tab(staff, "Documents")
    expect(staff.locator("#doc-table")).to_contain_text("dengue-fever-what-parents-should-know", timeout=TIMEOUT)
    shot(staff, "staff-documents")


def test_retired_documents_stop_being_used(staff, patient, server):
    tab(staff, "Documents")
    for doc_id in ("dengue-fever-in-children", "dengue-fever-what-parents-should-know"):
        staff.locator("#doc-selected textarea, #doc-selected input").first.fill(doc_id)
        staff.locator("#doc-retire").click()
        expect(staff.locator("#doc-message")).to_contain_text("Tick the box to confirm", timeout=TIMEOUT)
        staff.locator("#doc-retire-confirm input").check()
        staff.locator("#doc-retire").click()
        expect(staff.locator("#doc-message")).to_contain_text(f"Retired {doc_id}", timeout=TIMEOUT)
        wait_for_update(staff, f"retire {doc_id}")
    answer = ask(patient, server, "Should I give my child ibuprofen for dengue fever?")
    assert "Dengue fever in children" not in answer and "what parents should know" not in answer, answer
    expect(staff.locator("#doc-table")).not_to_contain_text("dengue-fever-in-children", timeout=TIMEOUT)


def quoted_passage(server: Server, question: str) -> dict:
    from gradio_client import Client

    client = Client(server.url, verbose=False)
    try:
        reply = client.predict(question, "en", api_name="/ask")
    finally:
        client.close()
    assert reply["quotes"], reply
    return reply["passages"][reply["quotes"][0]["passage"] - 1]


def test_a_reviewed_translation_is_shown_to_an_english_reader_and_flagged_when_the_passage_changes(staff, patient, server):
    from chatbot.translations.align import units

    passage = quoted_passage(server, QUESTION)
    assert passage["doc_id"] == "cmv-anemia-berulang" and passage["language"] == "id", passage
    missing = [u.text for u in units(passage["text"]) if u.text not in ENGLISH]
    assert not missing, f"the quoted passage has sentences this test has no English for: {missing}"
    lines = [line for line in passage["text"].split("\n") if line.strip()]
    english = "\n".join(("- " if line.strip().startswith("•") else "") + ENGLISH[u.text]
                        for line in lines for u in units(line))

    tab(staff, "Translations")
    staff.locator("#tr-doc-id textarea, #tr-doc-id input").first.fill("cmv-anemia-berulang")
    staff.locator("#tr-show").click()
    expect(staff.locator("#tr-message")).to_contain_text("passages of cmv-anemia-berulang", timeout=TIMEOUT)
    staff.locator("#tr-passage input").click()
    staff.get_by_role("option").filter(has_text=passage["section"].split(" › ")[-1]).first.click()
    expect(staff.locator("#tr-original")).to_contain_text("Semua produk darah", timeout=TIMEOUT)
    expect(staff.locator("#tr-note")).to_contain_text("No translation yet")
    staff.locator("#tr-text textarea").fill(english)
    staff.locator("#tr-reviewed input").check()
    saved = dt.datetime.now(dt.timezone.utc).date()  # the store stamps the UTC date
    staff.locator("#tr-save").click()
    expect(staff.locator("#tr-result")).to_contain_text(re.compile(f"marked reviewed by {re.escape(NAME)} on {saved_on(saved)}"),
                                                        timeout=TIMEOUT)
    reviewed = re.search(r"marked reviewed by \S+ on (\d{4}-\d\d-\d\d)", staff.locator("#tr-result").inner_text()).group(1)
    n = len(units(passage["text"]))
    expect(staff.locator("#tr-result")).to_contain_text(f"{n} of {n} sentences will be shown translated")
    expect(staff.locator("#tr-pairs")).to_contain_text(IRRADIATED_EN)
    shot(staff, "staff-translations")

    answer = ask(patient, server, QUESTION)
    assert IRRADIATED_EN in answer and f"Translated by clinic staff, reviewed {reviewed}." in answer, answer
    box = patient.locator("details.translated").first
    expect(box.locator("summary")).to_contain_text("Translated by clinic staff")
    box.locator("summary").click()
    expect(box).to_contain_text("Original (Indonesian): Semua produk darah harus diiradiasi")
    shot(patient, "patient-translated")

    # the passage changes: staff edit the document; the translation needs review and is no longer shown
    tab(staff, "Documents")
    staff.locator("#doc-selected textarea, #doc-selected input").first.fill("cmv-anemia-berulang")
    staff.locator("#doc-edit").click()
    expect(staff.locator("#doc-message")).to_contain_text("Editing cmv-anemia-berulang", timeout=TIMEOUT)
    box_text = staff.locator("#doc-text textarea")
    original = box_text.input_value()
    assert "Semua produk darah harus diiradiasi" in original
    box_text.fill(original.replace("Semua produk darah harus diiradiasi", "Semua produk darah harus selalu diiradiasi"))
    expect(staff.locator("#doc-replace-id textarea, #doc-replace-id input").first).to_have_value("cmv-anemia-berulang")
    staff.locator("#doc-preview").click()
    expect(staff.locator("#doc-preview-box")).to_contain_text("This replaces the document cmv-anemia-berulang", timeout=TIMEOUT)
    staff.locator("#doc-publish").click()
    wait_for_update(staff, "replace cmv-anemia-berulang")

    tab(staff, "Translations")
    staff.locator("#tr-show").click()
    expect(staff.locator("#tr-table")).to_contain_text("needs review: the passage changed", timeout=TIMEOUT)
    staff.locator("#tr-passage input").click()
    staff.get_by_role("option").filter(has_text=passage["section"].split(" › ")[-1]).first.click()
    expect(staff.locator("#tr-note")).to_contain_text("The passage changed since it was translated", timeout=TIMEOUT)
    shot(staff, "staff-translations-flagged")
    answer = ask(patient, server, QUESTION)
    assert "Translated by clinic staff" not in answer and IRRADIATED_EN not in answer, answer
    assert "Semua produk darah harus selalu diiradiasi" in answer, answer
    shot(patient, "patient-after-change")


def test_worklist_lists_untranslated_passages_and_grouped_gaps(staff, patient, server):
    for question in ("How do I fix a cracked phone screen?", "How can I repair my broken phone screen?"):
        ask(patient, server, question)
    tab(staff, "Worklist")
    untranslated = staff.locator("#wl-untranslated")
    expect(untranslated).to_contain_text("cmv-anemia-berulang", timeout=TIMEOUT)  # quoted to English readers, not translated now
    expect(untranslated).to_contain_text("id → en")
    gaps = staff.locator("#wl-gaps")
    expect(gaps).to_contain_text("phone screen", timeout=TIMEOUT)
    shot(staff, "staff-worklist")
    shown = gaps.inner_text()  # two askers, one row with the count and both questions, the most recent first
    assert re.search(r"\b2\s+How can I repair my broken phone screen\?\s+How do I fix a cracked phone screen\?", shown), shown
    assert shown.count("How do I fix a cracked phone screen?") == 1, shown
    tab(staff, "Audit trail")
    audit = staff.locator("#audit-table")
    for action in ("doc_publish", "doc_retire", "doc_replace", "translation_review", "view_worklist"):
        expect(audit).to_contain_text(action, timeout=TIMEOUT)
    shot(staff, "staff-audit")
    tab(staff, "Records")
    expect(staff.locator("#export")).to_be_visible(timeout=TIMEOUT)
    shot(staff, "staff-records")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "publish-times.json").write_text(json.dumps(times, indent=2) + "\n", encoding="utf-8")
