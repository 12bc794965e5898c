"""Publishing: preview a converted document, write it into a corpus folder, retire it.

The corpus folder stays the source of truth: a published document is a Markdown file with the
usual header (`chatbot build` and version control see it like any other), and a retired one
moves to `.retired/` beside it, which the loader skips, so nothing a clinic gave is lost. Writes
go to a temporary file that is renamed into place, under a lock, so a build never reads half a
file and two publishers never take the same name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace as with_fields
from pathlib import Path

from ..errors import CorpusError
from ..records import Chunk, Document
from .chunking import ChunkSettings, chunk_document
from .cleaning import RULES_FILENAME, Rule, chrome_lines, clean_text, load_rules
from .documents import JSONL_SUFFIXES
from .formats import SAFE_ID, corpus_ids, one_line

RETIRED = ".retired"
HEADER_FIELDS = ("id", "title", "language", "source", "url", "date", "review_by", "translation_of")


@dataclass(frozen=True)
class DroppedLine:
    """A line the chrome rules remove: its number in the document text (from 1), text and rule."""

    number: int
    text: str
    rule: str


@dataclass(frozen=True)
class Preview:
    """What publishing a document would give: its text as cleaned, what cleaning drops, the passages."""

    document: Document  # as converted: what the corpus file will hold
    cleaned: str
    dropped: tuple[DroppedLine, ...]
    passages: tuple[Chunk, ...]


def preview(document: Document, corpus_dir: Path | None = None, chunking: ChunkSettings = ChunkSettings(),
            rules: tuple[Rule, ...] | None = None) -> Preview:
    """Clean and chunk a document as a build would (the built-in chrome rules plus the corpus
    folder's own), without writing anything."""
    if rules is None:
        extra = Path(corpus_dir) / RULES_FILENAME if corpus_dir else None
        rules = load_rules(*([extra] if extra and extra.is_file() else []))
    lines = document.text.split("\n")
    dropped = tuple(DroppedLine(i + 1, lines[i].strip(), rule) for i, rule in chrome_lines(document.text, rules) if lines[i].strip())
    cleaned = with_fields(document, text=clean_text(document.text, rules))
    return Preview(document, cleaned.text, dropped, tuple(chunk_document(cleaned, chunking)))


def overdue(document: Document, today: dt.date | None = None) -> bool:
    """True when the document's review date has passed (a document without one never is)."""
    try:
        return bool(document.review_by) and dt.date.fromisoformat(document.review_by[:10]) < (today or dt.date.today())
    except ValueError:
        return True  # an unreadable date asks for a look as much as a past one


def render(document: Document) -> str:
    """The corpus file of a document: the header, then its text."""
    header = [f"{key}: {one_line(getattr(document, key))}" for key in HEADER_FIELDS if getattr(document, key)]
    return "---\n" + "\n".join(header) + "\n---\n" + document.text.strip("\n") + "\n"


def write_document(document: Document, corpus_dir: Path, replace: bool = False) -> Path:
    """Write the document into the corpus folder as `<id>.md` and return its path. A new id must
    be free; `replace=True` puts it in place of the document with that id (whose old file is
    kept in `.retired/`). Another document's file is never overwritten."""
    corpus_dir = Path(corpus_dir)
    if not SAFE_ID.match(document.id):
        raise CorpusError(f"document id {document.id!r}: use letters, digits, '-', '_' or '.', starting with a letter or digit")
    if not document.text.strip():
        raise CorpusError(f"document {document.id!r} has no text")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it or check --corpus / CHATBOT_CORPUS")
    with _locked(corpus_dir):
        current = corpus_ids(corpus_dir).get(document.id)
        if current is not None and not replace:
            raise CorpusError(f"a document with id {document.id!r} is already in {current}: choose another id, or replace that document")
        if current is not None and current.suffix.lower() in JSONL_SUFFIXES:
            raise CorpusError(f"document {document.id!r} is part of the collection {current}: edit that file, or choose another id")
        target = current or corpus_dir / f"{document.id}.md"
        if current is None and target.exists():
            raise CorpusError(f"{target} exists and holds another document: choose another id")
        if current is not None:
            _keep_copy(current, corpus_dir)
        _atomic_write(target, render(document))
    return target


def locate(doc_id: str, corpus_dir: Path) -> Path | None:
    """The file in a corpus folder that holds the document `doc_id`, if any."""
    return corpus_ids(Path(corpus_dir)).get(doc_id)


def retire(doc_id: str, corpus_dir: Path) -> Path:
    """Take a document out of the corpus: its file moves to `.retired/` in the folder (the next
    build leaves it out); returns where it went."""
    corpus_dir = Path(corpus_dir)
    with _locked(corpus_dir):
        current = locate(doc_id, corpus_dir)
        if current is None:
            raise CorpusError(f"no document with id {doc_id!r} in {corpus_dir}: check the id (it is in the file's header)")
        if current.suffix.lower() in JSONL_SUFFIXES:
            raise CorpusError(f"document {doc_id!r} is part of the collection {current}: remove its line from that file instead")
        return _keep_copy(current, corpus_dir, move=True)


def _keep_copy(path: Path, corpus_dir: Path, move: bool = False) -> Path:
    """Copy (or move) a corpus file into `.retired/`, named with the time so no copy replaces another."""
    folder = corpus_dir / RETIRED
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    dest = folder / f"{path.stem}.{stamp}{path.suffix}"
    if move:
        os.replace(path, dest)
    else:
        shutil.copy2(path, dest)
    return dest


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.writing-{os.getpid()}")  # a dot name: a build running now skips it
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise CorpusError(f"cannot write {path}: {exc.strerror or exc} (is the corpus folder writable?)") from exc
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(corpus_dir: Path) -> Iterator[None]:
    """One publisher at a time per corpus folder."""
    try:
        fh = open(corpus_dir / ".publish.lock", "w")
    except OSError as exc:
        raise CorpusError(f"cannot write in {corpus_dir}: {exc.strerror or exc} (is the corpus folder writable?)") from exc
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
