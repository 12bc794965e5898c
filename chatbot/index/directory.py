"""The index directory: FAISS vectors per embedder, chunks.jsonl and manifest.json. No pickle.

A build writes everything to a temporary sibling directory and swaps it in with renames, so
an interrupted build leaves the previous index as it was. Loading checks the manifest's
format, checksums and counts, and says what to run when something does not fit.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..ingest.chunking import CHUNKER_VERSION, ChunkSettings, chunk_document, embedding_text
from ..embeddings import Embedder, spec_of
from ..errors import IndexCorruptError, IndexMissingError, IndexStaleError
from ..records import Chunk, Document, content_hash
from .vectors import embed_all, make_index, read_index

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
ANN_THRESHOLD = 20_000  # passages; from here on each embedder gets an approximate (IVF) index
log = logging.getLogger("chatbot")


@dataclass(frozen=True)
class LoadedIndex:
    """An index in memory: chunks in FAISS id order and one FAISS index per embedder."""

    path: Path
    manifest: dict
    chunks: tuple[Chunk, ...]
    vectors: tuple  # faiss.Index per embedder, same order as manifest["embedders"]


def fingerprint(docs: list[Document], embedder_ids: tuple[str, ...], chunking: ChunkSettings, rules_hash: str,
                ann_threshold: int = ANN_THRESHOLD) -> dict:
    """What an index depends on; equal fingerprints mean a rebuild would change nothing."""
    return {
        "ann_threshold": ann_threshold,
        "format_version": FORMAT_VERSION,
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
                ann_threshold: int = ANN_THRESHOLD, cache_dir: Path | None = None, prune_cache: bool = True, bar: bool = False) -> dict:
    """Chunk, embed (through the embedding cache) and write a new index, then swap it in; returns the manifest."""
    import faiss

    index_dir = Path(index_dir)
    started = time.perf_counter()
    chunks = _chunks(docs, chunking, _previous_chunks(index_dir, chunking, rules_hash))
    progress(f"{len(docs)} documents -> {len(chunks)} passages")
    texts = [embedding_text(c) for c in chunks]
    with _lock(index_dir), _staging(index_dir) as tmp:
        _restore_old(index_dir)  # a crash mid-swap left only `.NAME.old`: never delete the last good index
        entries = []
        embedded = embed_all(embedders, texts, cache_dir, bar=bar, prune=prune_cache)
        for n, (emb, done) in enumerate(zip(embedders, embedded)):
            progress(f"{emb.id}: embedded {done.fresh} new passages ({len(texts) - done.fresh} from the cache) in {done.seconds:.1f} s")
            index, kind = make_index(done.vectors, ann_threshold)
            name = f"vectors-{n}.faiss"
            faiss.write_index(index, str(tmp / name))
            entries.append({"id": emb.id, "dim": emb.dim, "cross_lingual": emb.cross_lingual, "file": name, **kind})
        with open(tmp / CHUNKS, "w", encoding="utf-8") as fh:
            for c in chunks:
                fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
        manifest = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "fingerprint": fingerprint(docs, tuple(e.id for e in embedders), chunking, rules_hash, ann_threshold),
            "corpus": corpus or [],
            "model": spec_of(tuple(e.id for e in embedders)),  # what loads these embedders again
            "embedders": entries,
            "chunking": asdict(chunking),
            "chunker_version": CHUNKER_VERSION,
            "documents": [{"id": d.id, "title": d.title, "language": d.language, "path": d.path, "hash": d.hash} for d in docs],
            "counts": {"documents": len(docs), "chunks": len(chunks)},
            "files": {p.name: _sha256(p) for p in sorted(tmp.iterdir())},
            "build_seconds": round(time.perf_counter() - started, 2),
        }
        _write_json(tmp / MANIFEST, manifest)
        _swap_in(tmp, index_dir)
    progress(f"index written to {index_dir} in {manifest['build_seconds']} s")
    return manifest


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
        if _sha256(path) != manifest["files"][CHUNKS]:
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
            if _sha256(path) != digest:
                raise IndexCorruptError(f"{index_dir}/{name} does not match its checksum (damaged or edited): {corrupt}")
    try:
        chunks = tuple(Chunk(**json.loads(line)) for line in (index_dir / CHUNKS).read_text(encoding="utf-8").splitlines())
        vectors = tuple(read_index(index_dir / e["file"], e) for e in manifest["embedders"])
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"{index_dir} cannot be read ({str(exc)[:200]}): {corrupt}") from exc
    for entry, vec in zip(manifest["embedders"], vectors):
        if vec.ntotal != len(chunks) or vec.d != entry["dim"]:
            raise IndexCorruptError(f"{index_dir}: {entry['file']} holds {vec.ntotal} vectors of {vec.d} dims for {len(chunks)} passages: {corrupt}")
    return LoadedIndex(path=index_dir, manifest=manifest, chunks=chunks, vectors=vectors)


def vectors_of(index, ids: np.ndarray) -> np.ndarray:
    """The stored vectors of the given ids (FAISS reconstruct)."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_batch(ids)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
