"""Reviewed translations in the served answers: the store's staff translations and the translated
leaflets of the corpus, joined to the engine (LiveEngine's `prepare` and `finish` hooks).

When an index is loaded (off the request path) the store's translations are reconciled with its
passages (changed ones flagged "needs review") and translated leaflets are aligned. Each answer
then looks up, in one query, the reviewed translations of the passages it quotes in the other
language. A database that cannot be read leaves the originals in the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ChatbotError, CorpusError
from ..ingest.documents import TEXT_SUFFIXES, corpus_files, read_file
from ..records import Answer, Document
from ..translations.apply import translate_answer, wanted
from ..translations.leaflets import Leaflets, align_leaflets

log = logging.getLogger("chatbot")


def translated_leaflets(corpus: Sequence[Path]) -> Iterator[Document]:
    """The documents of the corpus folders that declare `translation_of` in their header."""
    try:
        files = [f for f in corpus_files(corpus) if f.suffix.lower() in TEXT_SUFFIXES]
    except CorpusError as exc:
        log.warning("translated leaflets not read: %s", exc)
        return
    for f in files:
        try:
            yield from (d for d in read_file(f) if d.translation_of)
        except CorpusError as exc:
            log.warning("translated leaflets: %s", exc)


def index_passages(bot: Any) -> tuple:
    """The passages of a loaded bot's index (empty for an engine without one)."""
    index = getattr(getattr(bot, "retriever", None), "index", None)
    return tuple(getattr(index, "chunks", ()))


class Translator:
    """Shows reviewed translations in answers; `prepare` and `apply` are LiveEngine's hooks."""

    def __init__(self, store: Any, corpus: Sequence[Path]) -> None:
        self.store, self.corpus = store, tuple(corpus)
        self._aligned: dict = {}  # leaflet alignments by the texts aligned: unchanged leaflets are not aligned again

    def prepare(self, bot: Any) -> Leaflets:
        """For a newly loaded index: flag translations whose passage changed, align translated leaflets."""
        chunks = index_passages(bot)
        if self.store is not None:
            from ..store.translations import Passage

            try:
                flagged = self.store.translations.reconcile([Passage(c.id, c.doc_id, c.position, c.text, c.language) for c in chunks])
                if flagged:
                    log.warning("%d translations need review: their passages changed", flagged)
            except ChatbotError as exc:
                log.warning("translations not checked against the new index: %s", exc)
        leaflets = list(translated_leaflets(self.corpus))
        return align_leaflets(chunks, leaflets, getattr(bot, "embedders", ()), self._aligned) if leaflets else Leaflets()

    def apply(self, answer: Answer, leaflets: Leaflets | None) -> Answer:
        """The answer with its other-language quotes in their reviewed translations, where they map."""
        keys = wanted(answer)
        if not keys:
            return answer
        staff: dict = {}
        if self.store is not None:
            try:
                staff = self.store.translations.reviewed(keys, answer.language)
            except ChatbotError as exc:
                log.warning("translations not looked up: %s", exc)
        return translate_answer(answer, staff, leaflets)
