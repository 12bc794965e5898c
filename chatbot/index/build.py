"""Build orchestration: corpus -> cleaned documents -> index, skipping work when nothing changed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..ingest.chunking import ChunkSettings
from ..ingest.cleaning import RULES_FILENAME, clean_document, load_rules
from ..ingest.documents import load_corpus
from ..embeddings import Embedder, embedder_ids, load_embedders, partial_embedders, prepare_embedders
from ..embeddings.registry import normalise_spec
from ..errors import IndexCorruptError, IndexMissingError, IndexStaleError
from .calibrate import offtopic_questions, questions_hash
from .directory import LoadedIndex, build_index, fingerprint, is_current, load_index, read_manifest
from .vectors import prune_other_embedders
from ..records import Document, content_hash
from ..settings import Settings

log = logging.getLogger("chatbot")


@dataclass(frozen=True)
class BuildResult:
    manifest: dict
    built: bool  # False: the index was already current


def cleaned_corpus(paths: tuple[Path, ...]) -> tuple[list[Document], str]:
    """Documents without site chrome, and the hash of the cleaning rules used."""
    extra = [Path(p) / RULES_FILENAME for p in paths if (Path(p) / RULES_FILENAME).is_file()]
    rules = load_rules(*extra)
    rules_hash = content_hash("\n".join(f"{r.name}|{r.line and r.line.pattern}|{r.block and r.block.pattern}|{r.until and r.until.pattern}" for r in rules))
    return [clean_document(d, rules) for d in load_corpus(paths)], rules_hash


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(min_words=settings.chunk_min_words, max_words=settings.chunk_max_words)


def model_spec(settings: Settings, docs: list[Document]) -> str:
    """The embedder spec of the settings (the same for every collection size)."""
    return normalise_spec(settings.model)


def partial(settings: Settings, docs: list[Document]) -> tuple[str, ...]:
    """Embedders that embed only the non-English passages of this collection (e5 in large ones)."""
    return partial_embedders(settings.model, sum(len(d.text.split()) for d in docs), settings.e5_max_words)


def cache_dir(settings: Settings) -> Path:
    """Where the embedding cache of an index lives: `CHATBOT_EMBEDDING_CACHE` (shared by several
    indexes, never pruned), else a folder of its own beside the index (pruned of stale vectors)."""
    if settings.embedding_cache:
        return Path(settings.embedding_cache)
    index_dir = Path(settings.index_dir)
    return index_dir.parent / ".embeddings" / index_dir.name


def build(settings: Settings, force: bool = False, embedders: tuple[Embedder, ...] | None = None,
          progress: Callable[[str], None] = log.info, bar: bool = False) -> BuildResult:
    """Build the index of `settings.corpus` into `settings.index_dir` unless it is already current."""
    docs, rules_hash = cleaned_corpus(settings.corpus)
    spec = model_spec(settings, docs)
    ids = tuple(e.id for e in embedders) if embedders else embedder_ids(spec)
    if not embedders:
        prepare_embedders(spec, settings.model_cache, progress)  # exported models: even when the index is current
    part = tuple(i for i in partial(settings, docs) if i in ids)
    offtopic = offtopic_questions(settings.offtopic_file)
    fp = fingerprint(docs, ids, chunk_settings(settings), rules_hash, settings.ann_threshold, part, questions_hash(settings.offtopic_file))
    if not force and is_current(settings.index_dir, fp):
        return BuildResult(read_manifest(settings.index_dir), built=False)
    embedders = embedders or load_embedders(spec, settings.model_cache)  # models load only when there is work
    manifest = build_index(settings.index_dir, docs, embedders, chunk_settings(settings), rules_hash,
                           corpus=_corpus_key(settings.corpus), progress=progress, ann_threshold=settings.ann_threshold,
                           cache_dir=cache_dir(settings), prune_cache=not settings.embedding_cache, bar=bar, partial=part,
                           offtopic=offtopic)
    if not settings.embedding_cache:  # the index's own cache: vectors of models it no longer uses go
        removed = prune_other_embedders(cache_dir(settings), [e.id for e in embedders])
        if removed:
            progress(f"removed the cached vectors of models this index no longer uses: {', '.join(removed)}")
    return BuildResult(manifest, built=True)


def open_index(settings: Settings, embedders: tuple[Embedder, ...] | None = None, auto_build: bool | None = None,
               progress: Callable[[str], None] = log.info) -> LoadedIndex:
    """Load the configured index. The default index is (re)built when missing or out of date;
    any other index must be built explicitly, and a stale one is refused with what to run.
    Without `embedders`, the models are the configured ones (`manifest["model"]` names them)."""
    if auto_build is None:
        auto_build = Path(settings.index_dir).resolve() == Settings().index_dir.resolve()
    try:
        manifest = read_manifest(settings.index_dir)
    except (IndexMissingError, IndexCorruptError) as exc:
        if not auto_build:
            raise
        first = isinstance(exc, IndexMissingError)
        progress(f"building the index in {settings.index_dir} ({'first run' if first else 'the old one is damaged'})")
        build(settings, force=True, embedders=embedders, progress=progress)
        return load_index(settings.index_dir, embedders)
    if auto_build:
        if build(settings, embedders=embedders, progress=progress).built:
            progress("the corpus or settings changed: index rebuilt")
        try:
            return load_index(settings.index_dir, embedders)
        except (IndexCorruptError, IndexStaleError):
            progress(f"the index in {settings.index_dir} is damaged: rebuilding it")
            build(settings, force=True, embedders=embedders, progress=progress)
            return load_index(settings.index_dir, embedders)
    index = load_index(settings.index_dir, embedders or _configured_ids(settings, manifest))  # says so first when the models differ
    if _corpus_changed(settings, manifest, embedders):
        raise IndexStaleError(f"the documents changed since {settings.index_dir} was built: run `chatbot build --index {settings.index_dir}` with the same --corpus")
    return index


def _configured_ids(settings: Settings, manifest: dict) -> tuple[str, ...]:
    """The embedder ids the settings ask for."""
    return embedder_ids(settings.model)


def _corpus_changed(settings: Settings, manifest: dict, embedders: tuple[Embedder, ...] | None) -> bool:
    """True when the index was built from the configured corpus folders and their documents changed since."""
    if manifest.get("corpus") != _corpus_key(settings.corpus):
        return False  # built from another corpus (e.g. `build --corpus X`): nothing to compare with
    docs, rules_hash = cleaned_corpus(settings.corpus)
    ids = tuple(e.id for e in embedders) if embedders else embedder_ids(model_spec(settings, docs))
    part = tuple(i for i in partial(settings, docs) if i in ids)
    return fingerprint(docs, ids, chunk_settings(settings), rules_hash, settings.ann_threshold, part,
                       questions_hash(settings.offtopic_file)) != manifest.get("fingerprint")


def _corpus_key(paths: tuple[Path, ...]) -> list[str]:
    return sorted(str(Path(p).resolve()) for p in paths)
