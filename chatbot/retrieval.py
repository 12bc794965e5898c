"""Retrieval within and across languages: dense candidates from each embedder plus BM25, fused.

Raw similarities of different models (and of one model across languages) live on different
scales, so each score is turned into a z-score against the same query's scores over a fixed
sample of passages in the candidate's language. The fused score is the weighted mean of the
z-scores of the components competent for that (query language, passage language) pair:
an English-only model counts only between English texts, BM25 only within one language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bm25 import BM25, tokenize
from .chunking import embedding_text
from .embeddings import Embedder
from .index import LoadedIndex, vectors_of
from .records import Hit


@dataclass(frozen=True)
class FusionSettings:
    """Weights of the fused score; `bm25` applies only within one language."""

    dense_weight: float = 1.0
    bm25_weight: float = 0.3
    same_language_bonus: float = 0.0
    candidates: int = 60
    sample_per_language: int = 512
    weights: dict[str, float] = field(default_factory=dict)  # per embedder id, overrides dense_weight

    def weight(self, embedder_id: str) -> float:
        return self.weights.get(embedder_id, self.dense_weight)


class Retriever:
    """Top-k passages for a question, best first, with fused and per-component scores."""

    def __init__(self, index: LoadedIndex, embedders: tuple[Embedder, ...], settings: FusionSettings = FusionSettings()) -> None:
        self.index, self.embedders, self.settings = index, embedders, settings
        self.chunks = index.chunks
        self.chunk_lang = np.array([c.language for c in self.chunks])
        self.languages = sorted(set(self.chunk_lang.tolist()))
        self._rows = {lang: np.flatnonzero(self.chunk_lang == lang) for lang in self.languages}
        self._samples = [
            {lang: vectors_of(vec, _spread(rows, settings.sample_per_language)) for lang, rows in self._rows.items()}
            for vec in index.vectors
        ]
        self._local = np.zeros(len(self.chunks), dtype=np.int64)  # row -> position within its language
        for rows in self._rows.values():
            self._local[rows] = np.arange(len(rows))
        self._bm25 = {
            lang: BM25([tokenize(embedding_text(self.chunks[i])) for i in rows]) for lang, rows in self._rows.items()
        }

    def query_vectors(self, question: str) -> list[np.ndarray]:
        """The question embedded by each embedder, in order."""
        return [e.encode_queries([question])[0] for e in self.embedders]

    def search(self, question: str, language: str, k: int = 5, qvecs: list[np.ndarray] | None = None) -> list[Hit]:
        """Best `k` passages for `question`, asked in `language` (`qvecs`: from `query_vectors`)."""
        if not self.chunks:
            return []
        qvecs = qvecs if qvecs is not None else self.query_vectors(question)
        n_cand = min(len(self.chunks), max(self.settings.candidates, 4 * k))
        cand: set[int] = set()
        for vec, q in zip(self.index.vectors, qvecs):
            _, found = vec.search(q[None, :], n_cand)
            cand.update(int(i) for i in found[0] if i >= 0)
        bm25 = self._bm25_scores(question, language, n_cand, cand)
        ids = np.array(sorted(cand), dtype=np.int64)
        langs = self.chunk_lang[ids]
        num, den = np.zeros(len(ids)), np.zeros(len(ids))
        parts: list[dict[str, float]] = [{} for _ in ids]
        for emb, vec, sample, q in zip(self.embedders, self.index.vectors, self._samples, qvecs):
            raw = vectors_of(vec, ids) @ q
            stats = {lang: _stats(s @ q) for lang, s in sample.items()}
            mu = np.array([stats[lang][0] for lang in langs])
            sd = np.array([stats[lang][1] for lang in langs])
            w = self.settings.weight(emb.id) * np.array([_competent(emb, language, lang) for lang in langs])
            num += w * (raw - mu) / sd
            den += w
            for j, r in enumerate(raw):
                parts[j][emb.id] = round(float(r), 4)
        if bm25 is not None:
            scores, mu, sd = bm25
            for j, i in enumerate(ids):
                if langs[j] == language:
                    z = (float(scores[self._local[i]]) - mu) / sd
                    num[j] += self.settings.bm25_weight * z
                    den[j] += self.settings.bm25_weight
                    parts[j]["bm25_z"] = round(z, 3)
        fused = num / np.maximum(den, 1e-9)
        fused += self.settings.same_language_bonus * (langs == language)
        order = np.argsort(-fused)[:k]
        return [Hit(chunk=self.chunks[ids[j]], score=float(fused[j]), components=parts[j]) for j in order]

    def _bm25_scores(self, question: str, language: str, n_cand: int, cand: set[int]):
        """BM25 scores over the query language's passages (with mean, sd); adds its top hits to `cand`."""
        bm = self._bm25.get(language)
        terms = tokenize(question)
        if bm is None or not terms or self.settings.bm25_weight <= 0:
            return None
        scores = bm.scores(terms)
        if not scores.any():
            return None
        rows = self._rows[language]
        top = np.argpartition(-scores, min(n_cand, len(scores) - 1))[:n_cand]
        cand.update(int(rows[t]) for t in top if scores[t] > 0)
        return scores, float(scores.mean()), float(scores.std()) or 1.0


def _competent(emb: Embedder, query_lang: str, passage_lang: str) -> bool:
    return emb.languages is None or (query_lang in emb.languages and passage_lang in emb.languages)


def _stats(sample_scores: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of a query's scores over a language's sample passages."""
    sd = float(sample_scores.std()) if len(sample_scores) > 1 else 0.0
    return float(sample_scores.mean()), sd if sd > 1e-6 else 1.0


def _spread(rows: np.ndarray, n: int) -> np.ndarray:
    """Up to n rows evenly spread over the list: a fixed, reproducible sample."""
    if len(rows) <= n:
        return rows
    return rows[np.linspace(0, len(rows) - 1, n).astype(int)]
