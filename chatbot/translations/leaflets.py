"""Translated leaflets: a document that declares `translation_of: ID` is aligned sentence by sentence
with the document ID, so an answer quoting the original can show the leaflet's own sentence.

Both documents are cut into the units an answer quotes, over all their passages in reading order,
and aligned (align.py: cross-lingual embedders, numbers, doses and drug names as anchors). Only
confident pairs are kept; the table is built when an index is loaded, never while answering.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..embeddings import Embedder
from ..records import Chunk, Document, passage_hash
from .align import Pair, Scorer, align_units, sentence_map, units

log = logging.getLogger("chatbot")
MAX_CELLS = 4_000_000  # units x units of one leaflet pair; beyond this the pair is not aligned (say so)


@dataclass(frozen=True)
class LeafletSentence:
    """A leaflet's sentence standing for an original one: verbatim in `passage` (the leaflet passage holding it)."""

    translated: str
    passage: str
    language: str
    title: str
    date: str


class Leaflets:
    """Aligned sentences of every translated leaflet, by (original passage hash, original sentence, language)."""

    def __init__(self, table: dict[tuple[str, str, str], LeafletSentence] | None = None, pairs: dict | None = None) -> None:
        self._table = table or {}
        self.pairs = pairs or {}  # (original id, leaflet id) -> the aligned pairs, for the staff area

    def get(self, key: str, sentence: str, language: str) -> LeafletSentence | None:
        """The leaflet sentence for `sentence` of the passage whose text hash is `key`, in `language`."""
        return self._table.get((key, sentence, language))

    def __len__(self) -> int:
        return len(self._table)


def align_leaflets(chunks: Sequence[Chunk], leaflets: Iterable[Document], embedders: Sequence[Embedder],
                   cache: dict | None = None) -> Leaflets:
    """The sentence table of every leaflet whose original is in the index in another language."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    cache = {} if cache is None else cache
    table: dict[tuple[str, str, str], LeafletSentence] = {}
    found: dict[tuple[str, str], list[Pair]] = {}
    scorer = Scorer(embedders)
    for doc in leaflets:
        original, own = by_doc.get(doc.translation_of, []), by_doc.get(doc.id, [])
        if not original or not own or original[0].language == own[0].language:
            log.warning("leaflet %s: translation_of %r is not in the index in another language; not used", doc.id, doc.translation_of)
            continue
        pairs = _pairs(original, own, scorer, cache)
        found[(doc.translation_of, doc.id)] = pairs
        owner = {u.text: c for c in original for u in units(c.text)}
        for sentence, translated in sentence_map(pairs).items():
            holder = next((c for c in own if translated in c.text), None)
            if sentence in owner and holder is not None:
                table[(passage_hash(owner[sentence].text), sentence, holder.language)] = LeafletSentence(
                    translated, holder.text, holder.language, doc.title, doc.date)
    return Leaflets(table, found)


def _pairs(original: list[Chunk], own: list[Chunk], scorer: Scorer, cache: dict) -> list[Pair]:
    """The aligned pairs of two documents' passages (cached by their texts and the embedders)."""
    left_text, right_text = "\n".join(c.text for c in original), "\n".join(c.text for c in own)
    key = hashlib.sha256("\x00".join([left_text, right_text, *(e.id for e in scorer.embedders)]).encode()).hexdigest()
    if key not in cache:
        left, right = units(left_text), units(right_text)
        if len(left) * len(right) > MAX_CELLS:
            log.warning("leaflet %s is too long to align with %s (%d x %d sentences)", own[0].doc_id, original[0].doc_id,
                        len(left), len(right))
            cache[key] = []
        else:
            cache[key] = align_units(left, right_text, right, original[0].language, own[0].language, scorer)
    return cache[key]
