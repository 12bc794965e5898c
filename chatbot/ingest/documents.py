"""Documents: read a corpus of front-matter text/Markdown files and JSONL collections.

A hand-written document is a `.md` or `.txt` file that starts with a small header:

    ---
    id: cmv-anemia-thrombocytopenia
    title: Can CMV Cause Anemia and Thrombocytopenia?
    language: en
    source: Publisher name
    url: https://...
    date: 2025-02-26
    review_by: 2026-02-26
    translation_of: another-document-id
    ---
    (the article, verbatim)

Every header field but `id` is optional; `review_by` is the date after which staff should check
the document again (the staff area lists documents past it); `translation_of` names the document
this one is a translation of (a whole translated leaflet: its sentences are shown, labelled, to
readers of its language when an answer quotes the original).

A JSONL collection has one JSON object a line with `id`, `text` and optional `title`,
`language`, `url`, `source`. Files whose name starts with `_` or `.`, README files and
`chrome_rules.toml` are not documents. Empty documents are skipped with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import CorpusError
from ..records import Document

log = logging.getLogger("chatbot")

TEXT_SUFFIXES = {".md", ".txt", ".markdown"}
JSONL_SUFFIXES = {".jsonl"}
MAX_FILE_BYTES = 200 * 1024 * 1024
_ID_RE = re.compile(r"^[\w.:/+-]{1,200}$")
_FIELD_MAP = {"text": ("text", "answer", "content", "body"), "title": ("title", "focus", "question")}


def corpus_files(paths: Iterable[Path]) -> list[Path]:
    """All document files under the given files/folders, sorted, without following folder links."""
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise CorpusError(f"corpus path {p} does not exist: check --corpus / CHATBOT_CORPUS")
        if p.is_file():
            found.append(p)
            continue
        for root, dirs, files in os.walk(p, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for name in sorted(files):
                f = Path(root) / name
                if _is_document_file(f):
                    found.append(f)
    return found


def _is_document_file(f: Path) -> bool:
    if f.name.startswith((".", "_")) or f.name.lower().startswith("readme"):
        return False
    return f.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES


def load_corpus(paths: Iterable[Path]) -> list[Document]:
    """Every document of the corpus; raises CorpusError naming the file on a fault."""
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for f in corpus_files(paths):
        for doc in read_file(f):
            if not doc.text.strip():
                log.warning("skipped empty document %r in %s", doc.id, f)
                continue
            if doc.id in seen:
                raise CorpusError(f"duplicate document id {doc.id!r} in {seen[doc.id]} and {doc.path}: ids must be unique")
            seen[doc.id] = doc.path
            docs.append(doc)
    if not docs:
        raise CorpusError("the corpus has no documents: add .md/.txt files with a header, or a .jsonl collection")
    return docs


def read_file(path: Path) -> Iterator[Document]:
    """The documents of one corpus file."""
    raw = _read_text(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _parse_jsonl(raw, path)
    else:
        yield parse_front_matter(raw, path)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(f"{path} is {size // 2**20} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit: split it")
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc


def parse_front_matter(raw: str, path: Path) -> Document:
    text = raw.replace("\r\n", "\n")
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end < 0:
            raise CorpusError(f"{path}: the header starting with '---' has no closing '---' line")
        for n, line in enumerate(text[4:end].split("\n"), 2):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise CorpusError(f"{path}:{n}: header lines are 'key: value', got {line!r}")
            meta[key.strip().lower()] = value.strip()
        text = text[end + 5 :]
    return _document(meta, text, path, default_id=path.stem)


def json_records(lines: Iterable[str], path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank JSONL line; CorpusError naming the line otherwise."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(rec, dict):
            raise CorpusError(f"{path}:{n}: each line must be a JSON object")
        yield n, rec


def _parse_jsonl(raw: str, path: Path) -> Iterator[Document]:
    for n, rec in json_records(raw.splitlines(), path):
        meta = {k: str(v) for k, v in rec.items() if isinstance(v, (str, int, float))}
        text = next((meta[k] for k in _FIELD_MAP["text"] if meta.get(k)), "")
        if "id" not in meta:
            raise CorpusError(f"{path}:{n}: record has no 'id'")
        yield _document(meta, text, path, default_id="", line=n)


def _document(meta: dict[str, str], text: str, path: Path, default_id: str, line: int = 0) -> Document:
    where = f"{path}:{line}" if line else str(path)
    doc_id = meta.get("id", default_id).strip()
    if not _ID_RE.match(doc_id):
        raise CorpusError(f"{where}: document id {doc_id!r} must be 1-200 letters, digits or . _ - : / +")
    language = meta.get("language", meta.get("lang", "")).strip().lower()[:2]
    title = next((meta[k] for k in _FIELD_MAP["title"] if meta.get(k)), doc_id)
    return Document(
        id=doc_id,
        title=title.strip(),
        text=text,
        language=language,
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        date=meta.get("date", ""),
        path=where,
        review_by=meta.get("review_by", meta.get("review-by", "")).strip(),
        translation_of=meta.get("translation_of", meta.get("translation-of", "")).strip(),
    )
