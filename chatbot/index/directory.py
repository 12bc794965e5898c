"""The index directory: FAISS vectors per embedder, chunks.jsonl and manifest.json. No pickle.

A build writes everything to a temporary sibling directory and swaps it in with renames, so
an interrupted build leaves the previous index as it was. Loading checks the manifest's
format, checksums and counts, and says what to run when something does not fit.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..ingest.chunking import CHUNKER_VERSION, ChunkSettings, chunk_document, embedding_text, heading_text
from ..ingest.sentences import Sentence, passage_sentences, sentence_places, sentence_texts
from ..embeddings import Embedder, spec_of
from ..errors import IndexCorruptError, IndexMissingError, IndexStaleError
from ..records import Chunk, Document, content_hash, file_sha256
from .calibrate import calibrate
from .vectors import embed_all, make_index, read_index, text_key

HEADINGS_ALL = "all"  # manifest: an embedder that holds part of the passages holds every heading
FORMAT_VERSION = 3  # 2: heading vectors, embedders that cover part of the passages; 3: sentence vectors
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
HEADS = "heads.json"
SENTENCE_BUDGET = 60_000  # sentence texts per embedder embedded at build time (more: read in their passages, see _plan)
NON_ENGLISH = "non-english"  # an embedder that covers only passages not in English (e5 in large collections)
SCALE_SAMPLE = 128  # English passages such an embedder embeds for its score scale alone (see _plan): over seeds + MedQuAD,
# 128 and 256 gave the same 159 of the 196 tuning answers with the evidence (without one: 151 when it came in), and 128 costs e5 half the time
ANN_THRESHOLD = 20_000  # passages; from here on each embedder gets an approximate (IVF) index
log = logging.getLogger("chatbot")


@dataclass(frozen=True)
class LoadedIndex:
    """An index in memory: chunks in FAISS id order, one FAISS index of passages per embedder (ids
    are passage rows), and per embedder one of the distinct headings (`heads`; `chunk_head[i]` is
    the heading row of passage i)."""

    path: Path
    manifest: dict
    chunks: tuple[Chunk, ...]
    vectors: tuple  # faiss.Index per embedder, same order as manifest["embedders"]
    heads: tuple[str, ...] = ()
    chunk_head: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    head_vectors: tuple = ()  # faiss.Index per embedder over the headings (ids are heading rows)
    sentences: tuple = ()  # per embedder: (text key -> row, faiss.Index) of sentence vectors made at build time
    scale_samples: tuple = ()  # per embedder: vectors of passages it does not hold, for its score scale (or None)

    def heads_covered(self, n: int) -> bool:
        """Does embedder `n` hold every heading (also of passages it does not hold)? Indexes built
        before it did hold the headings of their passages only."""
        entry = self.manifest["embedders"][n]
        return entry.get("covers", "all") == "all" or entry.get("headings") == HEADINGS_ALL

    def covered(self, n: int) -> np.ndarray | None:
        """Passage rows embedder `n` holds (None: all of them)."""
        entry = self.manifest["embedders"][n]
        if entry.get("covers", "all") == "all":
            return None
        return np.flatnonzero(np.array([c.language != "en" for c in self.chunks], dtype=bool))


def fingerprint(docs: list[Document], embedder_ids: tuple[str, ...], chunking: ChunkSettings, rules_hash: str,
                ann_threshold: int = ANN_THRESHOLD, partial: tuple[str, ...] = (), offtopic_hash: str = "") -> dict:
    """What an index depends on; equal fingerprints mean a rebuild would change nothing."""
    return {
        "offtopic_questions": offtopic_hash,
        "ann_threshold": ann_threshold,
        "non_english_only": sorted(partial),
        **({"scale_sample": SCALE_SAMPLE} if partial else {}),  # what such an embedder embeds for its score scale
        **({"partial_headings": HEADINGS_ALL} if partial else {}),  # ...and which headings (_plan)
        "format_version": FORMAT_VERSION,
        "chunker_version": CHUNKER_VERSION,  # passages and what of them is embedded (chunking.embedding_text)
        "sentences_over_budget": "in-passage",
        "large_indexes": "ivf-sq8+sq-fp16",  # what a collection over ann_threshold gets (vectors.make_index)
        "corpus_hash": content_hash("\n".join(sorted(d.hash for d in docs)), 16),
        "embedders": list(embedder_ids),
        "chunking": asdict(chunking),
        "cleaning_rules_hash": rules_hash,
    }


def read_manifest(index_dir: Path) -> dict:
    """The manifest of an index, or IndexMissingError / IndexCorruptError with what to run."""
    _recover_interrupted_swap(index_dir)
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"no index at {index_dir}: run `chatbot build --index {index_dir}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["fingerprint"]["format_version"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"the manifest of {index_dir} is damaged ({exc}): run `chatbot build --force --index {index_dir}`") from exc
    return manifest


def is_current(index_dir: Path, fp: dict) -> bool:
    """True when an intact-looking index was built from exactly this corpus and these settings."""
    try:
        return read_manifest(index_dir)["fingerprint"] == fp
    except (IndexMissingError, IndexCorruptError):
        return False


def build_index(index_dir: Path, docs: list[Document], embedders: tuple[Embedder, ...], chunking: ChunkSettings,
                rules_hash: str, corpus: list[str] | None = None, progress: Callable[[str], None] = log.info,
                ann_threshold: int = ANN_THRESHOLD, cache_dir: Path | None = None, prune_cache: bool = True, bar: bool = False,
                partial: tuple[str, ...] = (), offtopic: list[tuple[str, str]] | None = None) -> dict:
    """Chunk, embed (through the embedding cache) and write a new index, then swap it in; returns the
    manifest. Embedders named in `partial` embed only the passages not in English, and every heading
    (none in a collection all in English).
    The `offtopic` questions calibrate abstention for this index (see calibrate.py)."""
    index_dir = Path(index_dir)
    started = time.perf_counter()
    chunks = _chunks(docs, chunking, _previous_chunks(index_dir, chunking, rules_hash))
    progress(f"{len(docs)} documents -> {len(chunks)} passages")
    heads, chunk_head = _heads(chunks)
    split = [passage_sentences(c) for c in chunks]  # once, for every embedder's plan
    plans = [_plan(chunks, heads, chunk_head, e.id in partial, e.pools_spans, split) for e in embedders]
    with _lock(index_dir), _staging(index_dir) as tmp:
        _restore_old(index_dir)  # a crash mid-swap left only `.NAME.old`: never delete the last good index
        embedded = embed_all(embedders, [plan.texts for plan in plans], cache_dir, bar=bar, prune=prune_cache,
                             spans=[plan.spans for plan in plans])
        written = [_write_vectors(tmp, n, emb, plan, done, ann_threshold, progress)
                   for n, (emb, plan, done) in enumerate(zip(embedders, plans, embedded))]
        entries = [entry for entry, _ in written]
        abstention = calibrate(embedders, [index for _, index in written], offtopic) if offtopic else {}
        with open(tmp / CHUNKS, "w", encoding="utf-8") as fh:
            for c in chunks:
                fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        _write_json(tmp / HEADS, {"texts": heads, "chunk_head": chunk_head})
        manifest = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "fingerprint": fingerprint(docs, tuple(e.id for e in embedders), chunking, rules_hash, ann_threshold, partial,
                                       content_hash("\n".join(f"{lang}\t{q}" for lang, q in offtopic), 16) if offtopic else ""),
            "abstention": abstention,
            "corpus": corpus or [],
            "model": spec_of(tuple(e.id for e in embedders)),  # what loads these embedders again
            "embedders": entries,
            "chunking": asdict(chunking),
            "chunker_version": CHUNKER_VERSION,
            "documents": [{"id": d.id, "title": d.title, "language": d.language, "path": d.path, "hash": d.hash} for d in docs],
            "counts": {"documents": len(docs), "chunks": len(chunks), "headings": len(heads)},
            "files": {p.name: file_sha256(p) for p in sorted(tmp.iterdir())},
            "build_seconds": round(time.perf_counter() - started, 2),
        }
        _write_json(tmp / MANIFEST, manifest)
        _swap_in(tmp, index_dir)
    progress(f"index written to {index_dir} in {manifest['build_seconds']} s")
    return manifest


@dataclass(frozen=True)
class _Plan:
    """What one embedder embeds: passage rows (None: all) and heading rows, texts in that order."""

    rows: np.ndarray | None
    head_rows: np.ndarray | None
    texts: list[str]
    n_passages: int  # texts: n_passages passages, then n_heads headings, then the scale sample, then sentences
    n_heads: int = 0
    n_sample: int = 0  # the scale sample: passages an embedder of the non-English passages does not hold, for its score scale
    spans: dict[str, list[tuple[int, int]]] | None = None  # passage text -> its sentences' places, pooled from its run
    pooled: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...] = ()  # sentence text, its places (passage, start, end)


def _heads(chunks: list[Chunk]) -> tuple[list[str], list[int]]:
    """The distinct heading texts, and each passage's heading row."""
    heads: dict[str, int] = {}
    chunk_head = [heads.setdefault(heading_text(c), len(heads)) for c in chunks]
    return list(heads), chunk_head


def _plan(chunks: list[Chunk], heads: list[str], chunk_head: list[int], non_english_only: bool, pools_spans: bool = False,
          split: list[list[Sentence]] | None = None) -> _Plan:
    """What one embedder embeds. The answer chooser's sentences are embedded alone up to
    SENTENCE_BUDGET texts; a larger collection would take minutes more (MedQuAD has 130,000), so
    there an embedder that can (`pools_spans`) reads each sentence in its passage, from the run
    that embeds the passage, and the chooser embeds only the sentences past the model's input
    length when asked (a fifth on MedQuAD). `split`: each passage's sentences, split once per build."""
    split = split if split is not None else [passage_sentences(c) for c in chunks]
    rows = np.array([i for i, c in enumerate(chunks) if c.language != "en"], dtype=np.int64) if non_english_only else None
    covered = rows.tolist() if rows is not None else range(len(chunks))
    # every heading, also of the passages it does not hold: the multilingual model is what carries a
    # question in another language to an English record's stored question ("sindrom alagille ...
    # penyebabnya gen apa?" -> "What are the genetic changes related to Alagille syndrome ?"), and a
    # heading is short (MedQuAD + seeds from an empty cache: 774 s instead of 684 s on 2 cores here,
    # against hours for its passages); none in a collection all in English, where it holds nothing
    head_rows = None if rows is None or len(rows) else np.zeros(0, dtype=np.int64)
    head_texts = heads if head_rows is None else []
    # An embedder that holds only the non-English passages scales its scores (Retriever: z-scores)
    # against its own passages and SCALE_SAMPLE English ones spread over the collection: its own
    # passages alone, a few on one topic, made every score of a small Indonesian leaflet inside
    # MedQuAD look ordinary, and its vote for them vanished
    skipped = np.setdiff1d(np.arange(len(chunks)), rows) if rows is not None and len(rows) else np.zeros(0, np.int64)
    sample = [embedding_text(chunks[i]) for i in spread(skipped, SCALE_SAMPLE)]
    sentences = list(dict.fromkeys(t for i in covered for t in sentence_texts(chunks[i], split[i])))
    passages = [embedding_text(chunks[i]) for i in covered]
    spans, pooled = None, ()
    if len(sentences) > SENTENCE_BUDGET:
        sentences = []
        if pools_spans:
            spans, where = {}, {}
            for i, text in zip(covered, passages):
                found = sentence_places(chunks[i], text, split[i])
                spans[text] = [(a, b) for _, a, b in found]
                for t, a, b in found:
                    where.setdefault(t, []).append((text, a, b))
            pooled = tuple((t, tuple(places)) for t, places in where.items())
    return _Plan(rows, head_rows, passages + head_texts + sample + sentences, len(covered), len(head_texts), len(sample),
                 spans, pooled)


def spread(rows: np.ndarray, n: int) -> np.ndarray:
    """Up to n rows evenly spread over the list: a fixed, reproducible sample."""
    if len(rows) <= n:
        return rows
    return rows[np.linspace(0, len(rows) - 1, n).astype(int)]


def _write_vectors(tmp: Path, n: int, emb: Embedder, plan: _Plan, done, ann_threshold: int, progress) -> tuple[dict, object]:
    """Write one embedder's passage, heading and sentence indexes; returns its manifest entry and passage index."""
    import faiss

    p, s = plan.n_passages, plan.n_passages + plan.n_heads  # texts: passages, headings, scale sample, sentences
    h = s + plan.n_sample
    fresh = done.fresh_rows
    new_passages, new_heads, new_sample = int((fresh < p).sum()), int(((fresh >= p) & (fresh < s)).sum()), int(((fresh >= s) & (fresh < h)).sum())
    progress(f"{emb.id}: embedded {new_passages} new passages, {new_heads} new headings"
             + (f", {new_sample} new passages for its score scale" if plan.n_sample else "")
             + f" and {len(fresh) - new_passages - new_heads - new_sample} new sentences ({len(plan.texts) - len(fresh)} "
             f"from the cache) in {done.seconds:.1f} s")
    passages, kind = make_index(done.vectors[:p], ann_threshold, plan.rows)
    large = kind["type"].startswith("ivf")  # a large collection: its headings are compact too
    heads, head_kind = make_index(done.vectors[p:s], 1 if large else 1 << 62, plan.head_rows, search_all=True)
    sample = done.vectors[s:h]
    if plan.pooled:  # sentences read in their passages; one not read whole is embedded when asked
        texts, sentences = _pooled_sentences(plan.pooled, done.pooled, emb.dim)
        progress(f"{emb.id}: {len(texts)} of {len(plan.pooled)} sentences read in their passages")
    else:
        texts, (sentences, _) = plan.texts[h:], make_index(done.vectors[h:], 1 << 62)
    keys = [text_key(t).decode("ascii") for t in texts]
    faiss.write_index(passages, str(tmp / f"vectors-{n}.faiss"))
    faiss.write_index(heads, str(tmp / f"heads-{n}.faiss"))
    faiss.write_index(sentences, str(tmp / f"sentences-{n}.faiss"))
    _write_json(tmp / f"sentences-{n}.json", keys)
    scale = {}
    if plan.n_sample:
        faiss.write_index(make_index(sample, 1 << 62)[0], str(tmp / f"scale-{n}.faiss"))
        scale = {"scale_file": f"scale-{n}.faiss"}
    return {"id": emb.id, "dim": emb.dim, "cross_lingual": emb.cross_lingual, "file": f"vectors-{n}.faiss",
            "heads_file": f"heads-{n}.faiss", "heads_type": head_kind["type"], "sentences_file": f"sentences-{n}.faiss",
            "covers": "all" if plan.rows is None else NON_ENGLISH, "headings": HEADINGS_ALL if plan.head_rows is None else "none", "passages": int(p), **kind, **scale}, passages


def _pooled_sentences(places: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...], pooled: dict, dim: int) -> tuple[list[str], object]:
    """The sentences read whole in a passage (each at its first such place) and an exact index of
    their vectors, added a slice at a time (MedQuAD: 100,000 vectors, 150 MiB a copy)."""
    import faiss

    index, texts, part = faiss.IndexFlatIP(dim), [], []
    for text, where in places:
        vec = next((v for k in where if (v := pooled.get(k)) is not None and not np.isnan(v[0])), None)
        if vec is not None:
            texts.append(text)
            part.append(vec)
        if len(part) == 4096:
            index.add(np.vstack(part))
            part = []
    if part:
        index.add(np.vstack(part))
    return texts, index


def _chunks(docs: list[Document], chunking: ChunkSettings, previous: dict[str, tuple[str, list[Chunk]]]) -> list[Chunk]:
    """Passages of every document; an unchanged document keeps the passages the current index has."""
    out: list[Chunk] = []
    for doc in docs:
        doc_hash, old = previous.get(doc.id, ("", []))
        if doc_hash == doc.hash and old:
            out.extend(replace(c, source=doc.source, url=doc.url) for c in old)  # not part of the hash
        else:
            out.extend(chunk_document(doc, chunking))
    return out


def _previous_chunks(index_dir: Path, chunking: ChunkSettings, rules_hash: str) -> dict[str, tuple[str, list[Chunk]]]:
    """The current index's passages by document id, with the document's hash, when they were cut
    with the same chunker, settings and cleaning rules and the file is intact; else nothing."""
    try:
        manifest = read_manifest(index_dir)
        fp = manifest["fingerprint"]
        if (fp.get("chunking") != asdict(chunking) or fp.get("cleaning_rules_hash") != rules_hash
                or manifest.get("chunker_version") != CHUNKER_VERSION):
            return {}
        path = Path(index_dir) / CHUNKS
        if file_sha256(path) != manifest["files"][CHUNKS]:
            return {}
        by_doc: dict[str, list[Chunk]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            chunk = Chunk(**json.loads(line))
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        hashes = {d["id"]: d["hash"] for d in manifest["documents"]}
    except (IndexMissingError, IndexCorruptError, OSError, ValueError, KeyError, TypeError):
        return {}
    return {doc_id: (hashes.get(doc_id, ""), chunks) for doc_id, chunks in by_doc.items()}


def load_index(index_dir: Path, embedders: tuple[Embedder | str, ...] | None = None, verify: bool = True) -> LoadedIndex:
    """Load and check an index (vectors memory-mapped); with `embedders` (or their ids), refuse one built
    with other models."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(f"{index_dir} has index format {manifest.get('format_version')}, this version reads {FORMAT_VERSION}: run `chatbot build --force --index {index_dir}`")
    if embedders is not None:
        built, wanted = [e["id"] for e in manifest["embedders"]], [e if isinstance(e, str) else e.id for e in embedders]
        if built != wanted:
            raise IndexStaleError(f"{index_dir} was built with {'+'.join(built)}, the configured model is {'+'.join(wanted)}: run `chatbot build --index {index_dir}` (or set --model to match)")
    corrupt = f"run `chatbot build --force --index {index_dir}`"
    if verify:
        for name, digest in manifest.get("files", {}).items():
            path = index_dir / name
            if not path.exists():
                raise IndexCorruptError(f"{index_dir} lacks {name}: {corrupt}")
            if file_sha256(path) != digest:
                raise IndexCorruptError(f"{index_dir}/{name} does not match its checksum (damaged or edited): {corrupt}")
    try:
        chunks = tuple(Chunk(**json.loads(line)) for line in (index_dir / CHUNKS).read_text(encoding="utf-8").splitlines())
        vectors = tuple(read_index(index_dir / e["file"], e) for e in manifest["embedders"])
        heads = json.loads((index_dir / HEADS).read_text(encoding="utf-8"))
        head_vectors = tuple(read_index(index_dir / e["heads_file"], {"type": e["heads_type"]}) for e in manifest["embedders"])
        chunk_head = np.asarray(heads["chunk_head"], dtype=np.int64)
        sentences = tuple(_read_sentences(index_dir, e) for e in manifest["embedders"])
        scale_samples = tuple(_read_scale(index_dir, e) for e in manifest["embedders"])
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorruptError(f"{index_dir} cannot be read ({str(exc)[:200]}): {corrupt}") from exc
    for entry, vec in zip(manifest["embedders"], vectors):
        expected = entry.get("passages", len(chunks)) if entry.get("covers", "all") != "all" else len(chunks)
        if vec.ntotal != expected or vec.d != entry["dim"]:
            raise IndexCorruptError(f"{index_dir}: {entry['file']} holds {vec.ntotal} vectors of {vec.d} dims for {expected} passages: {corrupt}")
    if len(chunk_head) != len(chunks) or (len(chunk_head) and int(chunk_head.max()) >= len(heads["texts"])):
        raise IndexCorruptError(f"{index_dir}: {HEADS} does not match {CHUNKS}: {corrupt}")
    return LoadedIndex(path=index_dir, manifest=manifest, chunks=chunks, vectors=vectors, heads=tuple(heads["texts"]),
                       chunk_head=chunk_head, head_vectors=head_vectors, sentences=sentences, scale_samples=scale_samples)


def _read_sentences(index_dir: Path, entry: dict) -> tuple[dict[bytes, int], object]:
    """One embedder's sentence vectors made at build time, by text key."""
    import faiss

    keys = json.loads((index_dir / entry["sentences_file"].replace(".faiss", ".json")).read_text(encoding="utf-8"))
    vectors = faiss.read_index(str(index_dir / entry["sentences_file"]), faiss.IO_FLAG_MMAP_IFC)
    if vectors.ntotal != len(keys):
        raise ValueError(f"{entry['sentences_file']} holds {vectors.ntotal} vectors for {len(keys)} sentences")
    return {k.encode("ascii"): i for i, k in enumerate(keys)}, vectors


def _read_scale(index_dir: Path, entry: dict) -> np.ndarray | None:
    """The vectors an embedder made of passages it does not hold, for its score scale (None: none)."""
    import faiss

    if "scale_file" not in entry:
        return None
    sample = faiss.read_index(str(index_dir / entry["scale_file"]))
    if sample.d != entry["dim"]:
        raise ValueError(f"{entry['scale_file']} holds vectors of {sample.d} dims, not {entry['dim']}")
    return vectors_of(sample, np.arange(sample.ntotal))


def vectors_of(index, ids: np.ndarray) -> np.ndarray:
    """The stored vectors of the given ids (FAISS reconstruct)."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_batch(ids)


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(index_dir.parent / f".{index_dir.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _staging(index_dir: Path) -> Iterator[Path]:
    """A fresh temporary directory beside the index; removed unless it was swapped in."""
    for stale in index_dir.parent.glob(f".{index_dir.name}.building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = index_dir.parent / f".{index_dir.name}.building-{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: Path, index_dir: Path) -> None:
    for path in tmp.iterdir():  # contents durable before the rename makes them visible
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    old = index_dir.parent / f".{index_dir.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if index_dir.exists():
        os.rename(index_dir, old)
    os.rename(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def _recover_interrupted_swap(index_dir: Path) -> None:
    """A crash between the two renames of a swap leaves only `.NAME.old`: put it back. A build in
    the middle of its swap holds the lock, so a reader waits for it instead of undoing it."""
    index_dir = Path(index_dir)
    if index_dir.exists() or not (index_dir.parent / f".{index_dir.name}.old" / MANIFEST).exists():
        return
    try:
        with _lock(index_dir):
            _restore_old(index_dir)
    except OSError:  # no lock file possible (read-only folder): nothing is building there either
        _restore_old(index_dir)


def _restore_old(index_dir: Path) -> None:
    """Put `.NAME.old` back as NAME when NAME is missing (caller holds the lock or none can exist)."""
    old = index_dir.parent / f".{index_dir.name}.old"
    if not index_dir.exists() and (old / MANIFEST).exists():
        os.rename(old, index_dir)
