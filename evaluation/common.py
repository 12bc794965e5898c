"""Shared helpers: labelled sets, relevance, and indexes per system built into a cache folder."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from chatbot.embeddings import load_embedders
from chatbot.search.glossary import Glossary
from chatbot.index.build import build
from chatbot.index.directory import load_index
from chatbot.search.retrieval import FusionSettings, Retriever
from chatbot.settings import Settings

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def load_set(name: str) -> list[dict]:
    """Records of evaluation/NAME.jsonl."""
    return [json.loads(line) for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def norm(text: str) -> str:
    """Whitespace collapsed, case and typographic apostrophes ignored (a span labelled in one
    sentence also counts where the source repeats it with another capital)."""
    return re.sub(r"\s+", " ", text).strip().casefold().replace("’", "'")


def relevant_docs(record: dict) -> tuple[str, ...]:
    """Documents that can answer a question: `doc_ids` (MedQuAD) or the labelled `doc_id`."""
    return tuple(record.get("doc_ids") or (record["doc_id"],))


def is_relevant(record: dict, doc_id: str, text: str) -> bool:
    """A passage answers the question when it is from the labelled document and holds an evidence
    span; a record without `evidence` (MedQuAD) is answered by any passage of its documents."""
    if doc_id not in relevant_docs(record):
        return False
    flat = norm(text)
    return "evidence" not in record or any(norm(e) in flat for e in record["evidence"])


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the metrics see it, whatever system found it."""

    doc_id: str
    text: str


@dataclass(frozen=True)
class System:
    """A retrieval configuration: embedder spec plus fusion weights."""

    name: str
    model: str
    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    glossary: bool = True
    anchors: bool = True  # the topic anchors and the stored question's kind (lexical signals): off for a model or BM25
    # measured alone
    bm25_max_scale: float = FusionSettings.bm25_max_scale  # 0: BM25 as a z-score against its language's sample (BM25
    # alone: as a share of each language's best score, the best passage of every language would tie at the top)


def index_dir_for(system: System | str, settings: Settings) -> Path:
    """The cache folder of a system's index. Each index sits in a folder of its own, so its
    embedding cache (beside the index) holds its own vectors only; systems with the same model share both."""
    slug = re.sub(r"[^\w.-]+", "_", system.model if isinstance(system, System) else system)
    return CACHE / f"{settings.index_dir.name}-{slug}" / "index"


def retriever_for(system: System, settings: Settings | None = None) -> Retriever:
    """Build (or reuse) the index of `system` over the settings' corpus, as `chatbot build` does, and
    return a retriever with the models the index was built with."""
    settings = settings or Settings.from_env()
    settings = replace(settings, model=system.model, index_dir=index_dir_for(system, settings),
                       embedding_cache=settings.embedding_cache or CACHE / ".embeddings")  # shared by all systems
    manifest = build(settings, progress=lambda m: None).manifest
    embedders = load_embedders(manifest.get("model") or system.model, settings.model_cache)
    fusion = FusionSettings(bm25_weight=system.bm25_weight, dense_weight=system.dense_weight, bm25_max_scale=system.bm25_max_scale,
                            anchor_weight=FusionSettings.anchor_weight if system.anchors else 0.0,
                            asks_otherwise_weight=FusionSettings.asks_otherwise_weight if system.anchors else 0.0)
    glossary = Glossary.load() if system.glossary else Glossary(entries=(), index={})
    return Retriever(load_index(settings.index_dir, embedders), embedders, fusion, glossary=glossary)


def slices(record: dict) -> list[str]:
    """Slice names a question belongs to."""
    out = ["all", "cross" if record["cross"] else f"mono-{record['lang']}"]
    if record["cross"]:
        out.append(f"cross-{record['lang']}->{'id' if record['lang'] == 'en' else 'en'}")
    if record.get("short"):
        out.append("short")
    if record["lang"] == "en":
        out.append("english-questions")
    return out
