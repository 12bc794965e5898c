"""Shared helpers: labelled sets, relevance, and indexes per system built into a cache folder."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from chatbot.embeddings import load_embedders
from chatbot.glossary import Glossary
from chatbot.pipeline import build
from chatbot.index import load_index
from chatbot.retrieval import FusionSettings, Retriever
from chatbot.settings import Settings

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def load_set(name: str) -> list[dict]:
    """Records of evaluation/NAME.jsonl."""
    return [json.loads(line) for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def is_relevant(record: dict, doc_id: str, text: str) -> bool:
    """A passage answers the question when it is from the labelled document and holds an evidence span."""
    flat = _norm(text)
    return doc_id == record["doc_id"] and any(_norm(e) in flat for e in record["evidence"])


@dataclass(frozen=True)
class System:
    """A retrieval configuration: embedder spec plus fusion weights."""

    name: str
    model: str
    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    glossary: bool = True


def retriever_for(system: System, settings: Settings | None = None) -> Retriever:
    """Build (or reuse) the index of `system` over the settings' corpus and return a retriever."""
    settings = settings or Settings.from_env()
    slug = re.sub(r"[^\w.-]+", "_", system.model)
    settings = replace(settings, model=system.model, index_dir=CACHE / f"{settings.index_dir.name}-{slug}")
    embedders = load_embedders(system.model)
    build(settings, embedders=embedders, progress=lambda m: None)
    fusion = FusionSettings(bm25_weight=system.bm25_weight, dense_weight=system.dense_weight)
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
