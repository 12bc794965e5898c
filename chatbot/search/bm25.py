"""Okapi BM25 over passages, in one readable file; the caller owns tokenising (`chatbot.text.tokenize`)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

class BM25:
    """Okapi BM25 (k1, b) with the Lucene idf, which is never negative."""

    def __init__(self, corpus: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.n = len(corpus)
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        self._norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self._k1 = k1
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(corpus):
            for term, tf in Counter(doc).items():
                postings[term].append((i, tf))
        self._postings = {
            t: (np.array([i for i, _ in p], dtype=np.int32), np.array([f for _, f in p], dtype=np.float32))
            for t, p in postings.items()
        }
        self._idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}

    def scores(self, query: list[str]) -> np.ndarray:
        """Score of every passage for the tokenised query (repeated terms count once)."""
        out = np.zeros(self.n, dtype=np.float32)
        for term in dict.fromkeys(query):
            if term in self._postings:
                ids, tf = self._postings[term]
                out[ids] += self._idf[term] * tf * (self._k1 + 1) / (tf + self._norm[ids])
        return out
