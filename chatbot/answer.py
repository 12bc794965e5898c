"""Grounded, extractive answers: the sentences of the top passages that answer the question,
verbatim, each cited [n], framed by fixed texts in the reply language. Nothing else is written."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .embeddings import Embedder
from .records import Answer, Hit
from .texts import language_name, text

_BULLET = re.compile(r"^\s*(?:[•\-*–·▪◦]|\d{1,2}[.)])\s+")
_SENT_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_TRAILING_REF = re.compile(r"\s+\d{1,2}(?:,\s*\d{1,2})*$")  # citation numbers the source put after a bullet


@dataclass(frozen=True)
class ComposeSettings:
    passages: int = 3  # how many top passages sentences may come from
    max_sentences: int = 3
    margin: float = 0.08  # a sentence joins the answer if within this similarity of the best one
    same_language_margin: float = 0.03  # prefer a reply-language sentence this close to the best


def sentences(hit: Hit) -> list[str]:
    """Verbatim sentences of a passage, without headings, bullet marks or trailing reference numbers."""
    heads = {h.strip() for h in hit.chunk.section.split(" › ")}
    out: list[str] = []
    for line in hit.chunk.text.split("\n"):
        line = line.strip()
        if not line or line in heads:
            continue
        line = _TRAILING_REF.sub("", _BULLET.sub("", line))
        out.extend(s.strip() for s in _SENT_END.split(line) if len(s.split()) >= 3)
    return out


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
                     query_vectors: list[np.ndarray] | None = None) -> list[tuple[int, str]]:
    """(passage number, sentence) pairs that best answer the question, in passage order."""
    cache = cache or SentenceVectors()
    pool = [(n, s) for n, h in enumerate(hits[: settings.passages]) for s in sentences(h)]
    if not pool:
        return []
    langs = [hits[n].chunk.language for n, _ in pool]
    sims = np.zeros(len(pool))
    weights = np.zeros(len(pool))
    for n, emb in enumerate(embedders):
        q = query_vectors[n] if query_vectors is not None else emb.encode_queries([question])[0]
        v = cache.encode(emb, [s for _, s in pool]) @ q
        ok = np.array([emb.cross_lingual or lg == language for lg in langs])
        sims += v * ok
        weights += ok
    sims = sims / np.maximum(weights, 1) - 0.02 * np.array([n for n, _ in pool])  # earlier passages rank higher
    best = int(np.argmax(sims))
    same = [i for i, lg in enumerate(langs) if lg == language]
    if langs[best] != language and same:
        alt = max(same, key=lambda i: sims[i])
        if sims[alt] >= sims[best] - settings.same_language_margin:
            best = alt
    chosen = {best} | {i for i in np.argsort(-sims)[: settings.max_sentences] if sims[i] >= sims[best] - settings.margin}
    chosen = sorted(chosen, key=lambda i: (pool[i][0] != pool[best][0], pool[i][0], i))[: settings.max_sentences]
    return [pool[i] for i in sorted(chosen, key=lambda i: (pool[i][0], i))]


def compose(question: str, language: str, hits: list[Hit], picked: list[tuple[int, str]], *,
            urgent: bool, notes: tuple[str, ...] = ()) -> Answer:
    """The answer text: urgent advice first, quoted sentences with [n] (n: position in `hits`),
    the cited sources, the disclaimer. `hits` stay in the answer, best first."""
    used = sorted({n for n, _ in picked})
    cited = [hits[n] for n in used]
    lines: list[str] = [text("urgent", language)] if urgent else []
    lines += list(notes)
    lines.append(text("intro", language))
    other = sorted({h.chunk.language for h in cited} - {language})
    if other:
        key = "other_language_note" if all(h.chunk.language != language for h in cited) else "mixed_language_note"
        lines.append(text(key, language, language=language_name(other[0], language)))
    lines += [f"• {s} [{n + 1}]" for n, s in picked]
    lines.append("")
    lines.append(text("sources", language))
    for n in used:
        h = hits[n]
        lines.append(text("source_line", language, n=n + 1, title=h.chunk.title, language=language_name(h.chunk.language, language)))
    lines += ["", text("disclaimer", language)]
    return Answer(question=question, language=language, text="\n".join(lines), hits=tuple(hits), urgent=urgent)


def no_answer(question: str, language: str, *, urgent: bool, notes: tuple[str, ...] = ()) -> Answer:
    """Abstention: say the sources are silent, suggest a clinician; no passages presented."""
    lines = ([text("urgent", language)] if urgent else []) + list(notes)
    lines += [text("no_answer", language), "", text("disclaimer", language)]
    return Answer(question=question, language=language, text="\n".join(lines), hits=(), abstained=True, urgent=urgent)


def message_only(question: str, language: str, key: str, **values: object) -> Answer:
    """A reply that is only a fixed message (empty or unreadable question, ...)."""
    return Answer(question=question, language=language, text=text(key, language, **values), hits=(), abstained=True, notice=key)
