"""The staff area's translations: a document's passages with the state of their translation, one
passage to translate (or to check again after it changed), and saving with "reviewed" by whom.

The sentence pairs are worked out when a translation is saved (with the loaded cross-lingual
models) and stored with it, so answering never waits for them; staff see them at once: which
translated sentence a patient will read for each original sentence, and which stay original.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import ChatbotError
from ..ingest.formats import tidy
from ..answer.texts import language_name
from ..records import Chunk, passage_hash
from ..store.translations import Passage
from ..translations.align import align, units
from .content_html import pairs_html, passage_html
from .render import ui_text
from .translated import index_passages

log = logging.getLogger("chatbot")


def other_language(language: str) -> str:
    return "id" if language == "en" else "en"


class TranslationDesk:
    """Passages of the served index and their translations in the store."""

    def __init__(self, engine: Any, store: Any) -> None:
        self.engine, self.store = engine, store

    def passages(self, doc_id: str) -> list[Chunk]:
        return [c for c in index_passages(getattr(self.engine, "bot", None)) if c.doc_id == (doc_id or "").strip()]

    def passage(self, chunk_id: str) -> Chunk | None:
        return next((c for c in index_passages(getattr(self.engine, "bot", None)) if c.id == chunk_id), None)

    def table(self, doc_id: str, lang: str) -> tuple[list[list[str]], list[tuple[str, str]], str]:
        """Rows (number, section, language, beginning, translation state), dropdown choices and a message."""
        chunks = self.passages(doc_id)
        if not chunks:
            return [], [], ui_text("tr_no_document", lang, id=(doc_id or "").strip())
        rows, choices = [], []
        for c in chunks:
            found = self.store.translations.find(_passage(c), other_language(c.language))
            heading = c.section.split(" › ")[-1].strip()
            rows.append([str(c.position + 1), heading, c.language, _beginning(c.text), _state(found, lang)])
            choices.append((f"{c.position + 1} · {heading[:60]} · {_beginning(c.text, 60)}", c.id))
        return rows, choices, ui_text("tr_passages", lang, n=len(chunks), id=chunks[0].doc_id)

    def open(self, chunk_id: str, lang: str) -> tuple[str, str, str, str]:
        """(the passage as HTML, the current translation text, a note on its state, the sentence pairs as HTML)."""
        chunk = self.passage(chunk_id or "")
        if chunk is None:
            return "", "", ui_text("tr_gone", lang), ""
        found = self.store.translations.find(_passage(chunk), other_language(chunk.language))
        if found is None:
            note = ui_text("tr_none_yet", lang, language=language_name(other_language(chunk.language), lang))
            leaflet = self._leaflet_pairs(chunk)
            if leaflet:
                note += " " + ui_text("tr_leaflet", lang, n=len(leaflet), total=len(_originals(chunk)))
            return passage_html(chunk, lang), "", note, pairs_html(leaflet, _originals(chunk), lang) if leaflet else ""
        if not found["current"]:  # nothing of it is shown to patients until it is reviewed against the new text
            note = f"{_state(found, lang)}. {ui_text('tr_changed_since', lang, old=' '.join(found['source_text'].split()))}"
            return passage_html(chunk, lang), found["text"], note, ""
        return passage_html(chunk, lang), found["text"], _state(found, lang), pairs_html(found["alignment"], _originals(chunk), lang)

    def save(self, user: str, chunk_id: str, text: str, reviewed: bool, lang: str) -> tuple[str, str, str]:
        """Store the translation (reviewed by `user` when ticked); returns a message, the sentence pairs and its state."""
        chunk = self.passage(chunk_id or "")
        if chunk is None:
            return ui_text("tr_gone", lang), "", ""
        target = other_language(chunk.language)
        try:
            clean = tidy(str(text or ""))
            pairs = [p.as_json() for p in self._align(chunk, clean, target)]
            saved = self.store.translations.save(_passage(chunk), target, clean, user, bool(reviewed), pairs)
        except ChatbotError as exc:  # a refused translation, or a database that cannot be written
            return ui_text("tr_refused", lang, reason=str(exc)), "", ""
        shown = sum(1 for p in saved["alignment"] if p.get("shape", "1-1") in ("1-1", "1-2"))
        key = "tr_saved_reviewed" if reviewed else "tr_saved_draft"
        return (ui_text(key, lang, name=user, date=saved["reviewed_on"], shown=shown, total=len(_originals(chunk))),
                pairs_html(saved["alignment"], _originals(chunk), lang), _state(saved, lang))

    def _leaflet_pairs(self, chunk: Chunk) -> list[dict]:
        """The sentences of this passage a translated leaflet supplies (aligned when the index was loaded)."""
        leaflets = getattr(self.engine, "extra", None)
        if not leaflets:
            return []
        key, target = passage_hash(chunk.text), other_language(chunk.language)
        return [{"original": u, "translated": found.translated} for u in _originals(chunk)
                if (found := leaflets.get(key, u, target)) is not None]

    def _align(self, chunk: Chunk, text: str, target: str) -> list:
        """Sentence pairs of a passage and its translation, with the loaded models (numbers only without them)."""
        bot = getattr(self.engine, "bot", None)
        embedders = getattr(bot, "embedders", ())
        try:
            return align(chunk.text, text, chunk.language, target, embedders)  # the models are thread-safe
        except ChatbotError as exc:
            log.warning("translation not aligned: %s", exc)
            return align(chunk.text, text, chunk.language, target, ())


def _passage(c: Chunk) -> Passage:
    return Passage(c.id, c.doc_id, c.position, c.text, c.language)


def _originals(chunk: Chunk) -> list[str]:
    return [u.text for u in units(chunk.text)]


def _beginning(text: str, n: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def _state(found: dict | None, lang: str) -> str:
    if found is None:
        return ui_text("tr_state_none", lang)
    if found["status"] == "reviewed":
        return ui_text("tr_state_reviewed", lang, name=found["reviewer"] or "?", date=found["reviewed_on"])
    return ui_text(f"tr_state_{found['note'] or 'new'}", lang)
