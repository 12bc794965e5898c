"""Chunking the cleaned seed articles: exact offsets, stable ids, structure kept together."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from chatbot.ingest.chunking import ChunkSettings, chunk_document, embedding_text
from chatbot.index.build import cleaned_corpus
from chatbot.records import Chunk, Document

BULLET = re.compile(r"^\s*(?:[•\-*–·▪◦]|\d{1,2}[.)])\s+")
SENTENCE_END = (".", "!", "?", "…", '"', "”", "’", ")", ":")


@pytest.fixture(scope="module")
def docs(corpus_dir) -> dict[str, Document]:
    cleaned, _ = cleaned_corpus((corpus_dir,))
    return {d.id: d for d in cleaned}


@pytest.fixture(scope="module")
def chunks(docs) -> dict[str, list[Chunk]]:
    return {doc_id: chunk_document(doc) for doc_id, doc in docs.items()}


def all_chunks(chunks) -> list[Chunk]:
    return [c for cs in chunks.values() for c in cs]


def the_chunk_with(chunks, needle: str) -> Chunk:
    found = [c for c in all_chunks(chunks) if needle in c.text]
    assert len(found) == 1, f"{needle!r} is in {len(found)} chunks"
    return found[0]


def test_chunk_text_is_the_slice_of_the_cleaned_text(docs, chunks):
    for doc_id, cs in chunks.items():
        assert cs, doc_id
        for c in cs:
            assert c.text == docs[doc_id].text[c.start : c.end]
            assert c.text == c.text.strip()


def test_chunks_cover_the_document_in_order_without_overlap(docs, chunks):
    for doc_id, cs in chunks.items():
        assert [c.position for c in cs] == list(range(len(cs)))
        assert all(a.end <= b.start for a, b in zip(cs, cs[1:]))
        # nothing but whitespace is left between chunks: no content is lost
        text = docs[doc_id].text
        gaps = [text[a.end : b.start] for a, b in zip(cs, cs[1:])] + [text[: cs[0].start], text[cs[-1].end :]]
        assert all(not g.strip() for g in gaps)


def test_chunks_carry_their_document(docs, chunks):
    for doc_id, cs in chunks.items():
        doc = docs[doc_id]
        assert {(c.doc_id, c.title, c.source, c.url) for c in cs} == {(doc.id, doc.title, doc.source, doc.url)}


def test_ids_are_unique_and_stable(docs, chunks):
    ids = [c.id for c in all_chunks(chunks)]
    assert len(ids) == len(set(ids))
    again = [c.id for d in docs.values() for c in chunk_document(d)]
    assert again == ids
    assert all(c.id.startswith(f"{c.doc_id}#{c.position:04d}-") for c in all_chunks(chunks))


def test_ids_change_when_the_text_changes(docs, chunks):
    doc = docs["cmv-nec-preemies"]
    edited = replace(doc, text=doc.text.replace("NEC, as you know, is just devastating.", "NEC, as you know, is just terrible."))
    before, after = chunks["cmv-nec-preemies"], chunk_document(edited)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a.id != b.id]
    assert changed == [i for i, c in enumerate(before) if "devastating" in c.text]
    assert Chunk.make_id("d", 0, "a") != Chunk.make_id("d", 0, "b") != Chunk.make_id("d", 1, "b")


def test_no_chunk_splits_a_sentence(docs, chunks):
    for doc_id, cs in chunks.items():
        text = docs[doc_id].text
        for c in cs:
            # a chunk starts at the start of a line and ends at the end of one...
            assert not text[: c.start].rsplit("\n", 1)[-1].strip(), c.id
            assert text[c.end :] == "" or text[c.end] == "\n", c.id
            # ...and that line closes a sentence, a bullet item or a table row
            last_para = c.text.split("\n\n")[-1].split("\n")
            last = last_para[-1].strip()
            assert last.endswith(SENTENCE_END) or BULLET.match(last_para[-1]) or len(last_para) >= 3, (c.id, last)


def test_faq_question_and_answer_share_a_chunk(chunks):
    c = the_chunk_with(chunks, "Is there a vaccine for CMV?")
    assert "Currently, there is no commercially available vaccine" in c.text
    assert c.section == "Is there a vaccine for CMV?"


def test_every_faq_question_is_followed_by_its_answer_in_its_chunk(docs, chunks):
    text = docs["cmv-anemia-thrombocytopenia"].text
    faq = text[text.index("Frequently Asked Questions (FAQs)") :]
    paras = [p.strip() for p in faq.split("\n\n")]
    questions = [(q, a) for q, a in zip(paras, paras[1:]) if q.endswith("?")]
    assert len(questions) == 12
    for q, a in questions:
        c = the_chunk_with(chunks, q + "\n")
        assert a in c.text, q


def test_bullet_keeps_its_heading(chunks):
    c = the_chunk_with(chunks, "Ganciclovir intravena 5 mg/kg")
    assert "Pengobatan Antivirus" in c.section


def test_every_bullet_chunk_has_a_section(chunks):
    for c in all_chunks(chunks):
        if any(BULLET.match(line) for line in c.text.split("\n")):
            assert c.section, c.id


def test_nec_risk_factor_list_stays_in_one_chunk(chunks):
    c = the_chunk_with(chunks, "Being born too early")
    items = ["Being born too early (before 32 weeks)", "Low birth weight (under 1500 grams)", "Preeclampsia", "Poor fetal growth",
             "Oxygen deprivation during birth", "Heart defects", "Gut problems", "Too many antibiotics", "Formula feeding",
             "Sepsis", "Rotavirus infection"]
    assert all(item in c.text for item in items)
    assert "other risk factors for NEC" in c.text  # the sentence that introduces the list comes with it


def test_summary_table_is_kept_whole(chunks):
    c = the_chunk_with(chunks, "Summary Table")
    rows = ["Factor Anemia Thrombocytopenia", "Cause (CMV) Decreased RBC production", "Mechanism Bone marrow suppression",
            "Diagnostic Test CBC, Bone marrow biopsy", "Treatment Antivirals, blood transfusions Antivirals, platelet transfusions"]
    assert all(row in c.text for row in rows)


def test_word_counts_stay_within_budget(chunks):
    words = [len(c.text.split()) for c in all_chunks(chunks)]
    assert max(words) <= 120
    short = [w for w in words if w < 30]
    assert len(short) <= max(1, len(words) // 10), words
    assert sum(30 <= w <= 120 for w in words) >= 0.9 * len(words)


def test_chunk_language_follows_the_document(chunks):
    assert {c.language for c in chunks["cmv-anemia-berulang"]} == {"id"}
    assert {c.language for c in chunks["cmv-anemia-thrombocytopenia"]} == {"en"}
    assert {c.language for c in chunks["cmv-nec-preemies"]} == {"en"}


def test_smaller_budget_still_gives_exact_slices(docs):
    settings = ChunkSettings(min_words=5, max_words=40)
    for doc in docs.values():
        cs = chunk_document(doc, settings)
        assert all(c.text == doc.text[c.start : c.end] for c in cs)
        assert len({c.id for c in cs}) == len(cs)
        # over budget only by one indivisible unit (a paragraph, table or long sentence) after its headings
        for c in cs:
            if len(c.text.split()) > 40:
                parts = c.text.split("\n\n")
                assert all(len(p.split()) <= 30 and "\n" not in p for p in parts[:-1]), c.text


@pytest.mark.parametrize("min_words,max_words", [(0, 10), (50, 50), (60, 50), (-5, 10)])
def test_chunk_settings_reject_bad_values(min_words, max_words):
    with pytest.raises(ValueError, match=f"{min_words}, {max_words}"):
        ChunkSettings(min_words=min_words, max_words=max_words)


def test_long_paragraph_is_split_only_at_sentence_ends():
    sentences = [
        f"Sentence {n} says cytomegalovirus in premature babies may need monitoring by doctors, nurses and parents, "
        f"with 2.5 mg daily doses."
        for n in range(1, 21)
    ]
    assert all(len(s.split()) == 20 for s in sentences)
    text = "Long section\n\n" + " ".join(sentences)
    doc = Document(id="long", title="Long", text=text, language="en")
    cs = chunk_document(doc)
    assert len(cs) >= 4
    for c in cs:
        assert c.text == text[c.start : c.end]
        assert len(c.text.split()) <= 120
        assert c.text.rstrip().endswith("2.5 mg daily doses.")
        body = c.text.removeprefix("Long section\n\n")
        assert body.startswith("Sentence "), body[:30]
        assert c.section == "Long section"
    joined = " ".join(c.text.removeprefix("Long section\n\n").strip() for c in cs)
    assert joined == " ".join(sentences)


def test_embedding_text_adds_the_heading_only_when_missing(chunks):
    with_heading = the_chunk_with(chunks, "Is there a vaccine for CMV?")
    assert embedding_text(with_heading) == with_heading.text
    without = the_chunk_with(chunks, "NEC, as you know, is just devastating.")
    assert not without.text.startswith(without.section.split(" › ")[0])
    assert embedding_text(without) == f"Summary\n{without.text}"


def test_embedding_text_leaves_the_document_title_out(chunks):
    """The title is embedded apart, with the headings (heading_text). Kept in only the first
    passages (the body's first line repeats it, and the heading path of the section under it
    starts with it), it drew questions on the document to those: the NEC blog's summary outranked
    the passage that answers."""
    for c in all_chunks(chunks):
        assert not embedding_text(c).startswith((c.title + "\n", c.title + " › ")), (c.id, embedding_text(c)[:80])
    first = the_chunk_with(chunks, "New research reveals a link between cytomegalovirus")
    assert first.text.startswith(first.title)
    assert embedding_text(first).startswith("Summary\n")
    nested = the_chunk_with(chunks, "NEC, as you know, is just devastating.")
    assert nested.section.startswith(nested.title + " › ") and embedding_text(nested).startswith("Summary\n")
