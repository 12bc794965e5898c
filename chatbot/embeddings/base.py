"""The embedder interface: queries and passages in, L2-normalised float32 vectors out."""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from .threads import SMALL_BATCH, one_thread


class Embedder(ABC):
    """One embedding backend.

    `id` names the model and its settings (it is written to the index manifest).
    `cross_lingual` says whether its similarities mean anything between texts in different
    languages; the retriever uses it to weight the embedder per query/passage language pair.
    """

    id: str = "embedder"
    dim: int = 0
    cross_lingual: bool = True
    batch_size: int = 64
    thread_safe: bool = False  # the backend may be called from several threads at once; else one call at a time
    slow_queries: bool = False  # a question takes several times longer than with the others: embedded beside them
    pools_spans: bool = False  # `encode_with_spans` works: parts of a passage read from the passage's own run

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries, shape (len(texts), dim)."""
        return self._batched(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages to be searched, shape (len(texts), dim)."""
        return self._batched(texts, is_query=False)

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, exactly as `encode_passages` gives them, and for each passage the vectors
        of its spans (character ranges, e.g. its sentences), pooled from the same run of the model:
        a sentence as read in its passage, at no extra cost. A span the model does not read whole
        (past its input length) is a row of NaN. Only for embedders with `pools_spans`."""
        if isinstance(texts, str) or len(texts) != len(spans):
            raise TypeError("pass a list of texts and one list of spans per text")
        if not self.pools_spans:
            raise NotImplementedError(f"{self.id} cannot pool parts of a passage")
        texts = [t if t.strip() else "." for t in texts]
        spans = [list(s) for s in spans]
        out, parts = [], []
        with one_thread() if len(texts) < SMALL_BATCH else contextlib.nullcontext():
            for i in range(0, len(texts), self.batch_size):  # the same batches as encode_passages: same vectors
                with self._one_call():
                    vecs, pooled = self._encode_spans(texts[i : i + self.batch_size], spans[i : i + self.batch_size])
                out.append(vecs)
                parts += pooled
        vecs = np.vstack(out) if out else np.zeros((0, self.dim), dtype=np.float32)
        if vecs.shape != (len(texts), self.dim) or [p.shape for p in parts] != [(len(s), self.dim) for s in spans]:
            raise ValueError(f"{self.id} returned vectors of the wrong shape for {len(texts)} texts and their spans")
        return _normalised(vecs), [_normalised(p) for p in parts]

    def _encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Backend call for one batch of `encode_with_spans` (unnormalised)."""
        raise NotImplementedError

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """Backend call for one batch; may return unnormalised vectors of any float type."""

    def _batched(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of texts, not a single string")
        texts = [t if t.strip() else "." for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with one_thread() if len(texts) < SMALL_BATCH else contextlib.nullcontext():
            parts = [self._encode_one(texts[i : i + self.batch_size], is_query) for i in range(0, len(texts), self.batch_size)]
        vecs = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
        if vecs.shape != (len(texts), self.dim):
            raise ValueError(f"{self.id} returned shape {vecs.shape}, expected ({len(texts)}, {self.dim})")
        return _normalised(vecs)

    def _encode_one(self, batch: list[str], is_query: bool) -> np.ndarray:
        with self._one_call():
            return self._encode(batch, is_query)

    def _one_call(self):
        """A backend not known to be thread-safe (lazy set-up, C engines) runs one batch at a time,
        so that a question waits at most one batch of a background build."""
        if self.thread_safe:
            return contextlib.nullcontext()
        return self.__dict__.setdefault("_call_lock", threading.Lock())  # setdefault is atomic


def _normalised(vecs: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1, as contiguous float32 (a row of NaN stays NaN)."""
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)
