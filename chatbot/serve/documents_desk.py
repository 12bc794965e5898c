"""The staff area's documents: convert an upload or pasted text, preview it, publish, replace,
retire, and list what the corpus holds. Publishing writes the corpus folder (still the source of
truth) and asks the background rebuilder for an incremental build; every action is audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from ..ingest.documents import corpus_files, read_file
from ..ingest.formats import Metadata, convert_file, convert_text
from ..ingest.publish import locate, overdue, preview, retire, write_document
from ..records import Document
from .content_html import preview_html
from .render import ui_text
from .translated import index_passages

log = logging.getLogger("chatbot")
PAGE_SIZE = 25
FIELDS = ("title", "language", "source", "url", "date", "review_by", "translation_of")


@dataclass(frozen=True)
class Listed:
    """One row of the document list."""

    id: str
    title: str
    language: str
    passages: int
    changed: str  # YYYY-MM-DD of the file's last change
    review_by: str
    overdue: bool
    path: str


class DocumentDesk:
    """Documents in the corpus folders of the served index, and the changes staff make to them."""

    def __init__(self, engine: Any, store: Any, rebuilder: Any) -> None:
        self.engine, self.store, self.rebuilder = engine, store, rebuilder
        self.settings = engine.settings
        self._files: dict[Path, tuple[tuple[int, int], list[Document]]] = {}
        self._counts: tuple[int, Counter] = (0, Counter())

    def folder(self) -> Path:
        """The corpus folder new documents go to: the first one configured."""
        folder = Path(self.settings.corpus[0])
        if not folder.is_dir():
            raise CorpusError(f"the first corpus path {folder} is not a folder: start the server with --corpus DIR")
        return folder

    def convert(self, file: str | None, text: str, fields: dict[str, str], replace_id: str = "") -> Document:
        """The document in an uploaded file or pasted text, with the staff's fields (CorpusError saying what is wrong)."""
        language = fields.get("language", "")
        meta = Metadata(**{f: str(fields.get(f) or "") for f in FIELDS if f != "language"},
                        language=language if language in ("en", "id") else "", id=replace_id.strip())
        if file:
            return convert_file(Path(file), meta, self.folder(), name=Path(file).name)
        if text and text.strip():
            return convert_text(text, meta, self.folder())
        raise CorpusError("choose a file to upload, or paste the text, then press Preview")

    def preview(self, user: str, file: str | None, text: str, fields: dict[str, str], replace_id: str,
                lang: str) -> tuple[Document | None, str, str]:
        """(the converted document, its preview as HTML, a message); audited."""
        try:
            doc = self.convert(file, text, fields, replace_id)
            if replace_id.strip() and self._where(replace_id.strip()) is None:
                raise CorpusError(f"there is no document {replace_id.strip()!r} to replace: check the id, or clear the field")
            shown = preview(doc, self.folder(), _chunking(self.settings))
        except CorpusError as exc:
            return None, "", ui_text("doc_refused", lang, reason=str(exc))
        name = Path(file).name if file else "pasted text"
        self.store.audit.record(user, "doc_preview", f"{name}: {doc.id} ({len(shown.passages)} passages, {len(shown.dropped)} lines dropped)")
        notes = self._notes(doc, replace_id.strip(), lang)
        return doc, preview_html(shown, lang, notes), ui_text("doc_previewed", lang, id=doc.id, passages=len(shown.passages))

    def _notes(self, doc: Document, replace_id: str, lang: str) -> list[str]:
        notes = [ui_text("doc_will_replace", lang, id=replace_id)] if replace_id else []
        if doc.translation_of:
            original = next((d for d in self._all() if d.id == doc.translation_of), None)
            key = "doc_is_translation_of" if original and original.language != doc.language else "doc_translation_of_missing"
            notes.append(ui_text(key, lang, id=doc.translation_of))
        return notes

    def publish(self, user: str, doc: Document | None, replace_id: str, lang: str) -> tuple[bool, str]:
        """Write the previewed document into the corpus (in place of `replace_id` when given) and start the
        rebuild; (whether it was written, a message)."""
        if doc is None:
            return False, ui_text("doc_preview_first", lang)
        if self.rebuilder is None:
            return False, ui_text("doc_no_rebuild", lang)
        replace_id = replace_id.strip()
        try:
            folder = self._where(replace_id) if replace_id else self.folder()
            if folder is None:
                raise CorpusError(f"there is no document {replace_id!r} to replace: check the id")
            path = write_document(replace(doc, id=replace_id) if replace_id else doc, folder, replace=bool(replace_id))
        except CorpusError as exc:
            return False, ui_text("doc_refused", lang, reason=str(exc))
        action = "doc_replace" if replace_id else "doc_publish"
        doc_id = replace_id or doc.id
        self.store.audit.record(user, action, f"{doc_id} ({doc.language}, {doc.title!r}) -> {path}")
        self.rebuilder.request(f"{'replace' if replace_id else 'publish'} {doc_id} by {user}")
        return True, ui_text("doc_published", lang, id=doc_id)

    def retire(self, user: str, doc_id: str, confirmed: bool, lang: str) -> str:
        """Move a document to `.retired/` and start the rebuild; audited."""
        doc_id = (doc_id or "").strip()
        if not doc_id:
            return ui_text("doc_choose", lang)
        if not confirmed:
            return ui_text("doc_retire_confirm", lang)
        if self.rebuilder is None:
            return ui_text("doc_no_rebuild", lang)
        folder = self._where(doc_id)
        try:
            if folder is None:
                raise CorpusError(f"no document with id {doc_id!r} in the corpus: check the id")
            moved = retire(doc_id, folder)
        except CorpusError as exc:
            return ui_text("doc_refused", lang, reason=str(exc))
        self.store.audit.record(user, "doc_retire", f"{doc_id} -> {moved}")
        self.rebuilder.request(f"retire {doc_id} by {user}")
        return ui_text("doc_retired", lang, id=doc_id)

    def edit(self, doc_id: str, lang: str) -> tuple[str, dict[str, str], str]:
        """(text, fields, message) of a document's file, to change and publish again in its place."""
        folder = self._where((doc_id or "").strip())
        path = locate(doc_id.strip(), folder) if folder is not None else None
        if path is None:
            return "", {}, ui_text("doc_refused", lang, reason=f"no document with id {doc_id!r} in the corpus")
        if path.suffix.lower() == ".jsonl":
            return "", {}, ui_text("doc_refused", lang, reason=f"{doc_id} is part of the collection {path.name}: edit that file")
        try:
            doc = next(d for d in read_file(path) if d.id == doc_id.strip())
        except CorpusError as exc:  # a file damaged by hand since it was published
            return "", {}, ui_text("doc_refused", lang, reason=str(exc))
        return doc.text, {f: getattr(doc, f) for f in FIELDS}, ui_text("doc_editing", lang, id=doc.id)

    def documents(self, query: str = "", page: int = 1, today: dt.date | None = None) -> tuple[list[Listed], int, int]:
        """A page of the document list (past their review date first, then the latest changed), the page and the total."""
        counts = self._passage_counts()
        needle = (query or "").strip().casefold()
        rows = [Listed(d.id, d.title, d.language, counts.get(d.id, 0), changed, d.review_by, overdue(d, today), d.path)
                for d, changed in self._all(with_dates=True) if not needle or needle in f"{d.id} {d.title}".casefold()]
        rows.sort(key=lambda r: (not r.overdue, _descending(r.changed), r.id))
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page = min(max(1, int(page or 1)), pages)
        return rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], page, len(rows)

    def _all(self, with_dates: bool = False) -> list:
        """Every document of the corpus folders (files read again only when they changed)."""
        out = []
        try:
            files = corpus_files(self.settings.corpus)
        except CorpusError as exc:
            log.warning("document list: %s", exc)
            return out
        for f in files:
            try:
                st = f.stat()
                key = (st.st_mtime_ns, st.st_size)
                if self._files.get(f, ((), []))[0] != key:
                    self._files[f] = (key, list(read_file(f)))
            except (OSError, CorpusError) as exc:
                log.warning("document list: %s", exc)
                continue
            changed = dt.datetime.fromtimestamp(st.st_mtime).date().isoformat()
            out += [(d, changed) if with_dates else d for d in self._files[f][1]]
        return out

    def _passage_counts(self) -> Counter:
        bot = getattr(self.engine, "bot", None)
        if id(bot) != self._counts[0]:
            self._counts = (id(bot), Counter(c.doc_id for c in index_passages(bot)))
        return self._counts[1]

    def _where(self, doc_id: str) -> Path | None:
        """The corpus folder holding the document `doc_id`."""
        for folder in (Path(p) for p in self.settings.corpus if Path(p).is_dir()):
            if doc_id and locate(doc_id, folder) is not None:
                return folder
        return None


def _chunking(settings: Any) -> Any:
    from ..index.build import chunk_settings

    return chunk_settings(settings)


def _descending(date: str) -> str:
    """A sort key putting later ISO dates first."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date)


def progress_line(progress: Any, manifest: dict, lang: str) -> str:
    """The one line saying where the background rebuild is (or what the index holds when none runs)."""
    counts = manifest.get("counts", {})
    if progress is None or progress.stage == "idle":
        return ui_text("progress_idle", lang, documents=counts.get("documents", "?"), passages=counts.get("chunks", "?"))
    values = {"reason": progress.reason, "done": progress.done, "total": progress.total, "detail": progress.detail,
              "seconds": progress.seconds, "documents": progress.documents, "passages": progress.passages}
    key = "progress_embedding_counted" if progress.stage == "embedding" and progress.total else f"progress_{progress.stage}"
    return ui_text(key, lang, **values)
