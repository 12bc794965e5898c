"""The step after an answer is chosen: quotes from a passage in the other language shown in its
reviewed translation (staff translation or translated leaflet), labelled, with the original kept;
the renderers (plain text, Markdown, JSON) and the grounding check of evaluation/answers.py."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from chatbot.answer.compose import compose
from chatbot.answer.render import to_json
from chatbot.ingest.chunking import chunk_document
from chatbot.records import Chunk, Document, Hit, Quote, Translation, passage_hash
from chatbot.serve.render import format_answer
from chatbot.translations.align import align
from chatbot.translations.apply import translate_answer, wanted
from chatbot.translations.leaflets import LeafletSentence, Leaflets, align_leaflets
from evaluation.answers import grounding_violations

PASSAGE = ("Terapi Suportif\n\n"
           "Semua produk darah harus diiradiasi untuk menghindari penyakit graft-versus-host. Transfusi mungkin diperlukan "
           "bila Hb <8 g/dL. Gejala anemia meliputi:\n- lemas\n- pucat")
ENGLISH = ("Supportive care\n\nAll blood products must be irradiated to avoid graft-versus-host disease. A transfusion may be "
           "needed when Hb is <8 g/dL. Signs of anaemia include:\n- weakness\n- pallor")
IRRADIATED_ID = "Semua produk darah harus diiradiasi untuk menghindari penyakit graft-versus-host."
IRRADIATED_EN = "All blood products must be irradiated to avoid graft-versus-host disease."


def chunk(text: str = PASSAGE, language: str = "id", doc_id: str = "leaflet", position: int = 0) -> Chunk:
    return Chunk(id=f"{doc_id}#{position:04d}-x", doc_id=doc_id, title="Anemia dan CMV", section="Terapi Suportif", text=text,
                 language=language, start=0, end=len(text), position=position)


def answer(*quotes: Quote, reader: str = "en", hits: tuple = ()) -> object:
    hits = hits or (Hit(chunk(), 3.0), Hit(chunk("CMV spreads through saliva.", "en", "cmv", 1), 2.0))
    return compose("Why irradiate blood?", reader, list(hits), list(quotes), urgent=False)


def staff(text: str = ENGLISH, reviewed: str = "2026-03-01") -> dict:
    return {passage_hash(PASSAGE): {"text": text, "alignment": [p.as_json() for p in align(PASSAGE, text, "id", "en")],
                                    "reviewed_on": reviewed}}


def test_a_quoted_sentence_is_shown_in_its_reviewed_translation_with_label_and_original():
    asked = answer(Quote(0, IRRADIATED_ID), Quote(1, "CMV spreads through saliva."))
    assert wanted(asked) == {passage_hash(PASSAGE)}  # only the passage in the other language is looked up
    shown = translate_answer(asked, staff())
    q = shown.quotes[0]
    assert (q.text, q.original, q.language, q.translation.language, q.translation.kind) == (IRRADIATED_EN, IRRADIATED_ID, "id", "en", "staff")
    assert shown.quotes[1] == asked.quotes[1]
    assert f"• {IRRADIATED_EN} [1]" in shown.text
    assert "   Translated by clinic staff, reviewed 2026-03-01." in shown.text
    assert f"   Original (Indonesian): {IRRADIATED_ID}" in shown.text
    assert "The source for this answer is in Indonesian" not in shown.text  # the reader reads it in English
    assert grounding_violations(shown) == []
    markdown = format_answer(shown)
    assert re.search(r'<details class="translated"><summary>Translated by clinic staff, reviewed 2026-03-01\.</summary>'
                     r'<span lang="id">Original &#40;Indonesian&#41;: Semua produk darah', markdown)
    quote = to_json(shown)["quotes"][0]
    assert quote["text"] == IRRADIATED_EN and quote["translation"] == {
        "kind": "staff", "language": "en", "reviewed": "2026-03-01", "label": "Translated by clinic staff, reviewed 2026-03-01.",
        "original": IRRADIATED_ID, "original_items": []}
    assert to_json(shown)["quotes"][1]["translation"] is None


def test_list_items_are_translated_with_their_sentence():
    shown = translate_answer(answer(Quote(0, "Gejala anemia meliputi:", ("lemas", "pucat"))), staff())
    q = shown.quotes[0]
    assert (q.text, q.items, q.original_items) == ("Signs of anaemia include:", ("weakness", "pallor"), ("lemas", "pucat"))
    assert grounding_violations(shown) == []


def test_without_a_confident_match_the_original_is_shown():
    reordered = "Supportive care\n\nSigns of anaemia include: weakness, pallor. All blood products must be irradiated."
    asked = answer(Quote(0, IRRADIATED_ID))
    shown = translate_answer(asked, staff(reordered))  # other shape, no models here: nothing maps
    assert shown == asked and "The source for this answer is in Indonesian" in shown.text
    assert translate_answer(asked, {}) == asked
    english_reader_in_english = answer(Quote(1, "CMV spreads through saliva."))
    assert translate_answer(english_reader_in_english, staff()) == english_reader_in_english


def test_a_translation_with_an_unmapped_item_leaves_the_whole_quote_original():
    one_item = ENGLISH.replace("\n- pallor", "")
    asked = answer(Quote(0, "Gejala anemia meliputi:", ("lemas", "pucat")))
    assert translate_answer(asked, staff(one_item)) == asked


def test_grounding_catches_a_quote_not_in_its_translation_or_an_original_not_in_the_passage():
    good = translate_answer(answer(Quote(0, IRRADIATED_ID)), staff())
    forged = replace(good, quotes=(replace(good.quotes[0], text="Blood is always safe."),))
    assert "Blood is always safe." in grounding_violations(forged)
    wrong_original = replace(good, quotes=(replace(good.quotes[0], original="Darah selalu aman."),))
    assert "Darah selalu aman." in grounding_violations(wrong_original)
    same_language = replace(good, quotes=(replace(good.quotes[0], translation=replace(good.quotes[0].translation, language="id")),))
    assert IRRADIATED_EN in grounding_violations(same_language)


def test_markup_in_a_translation_is_shown_as_text():
    markup = "<script>alert('x')</script> <img src=x onerror=alert('y')> [x](javascript:alert('z')) "  # no digits: numbers must agree
    hostile = ENGLISH.replace("All blood products", markup + "All blood products")
    shown = translate_answer(answer(Quote(0, IRRADIATED_ID)), staff(hostile))
    markdown = format_answer(shown)
    assert shown.quotes[0].translation is not None
    assert "<script" not in markdown and "<img" not in markdown and "](javascript" not in markdown
    assert "&lt;script&gt;" in markdown


def test_a_translated_leaflet_is_used_when_no_staff_translation_exists():
    leaflets = Leaflets({(passage_hash(PASSAGE), IRRADIATED_ID, "en"): LeafletSentence(IRRADIATED_EN, ENGLISH, "en", "Anaemia and CMV",
                                                                                       "2025-11-01")})
    shown = translate_answer(answer(Quote(0, IRRADIATED_ID)), {}, leaflets)
    q = shown.quotes[0]
    assert (q.text, q.translation.kind, q.translation.title) == (IRRADIATED_EN, "leaflet", "Anaemia and CMV")
    assert "   From the English version of this leaflet (“Anaemia and CMV”)." in shown.text
    assert grounding_violations(shown) == []
    assert translate_answer(answer(Quote(0, IRRADIATED_ID)), staff(), leaflets).quotes[0].translation.kind == "staff"  # staff first


@pytest.mark.models
def test_a_leaflet_declared_translation_of_is_aligned_with_its_original(real_embedders):
    original = Document("brosur", "Demam berdarah", "Demam berdarah pada anak\n\nDemam berdarah adalah infeksi virus yang "
                        "ditularkan oleh nyamuk Aedes. Beri parasetamol 10 mg/kg untuk demam. Jangan beri ibuprofen atau aspirin.\n\n"
                        "Tanda bahaya\n\n- Muntah terus\n- Perdarahan dari gusi", language="id")
    leaflet = Document("leaflet", "Dengue fever", "Dengue fever in children\n\nDengue is a virus infection spread by Aedes "
                       "mosquitoes. Give paracetamol 10 mg/kg for the fever. Do not give ibuprofen or aspirin.\n\nDanger signs\n\n"
                       "- Vomiting that does not stop\n- Bleeding from the gums", language="en", date="2025-12-01",
                       translation_of="brosur")
    chunks = chunk_document(original) + chunk_document(leaflet)
    table = align_leaflets(chunks, [leaflet], real_embedders)
    dose = "Beri parasetamol 10 mg/kg untuk demam."
    holder = next(c for c in chunks if dose in c.text)
    found = table.get(passage_hash(holder.text), dose, "en")
    assert found is not None and found.translated == "Give paracetamol 10 mg/kg for the fever." and found.title == "Dengue fever"
    assert found.translated in found.passage
    gums = table.get(passage_hash(next(c for c in chunks if "gusi" in c.text).text), "Perdarahan dari gusi", "en")
    assert gums is not None and gums.translated == "Bleeding from the gums"
    assert align_leaflets(chunks, [replace(leaflet, translation_of="missing")], real_embedders).get(
        passage_hash(holder.text), dose, "en") is None
