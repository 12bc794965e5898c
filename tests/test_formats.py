"""Uploaded files -> documents: web pages, PDFs, Word files, pasted text, and every kind of bad file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import document_files as files
from chatbot.errors import ChatbotError, CorpusError
from chatbot.ingest.documents import MAX_FILE_BYTES, load_corpus
from chatbot.ingest.formats import Metadata, convert_file, convert_text, slugify, with_metadata
from chatbot.ingest.publish import preview


def lines_of(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


# --- HTML ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_preview(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "dengue.html"
    path.write_text(files.chrome_page(), encoding="utf-8")
    return preview(convert_file(path))


def test_html_keeps_the_article_with_its_headings_list_and_table(page_preview):
    text = page_preview.cleaned
    assert files.ARTICLE in text and files.TREATMENT in text  # verbatim, emphasis marks dropped
    lines = lines_of(text)
    for heading in ("Dengue fever in children", "Warning signs", "Treatment at home"):
        assert heading in lines  # a heading is a line of its own, no "#"
    for item in files.WARNING_ITEMS:
        assert f"- {item}" in lines
    assert "1-5 years | 120-250 mg" in lines
    assert lines.index("Warning signs") < lines.index(f"- {files.WARNING_ITEMS[0]}") < lines.index("Treatment at home")


def test_html_site_chrome_scripts_and_styles_never_reach_the_text(page_preview):
    for phrase in files.PAGE_CHROME + files.LEAKS:
        assert phrase not in page_preview.document.text, phrase
        assert all(phrase not in c.text for c in page_preview.passages), phrase


def test_html_then_goes_through_our_chrome_rules(page_preview):
    assert files.SPONSOR in page_preview.document.text  # trafilatura cannot know this line is chrome
    assert files.SPONSOR not in page_preview.cleaned
    assert [(d.text, d.rule) for d in page_preview.dropped] == [(files.SPONSOR, "sponsor thanks")]
    line = page_preview.document.text.split("\n")[page_preview.dropped[0].number - 1]
    assert line == files.SPONSOR


def test_html_metadata_title_date_source_and_language(page_preview):
    doc = page_preview.document
    assert doc.title == "Dengue fever in children"  # the <title> without the site name
    assert doc.id == "dengue-fever-in-children"
    assert (doc.date, doc.source, doc.language) == ("2025-03-14", "Klinik Sehat", "en")


def test_html_passages_follow_the_headings(page_preview):
    sections = [c.section for c in page_preview.passages]
    assert "Warning signs" in sections and "Treatment at home" in sections
    warning = next(c for c in page_preview.passages if c.section == "Warning signs")
    assert all(item in warning.text for item in files.WARNING_ITEMS)  # the short list stays in one passage


# --- PDF ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_doc(tmp_path_factory):
    return convert_file(files.leaflet_pdf(tmp_path_factory.mktemp("pdf") / "leaflet.pdf"))


def test_pdf_list_items_stay_items_and_a_wrapped_item_is_one_line(pdf_doc):
    lines = lines_of(pdf_doc.text)
    for item in (*files.WARNING_ITEMS[:2], files.LONG_ITEM):
        assert f"- {item}" in lines, item
    first = lines.index(f"- {files.WARNING_ITEMS[0]}")
    assert lines[first - 1] == "Go to the hospital at once if your child has any of these signs:"
    assert lines[first + 2] == f"- {files.LONG_ITEM}"


def test_pdf_keeps_headings_paragraphs_and_page_order(pdf_doc):
    lines = lines_of(pdf_doc.text)
    order = ["Dengue fever in children", files.ARTICLE, "Warning signs", files.TREATMENT, "Preventing mosquito bites",
             files.BREEDING, "After recovery"]
    assert [lines.index(x) for x in order] == sorted(lines.index(x) for x in order)


def test_pdf_joins_hyphenated_words_and_paragraphs_over_a_page_break(pdf_doc):
    assert "ibuprofen" in pdf_doc.text and "ibu-" not in pdf_doc.text
    assert files.BREEDING in lines_of(pdf_doc.text)  # begins on page 1, ends on page 2: one paragraph


def test_pdf_drops_the_running_header_and_page_numbers(pdf_doc):
    assert files.RUNNING_HEADER not in pdf_doc.text
    assert not any(line.startswith("Page ") for line in lines_of(pdf_doc.text))


def test_pdf_title_from_its_properties_else_its_largest_first_heading(pdf_doc, tmp_path):
    assert pdf_doc.title == "Dengue fever: what parents should know"
    untitled = convert_file(files.leaflet_pdf(tmp_path / "untitled.pdf", title=None))
    assert untitled.title == "Dengue fever in children"


def test_pdf_columns_are_read_one_after_the_other(tmp_path):
    lines = lines_of(convert_file(files.two_column_pdf(tmp_path / "cols.pdf")).text)
    left = next(i for i, line in enumerate(lines) if line.startswith("The left column comes first."))
    right = next(i for i, line in enumerate(lines) if line.startswith("The right column comes second."))
    assert right == left + 1
    assert lines[right].count("Evening clinics run from five until eight on Tuesdays.") == 4  # justified lines in order
    assert "Evening" not in lines[left] and "Morning" not in lines[right]


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    """Permissions-only protection: every reader opens it without a password, and so do we."""
    doc = convert_file(files.leaflet_pdf(tmp_path / "owner.pdf", owner_password="owner"))
    assert files.ARTICLE in doc.text


# --- Word ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docx_doc(tmp_path_factory):
    return convert_file(files.leaflet_docx(tmp_path_factory.mktemp("docx") / "brosur.docx"))


def test_docx_headings_lists_and_table(docx_doc):
    lines = lines_of(docx_doc.text)
    assert lines[:2] == ["Demam berdarah pada anak", files.DOCX_INTRO]
    assert "Tanda bahaya" in lines and "Perawatan di rumah" in lines
    for item in files.DOCX_ITEMS:
        assert f"- {item}" in lines
    assert "  - terutama pada hari ketiga sampai kelima" in docx_doc.text.split("\n")  # the sub-item, indented
    assert [f"1. {files.DOCX_STEPS[0]}", f"2. {files.DOCX_STEPS[1]}"] == [l for l in lines if l[:2] in ("1.", "2.")]
    assert "1-5 tahun | 120-250 mg" in lines
    assert "Klinik Sehat - brosur pasien" not in docx_doc.text  # the page header is not content


def test_docx_metadata_and_indonesian_language(docx_doc):
    assert (docx_doc.title, docx_doc.id, docx_doc.language) == ("Demam berdarah pada anak", "demam-berdarah-pada-anak", "id")


def test_docx_passages_keep_the_list_under_its_heading(docx_doc):
    passages = preview(docx_doc).passages
    danger = next(c for c in passages if c.section == "Tanda bahaya")
    assert all(item in danger.text for item in files.DOCX_ITEMS)
    assert {c.language for c in passages} == {"id"}


# --- text, pasted text, metadata ----------------------------------------------------------------


def test_markdown_and_text_are_kept_as_they_are(tmp_path):
    body = "Cara mencegah demam berdarah\n\nKuras tempat penampungan air setiap minggu dan tutup rapat.\n\n- Pakai kelambu\n- Pakai losion anti nyamuk"
    path = tmp_path / "cegah.md"
    path.write_text(body + "\n", encoding="utf-8")
    doc = convert_file(path)
    assert doc.text == body
    assert (doc.title, doc.language, doc.id) == ("Cara mencegah demam berdarah", "id", "cara-mencegah-demam-berdarah")


def test_a_corpus_file_with_a_header_keeps_its_metadata(corpus_dir):
    doc = convert_file(corpus_dir / "cmv-nec-preemies.md")
    assert (doc.id, doc.title, doc.source, doc.date) == ("cmv-nec-preemies", "CMV Infection Worsens NEC in Preemies", "MedTechNews.Uk", "2025-02-26")
    assert not doc.text.startswith("---")


def test_a_files_unusable_metadata_is_left_out_not_refused(tmp_path):
    path = tmp_path / "old.md"
    path.write_text("---\nid: faq:12/a\ntitle: Fever\nlanguage: fr\nurl: www.klinik.example\ndate: 26 Feb 2025\n---\n"
                    "Fever in children is common and usually harmless.\n", encoding="utf-8")
    doc = convert_file(path)
    assert (doc.id, doc.title, doc.language, doc.url, doc.date) == ("fever", "Fever", "en", "", "")


def test_pasted_text_and_staff_metadata_win_over_the_file(tmp_path):
    meta = Metadata(title="Dengue: home care", language="en", source="Klinik Sehat", url="https://klinik.example/dengue",
                    date="2025-01-31", review_by="2026-01-31", id="dengue-home")
    doc = convert_text("Give plenty of fluids.\n\nParacetamol helps the fever.", meta)
    assert (doc.id, doc.title, doc.language, doc.source, doc.url, doc.date, doc.review_by) == (
        "dengue-home", "Dengue: home care", "en", "Klinik Sehat", "https://klinik.example/dengue", "2025-01-31", "2026-01-31")
    changed = with_metadata(doc, Metadata(title="Dengue at home", review_by="2027-01-01"))
    assert (changed.title, changed.review_by, changed.id, changed.url) == ("Dengue at home", "2027-01-01", "dengue-home", doc.url)


def test_windows_ansi_and_utf16_text_files_are_decoded(tmp_path):
    (tmp_path / "ansi.txt").write_bytes("Café au lait spots are flat patches on the skin that are darker than the skin around them.".encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes("Demam berdarah disebarkan oleh nyamuk Aedes di daerah tropis.".encode("utf-16"))
    assert convert_file(tmp_path / "ansi.txt").text.startswith("Café au lait")
    assert convert_file(tmp_path / "utf16.txt").language == "id"


def test_ids_are_ascii_slugs_unique_in_the_corpus_folder(corpus_copy):
    assert slugify("Demam Berdarah: Tanda Bahaya!") == "demam-berdarah-tanda-bahaya"
    assert slugify("Ðiều trị sốt xuất huyết") == "ieu-tri-sot-xuat-huyet"
    assert slugify("登革热") == "document"
    doc = convert_text("CMV and NEC in premature babies: a second article.", Metadata(title="CMV NEC preemies"), corpus_copy)
    assert doc.id == "cmv-nec-preemies-2"  # the seed corpus has cmv-nec-preemies


def test_header_values_cannot_add_header_lines():
    doc = convert_text("Some text about fever in children.", Metadata(title="Fever\nid: other\n---", source="A\nB"))
    assert doc.title == "Fever id: other ---" and doc.source == "A B"


@pytest.mark.parametrize("meta,expected", [
    (Metadata(language="fr"), "language 'fr'"),
    (Metadata(review_by="next year"), "review-by 'next year' is not a date"),
    (Metadata(date="31/01/2025"), "YYYY-MM-DD"),
    (Metadata(url="javascript:alert(1)"), "http://"),
    (Metadata(id="../../etc/passwd"), "document id"),
    (Metadata(id=".hidden"), "document id"),
])
def test_bad_metadata_is_refused_with_what_to_write(meta, expected):
    with pytest.raises(CorpusError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        convert_text("Fever in children is common and usually harmless.", meta)


# --- bad files ----------------------------------------------------------------------------------


def _truncated_pdf(tmp_path: Path) -> bytes:
    data = files.leaflet_pdf(tmp_path / "whole.pdf").read_bytes()
    return data[: len(data) // 2]


BAD_FILES = {
    "empty.pdf": (lambda t: b"", "is empty"),
    "blank.txt": (lambda t: b"  \n\n \t\n", "is empty"),
    "photo.pdf": (lambda t: files.PNG, "is a PNG image, not a PDF"),
    "photo.docx": (lambda t: files.PNG, "is a PNG image, not a Word .docx file"),
    "old.docx": (lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old Word"),
    "notes.txt": (lambda t: b"text\x00\x01\x02 and binary", "binary file"),
    "page.pdf": (lambda t: b"<html><body><p>Not a PDF at all.</p></body></html>", "not a PDF file inside"),
    "truncated.pdf": (_truncated_pdf, "is incomplete"),
    "broken.pdf": (lambda t: b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nendobj\ngarbage\n%%EOF\n", "damaged PDF"),
    "locked.pdf": (lambda t: files.leaflet_pdf(t / "l.pdf", owner_password="o", user_password="secret").read_bytes(), "protected with a password"),
    "scan.pdf": (lambda t: files.scanned_pdf(t / "s.pdf").read_bytes(), "no text layer"),
    "broken.docx": (lambda t: files.leaflet_docx(t / "b.docx").read_bytes()[:3000], "damaged or incomplete Word file"),
    "sheet.docx": (lambda t: files.zip_bytes({"xl/workbook.xml": b"<workbook/>"}), "is an Excel file"),
    "garbled.docx": (lambda t: files.zip_bytes({"word/document.xml": b"<not-word", "[Content_Types].xml": b"<x/>"}), "damaged Word file"),
    "menu.html": (lambda t: b"<html><body><nav><a href='/'>Home</a> <a href='/x'>About</a></nav><script>x()</script></body></html>", "no article text"),
    "leaflet.rtf": (lambda t: b"{\\rtf1\\ansi Hello}", "is an RTF file"),
    "data.csv": (lambda t: b"a,b\n1,2\n", "unsupported file type"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_gets_a_message_naming_it_and_what_to_do(name, tmp_path):
    make, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    with pytest.raises(CorpusError) as info:
        convert_file(path)
    message = str(info.value)
    assert isinstance(info.value, ChatbotError)
    assert name in message and expected in message, message
    assert any(word in message for word in ("save", "upload", "paste", "choose", "copy", "OCR", "use ", "split")), message


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(CorpusError, match=r"huge.txt is 200 MiB, over the 200 MiB limit: split it"):
        convert_file(path)
    with pytest.raises(CorpusError, match="over the 200 MiB limit"):
        convert_text("x" * (MAX_FILE_BYTES + 1))


def test_a_word_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.docx"
    path.write_bytes(files.zip_bytes({"word/document.xml": b"<w/>", "word/media/big.bin": b"\x00" * (MAX_FILE_BYTES + 1)}))
    with pytest.raises(CorpusError, match="bomb.docx unpacks to 200 MiB"):
        convert_file(path)


def test_a_missing_file_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="cannot read nope.pdf"):
        convert_file(tmp_path / "nope.pdf")


# --- the loader and review_by -------------------------------------------------------------------


def test_existing_corpora_load_with_an_empty_review_by(corpus_dir):
    assert {d.review_by for d in load_corpus([corpus_dir])} == {""}


def test_review_by_is_read_from_the_header(tmp_path):
    (tmp_path / "a.md").write_text("---\nid: a\ntitle: A\nreview_by: 2026-06-30\n---\nText about fever.\n", encoding="utf-8")
    assert load_corpus([tmp_path])[0].review_by == "2026-06-30"


def test_conversion_does_not_leave_files_behind(tmp_path):
    before = set(os.listdir(tmp_path))
    convert_text("Fever in children is common.", Metadata(), tmp_path)
    assert set(os.listdir(tmp_path)) == before


def test_a_word_file_cannot_pull_in_other_files_through_xml_entities(tmp_path):
    """XXE: an entity naming /etc/passwd stays unresolved (python-docx parses with resolve_entities=False)."""
    import zipfile

    src = files.leaflet_docx(tmp_path / "src.docx")
    with zipfile.ZipFile(src) as z:
        members = {name: z.read(name) for name in z.namelist()}
    xml = members["word/document.xml"].decode("utf-8")
    head, body = xml.split("?>", 1)
    members["word/document.xml"] = (head + '?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                                    + body.replace("Tanda bahaya", "Tanda bahaya &xxe;", 1)).encode("utf-8")
    evil = tmp_path / "evil.docx"
    evil.write_bytes(files.zip_bytes(members))
    try:
        text = convert_file(evil).text
    except CorpusError as exc:
        text = str(exc)
    assert "root:" not in text
