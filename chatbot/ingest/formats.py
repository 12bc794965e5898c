"""Formats: turn an uploaded file (.md, .txt, .html, .pdf, .docx) or pasted text into a Document.

The document text is the corpus's own plain format, which the chunker reads: a paragraph a line,
headings on lines of their own, list items as "- " (or "1. ") lines, table rows as "a | b" lines,
blank lines between blocks. Headings get no "#": the chunker and the answer composer take a short
line for a heading, and a patient would see the marks. Each format has its reader (webpage, pdf,
word); nothing from a file is executed or rendered, and every fault is a CorpusError naming the
file and what to do. Chrome rules are applied later, as for every document (see publish.preview).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from . import langid
from .documents import MAX_FILE_BYTES, corpus_files, parse_front_matter, read_file
from ..errors import CorpusError
from ..records import Document

READERS = {".md": "text", ".markdown": "text", ".txt": "text", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
MAX_TITLE_CHARS = 200
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # also a file name: no "/", no leading "."
_SIGNATURES = (  # what a file that is none of ours usually is, for the message
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"\xd0\xcf\x11\xe0", "an old Word/Excel file (.doc/.xls)"),
    (b"{\\rtf", "an RTF file"), (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
)
_FIELDS = ("title", "language", "source", "url", "date", "review_by", "id", "translation_of")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero-width marks


@dataclass(frozen=True)
class Metadata:
    """What staff say about a document; an empty field is filled from the file (title, date, url,
    source), detected (language) or derived (id: a slug of the title, unique in the corpus folder)."""

    title: str = ""
    language: str = ""
    source: str = ""
    url: str = ""
    date: str = ""
    review_by: str = ""
    id: str = ""
    translation_of: str = ""  # the id of the document this one translates (a whole translated leaflet)


@dataclass(frozen=True)
class Extracted:
    """What a format reader found: the document text, and what the file says about itself."""

    text: str
    meta: Metadata = Metadata()


def convert_file(path: Path, meta: Metadata = Metadata(), corpus_dir: Path | None = None, name: str | None = None) -> Document:
    """The document in an uploaded file; `name` (default: the file's name) is what messages call it."""
    path = Path(path)
    name = name or path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(f"{name} is {size // 2**20} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit: split it into smaller files")
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {name}: {exc.strerror or exc}") from exc
    return make_document(read_bytes(data, name), meta, corpus_dir, name)


def convert_text(text: str, meta: Metadata = Metadata(), corpus_dir: Path | None = None, name: str = "the pasted text") -> Document:
    """The document in pasted text (Markdown or plain text, kept as it is)."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise CorpusError(f"{name} is over the {MAX_FILE_BYTES // 2**20} MiB limit: split it")
    return make_document(_plain(text, name), meta, corpus_dir, name)


def read_bytes(data: bytes, name: str) -> Extracted:
    """Text and file metadata of a file's bytes. The content decides the reader when it is a PDF or a
    Word file whatever the extension; anything else goes by the extension."""
    if not data.strip():
        raise CorpusError(f"{name} is empty: choose the file again, or paste the text")
    kind = READERS.get(Path(name).suffix.lower())
    sniffed = "pdf" if b"%PDF-" in data[:1024] else "docx" if data.startswith(b"PK\x03\x04") else None
    if sniffed is None and not data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes
        _refuse_binary(data, name, kind)
        if kind in ("pdf", "docx"):
            raise CorpusError(f"{name} is not a {'PDF' if kind == 'pdf' else 'Word .docx'} file inside (wrong extension?): "
                              "open it and save it again as PDF or .docx, or paste the text")
    kind = sniffed or kind
    if kind is None:
        raise CorpusError(f"{name}: unsupported file type; use .md, .txt, .html, .pdf or .docx (or paste the text)")
    if kind == "pdf":
        from .pdf import read_pdf

        return read_pdf(data, name)
    if kind == "docx":
        from .word import read_docx

        return read_docx(data, name)
    if kind == "html" or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        from .webpage import read_html

        return read_html(data, name)
    return _plain(decode_text(data, name), name)


def _refuse_binary(data: bytes, name: str, kind: str | None) -> None:
    what = next((label for magic, label in _SIGNATURES if data.startswith(magic)), "")
    if what or b"\x00" in data[:8192]:
        expected = {"text": "a text file", "html": "a web page", "pdf": "a PDF", "docx": "a Word .docx file"}.get(kind, "a document")
        raise CorpusError(f"{name} is {what or 'a binary file'}, not {expected}: upload the document itself "
                          "as .md, .txt, .html, .pdf or .docx (a scanned page needs OCR first)")


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text, else the encoding charset-normalizer finds (files saved as 'ANSI' on Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise CorpusError(f"{name} is not readable text (unknown encoding): save it as UTF-8 and try again") from None
        return str(best)


def _plain(text: str, name: str) -> Extracted:
    """Markdown or text as it is; a corpus header, when there is one, supplies the metadata."""
    text = tidy(text)
    if not text.startswith("---\n"):
        return Extracted(text)
    doc = parse_front_matter(text + "\n", Path(name))
    header = text.split("\n---\n", 1)[0]
    given = {key for key in re.findall(r"(?m)^\s*([\w-]+)\s*:", header)}
    title = doc.title if given & {"title", "focus", "question"} else ""
    return Extracted(doc.text, Metadata(title=title, language=doc.language, source=doc.source, url=doc.url, date=doc.date,
                                        review_by=doc.review_by, id=doc.id if "id" in given else "",
                                        translation_of=doc.translation_of))


def tidy(text: str) -> str:
    """One line ending, no control or zero-width characters, no trailing spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text.replace("\t", " ").replace("\x0c", "\n"))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def join_blocks(blocks: list[tuple[str, str]]) -> str:
    """(kind, text) blocks as document text: consecutive list items on consecutive lines, every
    other block set apart by a blank line; empty blocks left out."""
    out: list[str] = []
    prev = ""
    for kind, text in blocks:
        if not text.strip():
            continue
        if out and not (kind == prev == "item"):
            out.append("")
        out.append(text)
        prev = kind
    return "\n".join(out)


def make_document(found: Extracted, meta: Metadata, corpus_dir: Path | None, name: str) -> Document:
    """The document with the staff's metadata, else what the file says; what staff typed is checked
    strictly, while a file's unusable date, address, language or id is left out."""
    text = tidy(found.text)
    if not text.strip():
        raise CorpusError(f"{name} has no text: check the file, or paste the text")
    checked = {f: _check(f, getattr(meta, f)) for f in _FIELDS}  # raises on a bad value typed by staff
    for f in _FIELDS:
        if not checked[f]:
            with contextlib.suppress(CorpusError):
                checked[f] = _check(f, getattr(found.meta, f))
    title = (checked["title"] or one_line(_first_line(text)))[:MAX_TITLE_CHARS]
    language = checked["language"] or langid.detect_passage(text[:3000]).language  # a slice: langid caches its inputs
    doc_id = checked["id"] or unique_id(slugify(title), corpus_dir)
    return Document(id=doc_id, title=title, text=text, language=language, source=checked["source"], url=checked["url"],
                    date=checked["date"], review_by=checked["review_by"], translation_of=checked["translation_of"])


def _check(field: str, value: str) -> str:
    """A metadata value on one line, in the form its field needs; CorpusError saying what to write."""
    value = one_line(value)
    if not value:
        return ""
    if field == "language" and value.lower() not in langid.SUPPORTED:
        raise CorpusError(f"language {value!r} is not supported: use en or id")
    if field == "id" and not SAFE_ID.match(value):
        raise CorpusError(f"document id {value!r}: use 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit")
    if field == "translation_of" and not re.match(r"^[\w.:/+-]{1,200}$", value):
        raise CorpusError(f"translation-of {value!r}: give the id of the original document (its `id:` line)")
    if field == "url" and not re.match(r"(?i)^https?://[^\s/]+", value):
        raise CorpusError(f"url {value!r} must start with http:// or https://")
    if field in ("date", "review_by"):
        try:
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            raise CorpusError(f"{field.replace('_', '-')} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-06-30") from None
    return value.lower() if field == "language" else value


def with_metadata(doc: Document, meta: Metadata, corpus_dir: Path | None = None) -> Document:
    """A converted document with the fields staff changed after a first look (empty fields keep theirs)."""
    found = Extracted(doc.text, Metadata(**{f: getattr(doc, f) for f in _FIELDS}))
    return replace(make_document(found, meta, corpus_dir, doc.title), path=doc.path)


def one_line(value: str) -> str:
    """A header value: whitespace (newlines too) collapsed, so no value can add a header line."""
    return " ".join(str(value).split())


def _first_line(text: str) -> str:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return re.sub(r"^(#+|[-*•]|\d{1,2}[.)])\s+", "", first.strip())


def slugify(title: str) -> str:
    """ASCII, lowercase, dashes: 'Demam Berdarah: Tanda Bahaya' -> 'demam-berdarah-tanda-bahaya'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:80].rstrip("-") or "document"


def corpus_ids(corpus_dir: Path) -> dict[str, Path]:
    """Every document id in a corpus folder, with the file that holds it."""
    found: dict[str, Path] = {}
    if corpus_dir is None or not Path(corpus_dir).is_dir():
        return found
    for f in corpus_files([Path(corpus_dir)]):
        for doc in read_file(f):
            found.setdefault(doc.id, f)
    return found


def unique_id(base: str, corpus_dir: Path | None) -> str:
    """`base`, or `base-2`, `base-3`, ... : the first id no document or file of the folder has."""
    taken = corpus_ids(corpus_dir) if corpus_dir else {}
    n, candidate = 1, base
    while candidate in taken or (corpus_dir and any((Path(corpus_dir) / f"{candidate}{s}").exists() for s in (".md", ".txt"))):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
