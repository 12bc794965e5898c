"""The step after an answer is chosen: quotes from passages in the other language are shown in a
reviewed translation, when one exists and the quoted sentence maps to one of its sentences.

A staff translation of the passage comes first, then a translated leaflet. The original stays in
the quote (`original`, `original_items`) for the "original" box, and the answer text is rendered
again. A quote whose sentence or list items do not all map confidently stays as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ..answer.render import plain_text
from ..records import Answer, Quote, Translation, passage_hash
from .align import sentence_map
from .leaflets import Leaflets

LANGUAGES = ("en", "id")


def wanted(answer: Answer) -> set[str]:
    """Text hashes of the passages this answer quotes in a language other than the reader's."""
    return {passage_hash(answer.hits[q.n].chunk.text) for q in answer.quotes if _foreign(q, answer)}


def translate_answer(answer: Answer, staff: Mapping[str, dict], leaflets: Leaflets | None = None) -> Answer:
    """The answer with every quote it can show in a reviewed translation so shown; `staff` holds the
    reviewed staff translations into the reader's language by passage text hash."""
    quotes = tuple(_translated(q, answer, staff, leaflets) for q in answer.quotes)
    if quotes == answer.quotes:
        return answer
    shown = replace(answer, quotes=quotes)
    return replace(shown, text=plain_text(shown))


def _foreign(q: Quote, answer: Answer) -> bool:
    return (q.translation is None and 0 <= q.n < len(answer.hits) and answer.language in LANGUAGES
            and q.language in LANGUAGES and q.language != answer.language)


def _translated(q: Quote, answer: Answer, staff: Mapping[str, dict], leaflets: Leaflets | None) -> Quote:
    if not _foreign(q, answer):
        return q
    key, wanted_texts = passage_hash(answer.hits[q.n].chunk.text), (q.text, *q.items)
    row = staff.get(key)
    if row is not None:
        mapping, text = sentence_map(row.get("alignment") or []), str(row.get("text") or "")
        shown = [mapping.get(t) for t in wanted_texts]
        if text and all(s and s in text for s in shown):
            return _quote(q, shown, Translation(text, answer.language, row.get("reviewed_on", ""), "staff"))
    if leaflets:
        found = [leaflets.get(key, t, answer.language) for t in wanted_texts]
        if all(found):
            passages = "\n".join(dict.fromkeys(f.passage for f in found))
            return _quote(q, [f.translated for f in found],
                          Translation(passages, answer.language, found[0].date, "leaflet", found[0].title))
    return q


def _quote(q: Quote, shown: list, translation: Translation) -> Quote:
    return replace(q, text=shown[0], items=tuple(shown[1:]), original=q.text, original_items=q.items, translation=translation)
