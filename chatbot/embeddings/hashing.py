"""A deterministic bag-of-words hashing embedder: no model, instant. For tests and smoke runs."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from .base import Embedder

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    """Word and character-trigram counts hashed into `dim` buckets; lexical, any language."""

    cross_lingual = True
    thread_safe = True

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.id = f"hashing-{dim}"

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                feats = [tok] + [tok[i : i + 3] for i in range(max(0, len(tok) - 2))]
                for f in feats:
                    h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=4).digest(), "little")
                    out[row, h % self.dim] += 1.0 if f == tok else 0.5
        return out
