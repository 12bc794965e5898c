"""Publishing documents into a corpus folder: preview, write, replace, retire, and the incremental build after it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

import document_files as files
from chatbot.ingest.chunking import heading_text
from chatbot.ingest.sentences import sentence_texts
from chatbot.embeddings.hashing import HashingEmbedder
from chatbot.errors import CorpusError
from chatbot.index.build import build
from chatbot.index.directory import load_index
from chatbot.ingest.documents import load_corpus, read_file
from chatbot.ingest.formats import Metadata, convert_file, convert_text
from chatbot.ingest.publish import RETIRED, locate, overdue, preview, retire, write_document

QUIET = {"progress": lambda _: None}


class Counting(HashingEmbedder):
    """The hashing embedder, counting the passages it embeds."""

    def __init__(self) -> None:
        super().__init__(64)
        self.embedded = 0

    def encode_passages(self, texts):
        self.embedded += len(texts)
        return super().encode_passages(texts)


@pytest.fixture
def dengue(corpus_copy):
    return convert_text("Dengue fever in children\n\n" + files.ARTICLE + "\n\n" + files.TREATMENT,
                        Metadata(source="Klinik Sehat", url="https://klinik.example/dengue", date="2025-03-14",
                                 review_by="2026-03-14"), corpus_copy)


def test_written_file_reads_back_as_the_same_document(dengue, corpus_copy):
    path = write_document(dengue, corpus_copy)
    assert path == corpus_copy / "dengue-fever-in-children.md"
    back = next(read_file(path))
    for field in ("id", "title", "language", "source", "url", "date", "review_by"):
        assert getattr(back, field) == getattr(dengue, field), field
    assert back.text.strip() == dengue.text
    assert path.read_text(encoding="utf-8").startswith("---\nid: dengue-fever-in-children\ntitle: Dengue fever in children\n")
    assert sorted(p.name for p in corpus_copy.iterdir() if p.name.startswith(".") and p.name != ".publish.lock") == []  # no temp file left


def test_a_taken_id_is_refused_unless_replacing(dengue, corpus_copy):
    write_document(dengue, corpus_copy)
    with pytest.raises(CorpusError, match="already in .*dengue-fever-in-children.md: choose another id, or replace"):
        write_document(replace(dengue, text="Another text."), corpus_copy)
    with pytest.raises(CorpusError, match="already in .*cmv-nec-preemies.md"):
        write_document(replace(dengue, id="cmv-nec-preemies"), corpus_copy)


def test_replacing_keeps_the_old_version_in_retired(dengue, corpus_copy):
    path = write_document(dengue, corpus_copy)
    old = path.read_text(encoding="utf-8")
    assert write_document(replace(dengue, text="Dengue fever in children\n\nA new text."), corpus_copy, replace=True) == path
    assert "A new text." in path.read_text(encoding="utf-8")
    kept = list((corpus_copy / RETIRED).iterdir())
    assert [p.read_text(encoding="utf-8") for p in kept] == [old]


def test_replacing_a_hand_named_file_writes_into_that_file(corpus_copy):
    seed = corpus_copy / "cmv-nec-preemies.md"
    doc = convert_text("New text about CMV and NEC.", Metadata(id="cmv-nec-preemies", title="CMV and NEC"), corpus_copy)
    assert write_document(doc, corpus_copy, replace=True) == seed
    assert [d.title for d in load_corpus([corpus_copy]) if d.id == "cmv-nec-preemies"] == ["CMV and NEC"]


def test_another_documents_file_is_never_overwritten(corpus_copy):
    (corpus_copy / "fever.md").write_text("---\nid: something-else\ntitle: X\n---\nText.\n", encoding="utf-8")
    doc = convert_text("Fever text.", Metadata(id="fever", title="Fever"), corpus_copy)
    with pytest.raises(CorpusError, match="fever.md exists and holds another document"):
        write_document(doc, corpus_copy, replace=True)
    assert "something-else" in (corpus_copy / "fever.md").read_text(encoding="utf-8")


def test_documents_of_a_collection_are_not_replaced_or_retired(tmp_path):
    (tmp_path / "faq.jsonl").write_text(json.dumps({"id": "faq-1", "title": "Q", "text": "An answer."}) + "\n", encoding="utf-8")
    doc = convert_text("Other answer.", Metadata(id="faq-1", title="Q"))
    with pytest.raises(CorpusError, match="part of the collection .*faq.jsonl"):
        write_document(doc, tmp_path, replace=True)
    with pytest.raises(CorpusError, match="part of the collection .*faq.jsonl"):
        retire("faq-1", tmp_path)


def test_retire_moves_the_file_and_the_loader_no_longer_sees_it(dengue, corpus_copy):
    path = write_document(dengue, corpus_copy)
    moved = retire(dengue.id, corpus_copy)
    assert not path.exists() and moved.parent == corpus_copy / RETIRED and moved.read_text(encoding="utf-8").startswith("---\nid: dengue")
    assert dengue.id not in {d.id for d in load_corpus([corpus_copy])}
    assert locate(dengue.id, corpus_copy) is None
    with pytest.raises(CorpusError, match="no document with id 'dengue-fever-in-children'"):
        retire(dengue.id, corpus_copy)
    write_document(dengue, corpus_copy)  # the id is free again
    assert len(list((corpus_copy / RETIRED).iterdir())) == 1


def test_writing_into_a_missing_folder_says_so(dengue, tmp_path):
    with pytest.raises(CorpusError, match="corpus folder .*nowhere does not exist"):
        write_document(dengue, tmp_path / "nowhere")


def test_preview_lists_dropped_lines_with_rule_names_and_real_passages(corpus_dir):
    doc = convert_file(corpus_dir / "cmv-nec-preemies.md")
    p = preview(doc)
    rules = {d.rule for d in p.dropped}
    assert {"sponsor advert", "comment thread (to the end of the page)", "layout label"} <= rules
    assert all(doc.text.split("\n")[d.number - 1].strip() == d.text for d in p.dropped)
    assert "TrueNAS" not in p.cleaned and "TrueNAS" in doc.text
    assert p.passages and all(c.doc_id == doc.id for c in p.passages)
    assert all(p.cleaned[c.start:c.end] == c.text for c in p.passages)


def test_preview_uses_the_corpus_folders_own_rules(dengue, corpus_copy):
    (corpus_copy / "chrome_rules.toml").write_text('[[rule]]\nname = "clinic rule"\nline = "Give plenty of fluids.*"\n', encoding="utf-8")
    assert [d.rule for d in preview(dengue, corpus_copy).dropped] == ["clinic rule"]
    assert preview(dengue).dropped == ()


def test_overdue_documents():
    doc = convert_text("Text about fever.", Metadata(review_by="2026-01-31"))
    assert overdue(doc, dt.date(2026, 2, 1)) and not overdue(doc, dt.date(2026, 1, 31))
    assert not overdue(replace(doc, review_by=""), dt.date(2099, 1, 1))
    assert overdue(replace(doc, review_by="soon"))  # unreadable: worth a look


def test_incremental_build_after_adding_one_document_embeds_only_its_passages(corpus_copy, tmp_path, make_settings):
    settings = make_settings(index_dir=tmp_path / "indexes" / "idx", corpus=(corpus_copy,), model="hashing-64")
    first = Counting()
    build(settings, embedders=(first,), **QUIET)
    before = len(load_index(settings.index_dir).chunks)
    doc = convert_file(files.leaflet_pdf(tmp_path / "leaflet.pdf"), Metadata(), corpus_copy)
    new_passages = preview(doc, corpus_copy).passages
    write_document(doc, corpus_copy)
    again = Counting()
    assert build(settings, embedders=(again,), **QUIET).built
    index = load_index(settings.index_dir)
    added = [c for c in index.chunks if c.doc_id == doc.id]
    others = [c for c in index.chunks if c.doc_id != doc.id]
    new_heads = {heading_text(c) for c in added} - {heading_text(c) for c in others}
    new_sentences = {t for c in added for t in sentence_texts(c)} - {t for c in others for t in sentence_texts(c)}
    assert len(added) == len(new_passages) > 0 and new_sentences
    assert again.embedded == len(added) + len(new_heads) + len(new_sentences)  # passages, headings, sentences
    assert [c.text for c in added] == [c.text for c in new_passages]
    assert len(index.chunks) == before + len(added)
    retire(doc.id, corpus_copy)
    third = Counting()
    build(settings, embedders=(third,), **QUIET)
    assert third.embedded == 0 and len(load_index(settings.index_dir).chunks) == before
