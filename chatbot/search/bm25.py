"""Okapi BM25 over passages, in one readable file; the caller owns tokenising (`chatbot.text.tokenize`)."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable

import numpy as np

class BM25:
    """Okapi BM25 (k1, b) with the Lucene idf, which is never negative. Postings are kept as one
    compressed sparse row table (term -> passages, term frequencies): 8 bytes a posting, so a
    MedQuAD-size collection costs tens of MB instead of hundreds as Python tuples."""

    def __init__(self, corpus: Iterable[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        vocab: dict[str, int] = {}
        term_ids, doc_ids, freqs, lengths = array("i"), array("i"), array("f"), array("f")
        for i, doc in enumerate(corpus):  # one passage's terms in memory at a time
            lengths.append(len(doc))
            for term, tf in Counter(doc).items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                doc_ids.append(i)
                freqs.append(tf)
        self.n = len(lengths)
        length = np.frombuffer(lengths, dtype=np.float32)
        avg = float(length.mean()) if self.n else 1.0
        self._norm = k1 * (1 - b + b * length / max(avg, 1e-9))
        self._k1 = k1
        tids = np.frombuffer(term_ids, dtype=np.int32)
        order = np.argsort(tids, kind="stable")  # passages stay in order within a term
        self._docs = np.frombuffer(doc_ids, dtype=np.int32)[order]
        self._tf = np.frombuffer(freqs, dtype=np.float32)[order]
        counts = np.bincount(tids, minlength=len(vocab))
        self._start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._vocab = vocab
        self._idf = np.log(1 + (self.n - counts + 0.5) / (counts + 0.5)).astype(np.float32)

    def idf(self, term: str) -> float | None:
        """The term's idf (None when no passage has it)."""
        t = self._vocab.get(term)
        return None if t is None else float(self._idf[t])

    def scores(self, query: list[str]) -> np.ndarray:
        """Score of every passage for the tokenised query (repeated terms count once)."""
        out = np.zeros(self.n, dtype=np.float32)
        for term in dict.fromkeys(query):
            t = self._vocab.get(term)
            if t is not None:
                lo, hi = self._start[t], self._start[t + 1]
                ids, tf = self._docs[lo:hi], self._tf[lo:hi]
                out[ids] += self._idf[t] * tf * (self._k1 + 1) / (tf + self._norm[ids])
        return out
