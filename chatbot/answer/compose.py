"""Grounded, extractive answers: the sentences of the top passages that answer the question,
verbatim, each cited [n], framed by fixed texts in the reply language. Nothing else is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..text import STOPWORDS, tokenize
from ..embeddings import Embedder
from ..search.glossary import View
from ..records import Answer, Hit, Quote
from .render import plain_text
from .texts import text

_BULLET = re.compile(r"^\s*(?:[•\-*–·▪◦]|\d{1,2}[.)])\s+")
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_TRAILING_REF = re.compile(r"\s+\d{1,2}(?:,\s*\d{1,2})*$")  # citation numbers the source put after a bullet
_SHORT_ITEM = 8  # a list of items up to this many words each is quoted whole after its intro
_LIST_WORDS = 90  # so is a list of up to 4 longer items with at most this many words in all


@dataclass(frozen=True)
class ComposeSettings:
    passages: int = 3  # how many top passages sentences may come from
    max_sentences: int = 3
    margin: float = 0.05  # a sentence joins the answer if within this similarity of the best one
    duplicate: float = 0.6  # word overlap (Jaccard) above which a sentence repeats one already chosen
    lexical_weight: float = 0.15  # weight of the share of question terms a sentence contains
    same_language_margin: float = 0.03  # prefer a reply-language sentence this close to the best


def sentences(hit: Hit) -> list[Quote]:
    """Verbatim sentences of a passage, without headings, bullet marks or trailing reference numbers.
    A line ending in ':' followed by short bullet items carries those items along."""
    heads = {h.strip() for h in hit.chunk.section.split(" › ")}
    lines = [l for l in hit.chunk.text.split("\n") if l.strip() and l.strip() not in heads]
    out: list[Quote] = []
    for i, line in enumerate(lines):
        is_bullet = bool(_BULLET.match(line))
        parts = [s.strip() for s in _SENT_END.split(_TRAILING_REF.sub("", _BULLET.sub("", line.strip())))]
        items: tuple[str, ...] = ()
        if not is_bullet and parts[-1].endswith(":"):
            items = tuple(_TRAILING_REF.sub("", _BULLET.sub("", l.strip())) for l in _list_after(lines, i))
            short_items = all(len(t.split()) <= _SHORT_ITEM for t in items)
            if not short_items and (len(items) > 4 or sum(len(t.split()) for t in items) > _LIST_WORDS):
                items = ()
        out.extend(Quote(0, p) for p in parts[:-1] if len(p.split()) >= 3)
        if len(parts[-1].split()) >= 3 or items:
            out.append(Quote(0, parts[-1], items))
    return out


def _list_after(lines: list[str], i: int) -> list[str]:
    items = []
    for line in lines[i + 1 :]:
        if not _BULLET.match(line):
            break
        items.append(line)
    return items


class SentenceVectors:
    """Bounded cache of sentence vectors per embedder: popular passages are embedded once."""

    def __init__(self, max_items: int = 50_000) -> None:
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.max_items = max_items

    def encode(self, emb: Embedder, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (emb.id, t) not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self.max_items:
                self._cache.clear()
            for t, v in zip(missing, emb.encode_passages(missing)):
                self._cache[(emb.id, t)] = v
        return np.stack([self._cache[(emb.id, t)] for t in texts])


def select_sentences(question: str, language: str, hits: list[Hit], embedders: tuple[Embedder, ...],
                     settings: ComposeSettings = ComposeSettings(), cache: SentenceVectors | None = None,
                     query_vectors: list[np.ndarray] | None = None, views: dict[str, View] | None = None) -> list[Quote]:
    """The quotes that best answer the question, in passage order. `views` (the question seen from
    each language, see Retriever.views) add a lexical signal, so a dose question finds the dose."""
    cache = cache or SentenceVectors()
    pool = [Quote(n, q.text, q.items, h.chunk.language) for n, h in enumerate(hits[: settings.passages]) for q in sentences(h)]
    if not pool:
        return []
    langs = [hits[q.n].chunk.language for q in pool]
    sims, weights = np.zeros(len(pool)), np.zeros(len(pool))
    for i, emb in enumerate(embedders):
        q = query_vectors[i] if query_vectors is not None else emb.encode_queries([question])[0]
        ok = np.array([emb.cross_lingual or lg == language for lg in langs])
        own = cache.encode(emb, [p.text for p in pool]) @ q
        whole = cache.encode(emb, [" ".join((p.text, *p.items)) for p in pool]) @ q  # a list with its items
        sims += np.maximum(own, whole) * ok
        weights += ok
    sims = sims / np.maximum(weights, 1) - 0.02 * np.array([p.n for p in pool])  # earlier passages rank higher
    if views:
        n_terms = len(set(tokenize(question)))
        sims += settings.lexical_weight * np.array([_term_overlap(p, views.get(lg), n_terms) for p, lg in zip(pool, langs)])
    best = int(np.argmax(sims))
    same = [i for i, lg in enumerate(langs) if lg == language]
    if langs[best] != language and same:
        alt = max(same, key=lambda i: sims[i])
        if sims[alt] >= sims[best] - settings.same_language_margin:
            best = alt
    chosen = [best]
    for i in np.argsort(-sims):
        if len(chosen) >= settings.max_sentences or sims[i] < sims[best] - settings.margin:
            break
        said = [t for c in chosen for t in (pool[c].text, *pool[c].items)]
        if i not in chosen and all(_overlap(pool[i].text, t) < settings.duplicate for t in said):
            chosen.append(int(i))
    return [pool[i] for i in sorted(chosen, key=lambda i: (pool[i].n, i))]


def _term_overlap(quote: Quote, view: View | None, n_terms: int) -> float:
    """Roughly, the share of the question's content words that the quote contains, counting a
    glossary synonym in the quote's language as the word itself."""
    if view is None or n_terms == 0:
        return 0.0
    words = set(tokenize(" ".join((quote.text, *quote.items))))
    return min(1.0, len({t for t in view.terms if t not in STOPWORDS} & words) / n_terms)


def _overlap(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / max(1, len(wa | wb))


def compose(question: str, language: str, hits: list[Hit], picked: list[Quote], *,
            urgent: bool, notes: tuple[str, ...] = ()) -> Answer:
    """The answer: urgent advice first, the quoted sentences (each citing its passage by position
    in `hits`), the cited sources, the disclaimer. `hits` stay in the answer, best first."""
    quotes = tuple(replace(q, language=q.language or hits[q.n].chunk.language) for q in picked)
    return _with_text(Answer(question=question, language=language, text="", hits=tuple(hits), urgent=urgent,
                             notes=tuple(notes), quotes=quotes))


def no_answer(question: str, language: str, *, urgent: bool, notes: tuple[str, ...] = ()) -> Answer:
    """Abstention: say the sources are silent, suggest a clinician; no passages presented."""
    return _with_text(Answer(question=question, language=language, text="", hits=(), abstained=True, urgent=urgent,
                             notes=tuple(notes)))


def message_only(question: str, language: str, key: str, **values: object) -> Answer:
    """A reply that is only a fixed message (empty or unreadable question, ...)."""
    return _with_text(Answer(question=question, language=language, text="", hits=(), abstained=True, notice=key,
                             notes=(text(key, language, **values),)))


def _with_text(answer: Answer) -> Answer:
    return replace(answer, text=plain_text(answer))
