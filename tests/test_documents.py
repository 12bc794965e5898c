"""Reading the corpus: front-matter documents, JSONL collections, and errors that name the file."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path

import pytest

from chatbot.ingest.documents import corpus_files, load_corpus, read_file
from chatbot.errors import CorpusError

HEADER_DOC = """---
id: cmv-basics
title: CMV basics
language: en
source: Example Clinic
url: https://example.org/cmv
date: 2025-02-26
---
CMV spreads through saliva and urine.
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def doc_text(doc_id: str, body: str = "Some medical text.") -> str:
    return f"---\nid: {doc_id}\ntitle: {doc_id} title\nlanguage: en\n---\n{body}\n"


# --- front matter ------------------------------------------------------------------------------


def test_front_matter_fields_are_read(tmp_path):
    f = write(tmp_path / "basics.md", HEADER_DOC)
    [doc] = read_file(f)
    assert (doc.id, doc.title, doc.language, doc.source, doc.url, doc.date) == (
        "cmv-basics", "CMV basics", "en", "Example Clinic", "https://example.org/cmv", "2025-02-26")
    assert doc.text == "CMV spreads through saliva and urine.\n"
    assert doc.path == str(f)


def test_header_is_optional_id_defaults_to_file_name_and_title_to_id(tmp_path):
    f = write(tmp_path / "plain-note.txt", "Just a paragraph about CMV.\n")
    [doc] = read_file(f)
    assert doc.id == "plain-note" and doc.title == "plain-note"
    assert doc.text == "Just a paragraph about CMV.\n"


def test_windows_line_endings_and_bom_are_accepted(tmp_path):
    f = tmp_path / "crlf.md"
    f.write_bytes("\ufeff".encode() + HEADER_DOC.replace("\n", "\r\n").encode())
    [doc] = read_file(f)
    assert doc.id == "cmv-basics" and doc.title == "CMV basics"
    assert doc.text.strip() == "CMV spreads through saliva and urine."


def test_seed_corpus_documents_have_their_headers(corpus_dir):
    docs = {d.id: d for d in load_corpus([corpus_dir])}
    assert sorted(docs) == ["cmv-anemia-berulang", "cmv-anemia-thrombocytopenia", "cmv-nec-preemies"]
    assert docs["cmv-anemia-berulang"].language == "id"
    assert docs["cmv-nec-preemies"].source == "MedTechNews.Uk"
    assert docs["cmv-nec-preemies"].date == "2025-02-26"
    assert docs["cmv-anemia-thrombocytopenia"].title == "Can CMV Cause Anemia and Thrombocytopenia?"
    assert not docs["cmv-nec-preemies"].text.startswith("---")


def test_header_line_without_colon_names_file_and_line(tmp_path):
    f = write(tmp_path / "bad.md", "---\nid: x\nthis is not a key value pair\n---\nbody\n")
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r":3:"):
        list(read_file(f))


def test_invalid_id_is_rejected(tmp_path):
    f = write(tmp_path / "bad.md", "---\nid: has spaces in it\n---\nbody\n")
    with pytest.raises(CorpusError, match="document id"):
        list(read_file(f))


# --- JSONL collections -------------------------------------------------------------------------


def test_jsonl_records_become_documents(tmp_path):
    f = write(tmp_path / "faq.jsonl", "\n".join([
        json.dumps({"id": "q1", "text": "CMV is a common virus.", "title": "What is CMV?", "language": "en"}),
        "",  # blank lines are allowed
        json.dumps({"id": "q2", "text": "Tidak ada vaksin.", "language": "id", "url": "https://example.org/2"}),
    ]))
    docs = list(read_file(f))
    assert [(d.id, d.title, d.text, d.language) for d in docs] == [
        ("q1", "What is CMV?", "CMV is a common virus.", "en"),
        ("q2", "q2", "Tidak ada vaksin.", "id"),
    ]
    assert docs[1].url == "https://example.org/2"
    assert docs[0].path == f"{f}:1" and docs[1].path == f"{f}:3"


def test_medquad_style_fields_are_mapped(tmp_path):
    f = write(tmp_path / "medquad.jsonl", "\n".join([
        json.dumps({"id": "mq-1", "question": "What is CMV?", "answer": "A herpes virus.", "focus": "Cytomegalovirus"}),
        json.dumps({"id": "mq-2", "question": "How is CMV spread?", "answer": "Through body fluids."}),
    ]))
    docs = list(read_file(f))
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("mq-1", "Cytomegalovirus", "A herpes virus."),  # focus is preferred over question as title
        ("mq-2", "How is CMV spread?", "Through body fluids."),
    ]


def test_numeric_ids_are_accepted(tmp_path):
    f = write(tmp_path / "c.jsonl", json.dumps({"id": 17, "text": "x y z"}))
    assert [d.id for d in read_file(f)] == ["17"]


def test_malformed_json_line_names_file_and_line(tmp_path):
    f = write(tmp_path / "c.jsonl", json.dumps({"id": "a", "text": "ok"}) + "\n{not json\n")
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r":2: not valid JSON"):
        list(read_file(f))


def test_json_line_that_is_not_an_object_is_rejected(tmp_path):
    f = write(tmp_path / "c.jsonl", '["id", "text"]\n')
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r":1: .*JSON object"):
        list(read_file(f))


def test_record_without_id_names_file_and_line(tmp_path):
    f = write(tmp_path / "c.jsonl", json.dumps({"id": "a", "text": "ok"}) + "\n" + json.dumps({"text": "no id"}) + "\n")
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r":2: record has no 'id'"):
        list(read_file(f))


# --- unreadable and malformed files ------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_names_the_file(tmp_path):
    f = write(tmp_path / "secret.md", doc_text("secret"))
    f.chmod(0)
    try:
        with pytest.raises(CorpusError, match=re.escape(f"cannot read {f}")):
            load_corpus([tmp_path])
    finally:
        f.chmod(0o644)


def test_directory_given_as_a_file_names_it(tmp_path):
    d = tmp_path / "looks-like-a-file.md"
    d.mkdir()
    with pytest.raises(CorpusError, match=re.escape(f"cannot read {d}")):
        list(read_file(d))


def test_broken_symlink_in_a_folder_names_it(tmp_path):
    write(tmp_path / "good.md", doc_text("good"))
    link = tmp_path / "gone.md"
    link.symlink_to(tmp_path / "does-not-exist.md")
    with pytest.raises(CorpusError, match=re.escape(f"cannot read {link}")):
        load_corpus([tmp_path])


def test_non_utf8_bytes_name_the_file(tmp_path):
    f = tmp_path / "latin1.md"
    f.write_bytes(doc_text("latin1", "Caf\xe9 au lait").encode("latin-1"))
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r" is not UTF-8") as err:
        load_corpus([tmp_path])
    assert "UTF-8" in str(err.value) and "save it as UTF-8" in str(err.value)


def test_header_without_closing_line_names_the_file(tmp_path):
    f = write(tmp_path / "open.md", "---\nid: open\ntitle: Open header\nThe text starts here.\n")
    with pytest.raises(CorpusError, match=re.escape(str(f)) + r": .*no closing '---'"):
        load_corpus([tmp_path])


def test_duplicate_ids_across_files_name_both_files(tmp_path):
    a = write(tmp_path / "a.md", doc_text("same-id"))
    b = write(tmp_path / "sub" / "b.md", doc_text("same-id"))
    with pytest.raises(CorpusError, match="duplicate document id 'same-id'") as err:
        load_corpus([tmp_path])
    assert str(a) in str(err.value) and str(b) in str(err.value)


def test_duplicate_id_between_markdown_and_jsonl_is_caught(tmp_path):
    write(tmp_path / "a.md", doc_text("dup"))
    write(tmp_path / "b.jsonl", json.dumps({"id": "dup", "text": "other"}))
    with pytest.raises(CorpusError, match="duplicate document id 'dup'"):
        load_corpus([tmp_path])


def test_empty_document_is_skipped_with_a_warning(tmp_path, caplog):
    write(tmp_path / "full.md", doc_text("full"))
    empty = write(tmp_path / "empty.md", "---\nid: empty\ntitle: Nothing here\n---\n   \n\n")
    with caplog.at_level(logging.WARNING, logger="chatbot"):
        docs = load_corpus([tmp_path])
    assert [d.id for d in docs] == ["full"]
    assert any("empty" in r.getMessage() and str(empty) in r.getMessage() for r in caplog.records)


def test_corpus_of_only_empty_documents_is_an_error(tmp_path):
    write(tmp_path / "empty.md", "---\nid: empty\n---\n\n")
    with pytest.raises(CorpusError, match="no documents"):
        load_corpus([tmp_path])


def test_nonexistent_path_is_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CorpusError, match=re.escape(str(missing)) + r" does not exist"):
        load_corpus([missing])


# --- which files count -------------------------------------------------------------------------


def test_readme_underscore_hidden_and_other_files_are_ignored(tmp_path):
    keep = [write(tmp_path / "a.md", doc_text("a")), write(tmp_path / "b.txt", doc_text("b")),
            write(tmp_path / "c.jsonl", json.dumps({"id": "c", "text": "t"})), write(tmp_path / "sub" / "d.markdown", doc_text("d"))]
    for name in ("README.md", "readme.txt", "_draft.md", ".hidden.md", "chrome_rules.toml", "glossary.toml",
                 "notes.pdf", "_private/e.md", ".git/f.md"):
        write(tmp_path / name, doc_text(Path(name).stem.strip("._")))
    assert corpus_files([tmp_path]) == sorted(keep)
    assert [d.id for d in load_corpus([tmp_path])] == ["a", "b", "c", "d"]


def test_a_single_file_can_be_the_corpus(tmp_path):
    f = write(tmp_path / "one.md", doc_text("one"))
    write(tmp_path / "two.md", doc_text("two"))
    assert [d.id for d in load_corpus([f])] == ["one"]


def test_symlink_loop_in_a_folder_does_not_hang(tmp_path):
    root = tmp_path / "corpus"
    write(root / "sub" / "a.md", doc_text("a"))
    os.symlink(root, root / "sub" / "loop")  # sub/loop -> corpus -> sub -> loop -> ...
    result: list = []
    worker = threading.Thread(target=lambda: result.append(load_corpus([root])), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "load_corpus kept walking a symlink loop"
    assert [d.id for d in result[0]] == ["a"]
