"""One embedder's view of an index, split by passage language: nearest passages (or headings)
of one language for a query vector, their raw similarities, and each language's own sample for
normalising scores (an Indonesian passage is compared with Indonesian passages, not with the
English ones that make up 99% of a large collection)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index.directory import spread, vectors_of

SMALL_LANGUAGE = 20_000  # rows of a language held in memory and searched exactly


@dataclass
class LanguageRows:
    """The rows (passage or heading ids) of one language that one FAISS index holds."""

    rows: np.ndarray
    matrix: np.ndarray | None  # the rows' vectors, when the language is small: searched exactly
    sample: np.ndarray  # vectors of a spread sample of the rows, for the score's mean and spread

    def __post_init__(self) -> None:
        self._mask = np.zeros(int(self.rows.max()) + 1 if len(self.rows) else 0, dtype=bool)
        self._mask[self.rows] = True

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Which of `ids` are rows of this language: `np.isin(ids, rows)`, without sorting the rows
        again for every question (34,000 English ones in MedQuAD)."""
        inside = (ids >= 0) & (ids < len(self._mask))
        out = np.zeros(len(ids), dtype=bool)
        out[inside] = self._mask[ids[inside]]
        return out


class Lanes:
    """Search one FAISS index (ids = rows) language by language."""

    def __init__(self, index, rows_by_language: dict[str, np.ndarray], sample_size: int, per_language: bool = True,
                 scale_sample: np.ndarray | None = None) -> None:
        """`scale_sample`: vectors of passages the index does not hold (an embedder that holds only
        the non-English passages), added to the shared sample so that it is not all of one language."""
        self.index = index
        total = sum(len(r) for r in rows_by_language.values())
        every = np.sort(np.concatenate(list(rows_by_language.values()))) if rows_by_language else np.zeros(0, np.int64)
        shared = vectors_of(index, spread(every, sample_size)) if not per_language else None
        if shared is not None and scale_sample is not None and len(scale_sample):
            shared = np.vstack([shared, scale_sample]).astype(np.float32)
        self.langs: dict[str, LanguageRows] = {}
        for lang, rows in rows_by_language.items():
            if not len(rows):
                continue
            small = len(rows) <= SMALL_LANGUAGE and (len(rows) < 0.5 * total or total <= 4096)
            matrix = vectors_of(index, rows) if small else None
            sample = shared if shared is not None else vectors_of(index, spread(rows, sample_size))
            self.langs[lang] = LanguageRows(rows, matrix, sample)

    def _search(self, q: np.ndarray, k: int, seen: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of the `k` rows nearest to `q` in the FAISS index. `seen`: the searches of
        one answer, so that a second look with the same vector (`best` after `nearest`) is free."""
        key = (id(self), q.tobytes()) if seen is not None else None
        if key in (seen or {}) and seen[key][0] >= k:
            return seen[key][1][:k], seen[key][2][:k]
        scores, found = self.index.search(q[None, :], k)
        scores, found = scores[0], found[0]
        if key is not None:
            scores.setflags(write=False)  # kept for the rest of the answer: no caller may change them
            found.setflags(write=False)
            seen[key] = (k, scores, found)
        return scores, found

    def best(self, q: np.ndarray, seen: dict | None = None) -> float:
        """The highest raw similarity of `q` to any row (-inf for an empty index)."""
        best = [float((lane.matrix @ q).max()) for lane in self.langs.values() if lane.matrix is not None and len(lane.rows)]
        if any(lane.matrix is None for lane in self.langs.values()):
            scores, found = self._search(q, 1, seen)
            best += [float(scores[0])] if len(found) and found[0] >= 0 else []
        return max(best, default=float("-inf"))

    def nearest(self, q: np.ndarray, lang: str, k: int, seen: dict | None = None) -> np.ndarray:
        """Ids of the `k` rows of language `lang` nearest to `q`."""
        lane = self.langs.get(lang)
        if lane is None or k <= 0:
            return np.zeros(0, np.int64)
        if lane.matrix is not None:
            sims = lane.matrix @ q
            top = np.argpartition(-sims, min(k, len(sims)) - 1)[:k] if len(sims) > k else np.arange(len(sims))
            return lane.rows[top]
        _, found = self._search(q, min(self.index.ntotal, 3 * k), seen)
        found = found[found >= 0]
        return found[lane.holds(found)][:k]

    def similarity(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Raw similarities of `q` to the given rows (all held by this index)."""
        return vectors_of(self.index, rows) @ q

    def stats(self, q: np.ndarray, lang: str) -> tuple[float, float]:
        """Mean and spread of `q`'s similarity over language `lang`'s sample."""
        lane = self.langs.get(lang)
        if lane is None or len(lane.sample) < 2:
            return 0.0, 1.0
        scores = lane.sample @ q
        sd = float(scores.std())
        return float(scores.mean()), sd if sd > 1e-6 else 1.0
