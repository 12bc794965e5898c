"""Core records of the data flow: Document -> Chunk -> Hit -> Answer. Frozen, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_hash(text: str, length: int = 12) -> str:
    """Short, stable hash of a text (sha256 hex prefix)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def file_sha256(path) -> str:
    """The full SHA-256 of a file (read in 1 MiB pieces): index files, exported models."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def passage_hash(text: str) -> str:
    """The key a passage translation is filed under: the full SHA-256 of the passage text."""
    return content_hash(text, 64)


@dataclass(frozen=True)
class Document:
    """A source document after loading (raw text) or cleaning (text without site chrome)."""

    id: str
    title: str
    text: str
    language: str = "en"
    source: str = ""
    url: str = ""
    date: str = ""
    path: str = ""
    review_by: str = ""  # YYYY-MM-DD after which staff should check the document again ("" = never)
    translation_of: str = ""  # id of the document this one translates (a whole translated leaflet), if any

    @property
    def hash(self) -> str:
        return content_hash(f"{self.id}\n{self.title}\n{self.language}\n{self.text}")


@dataclass(frozen=True)
class Chunk:
    """A passage of a cleaned document; `start`/`end` are character offsets into that text."""

    id: str
    doc_id: str
    title: str
    section: str
    text: str
    language: str
    start: int
    end: int
    position: int
    source: str = ""
    url: str = ""

    @staticmethod
    def make_id(doc_id: str, position: int, text: str) -> str:
        """Stable id: document id, position and content hash."""
        return f"{doc_id}#{position:04d}-{content_hash(text, 8)}"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused relevance score and the raw per-component scores."""

    chunk: Chunk
    score: float
    components: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Translation:
    """Where the translated text of a quote comes from: `text` is the reviewed translation of the
    cited passage (or the passage of the translated leaflet) that holds it verbatim; `kind` is
    "staff" (a passage translation staff wrote and reviewed) or "leaflet" (a document declared
    `translation_of` the cited one); `reviewed` is a YYYY-MM-DD date, `title` the leaflet's title."""

    text: str
    language: str
    reviewed: str = ""
    kind: str = "staff"
    title: str = ""


@dataclass(frozen=True)
class Quote:
    """A sentence quoted verbatim from passage `n` (0-based, into the answer's hits), with the list
    items it introduces; `language` is the passage's language.

    A quote shown in a reviewed translation carries `translation`: then `text` and `items` are the
    translated sentence and items (verbatim in `translation.text`), and `original` and
    `original_items` what the passage says (verbatim in it)."""

    n: int
    text: str
    items: tuple[str, ...] = ()
    language: str = ""
    original: str = ""
    original_items: tuple[str, ...] = ()
    translation: Translation | None = None


@dataclass(frozen=True)
class Answer:
    """What the bot says to one question: its parts, and `text`, the parts rendered as plain text.

    Parts, in reading order: urgent advice (`urgent`), `notes` (fixed texts such as "I answer in
    English and Indonesian"), the `quotes` with their passage numbers, the cited sources (the hits
    the quotes come from, see `sources`) and the disclaimer. `abstained` answers quote nothing;
    `notice` names the fixed message of a reply that is only a message (empty question, ...).
    """

    question: str
    language: str
    text: str
    hits: tuple[Hit, ...]
    abstained: bool = False
    urgent: bool = False
    notice: str = ""
    notes: tuple[str, ...] = ()
    quotes: tuple[Quote, ...] = ()

    @property
    def sources(self) -> tuple[int, ...]:
        """0-based numbers of the passages the quotes come from, in order."""
        return tuple(sorted({q.n for q in self.quotes}))

    @property
    def disclaimer(self) -> bool:
        """Every reply carries the disclaimer, except a bare message (empty question, busy, ...)."""
        return not self.notice
