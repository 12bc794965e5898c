"""The seed documents inside a MedQuAD-size English collection: does quality hold as the
collection grows? The same labelled sets over two indexes, side by side, for the bot and the
tutorial baseline:

- "seeds": the three seed documents alone;
- "mixed": the seeds plus every MedQuAD answer, imported as a clinic would (`chatbot import
  --preset medquad`: the question is the title), about 16,400 documents.

Per slice: retrieval hit@5, "the answer contains the evidence" (the bot; for the tutorial, its
best window quoted whole); for Indonesian questions whose answer is in an Indonesian document,
how often that passage is in the top 5; and how many questions are declined: in-scope ones
(labelled sets, and health questions only the mixed index covers) and off-topic ones written
for each index. With `--examples N`: the questions whose answer holds the evidence over the seeds
but not inside MedQuAD, with what the mixed index quotes instead, so that a reader can judge the
loss (a MedQuAD record may answer as well as the labelled passage); N per set, 0 for all.

    python -m evaluation.mixed [--sets questions,dev,heldout,independent] [--skip-tutorial] [--examples N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from chatbot.ingest.importer import import_collection, parse_mapping
from chatbot.ingest.langid import detect
from chatbot.settings import Settings

from . import medquad
from .answer_quality import answer_slices, contains_evidence
from .common import CACHE, is_relevant, load_set

LABELLED = ("questions", "dev", "heldout", "independent")
OFF_TOPIC = {"seeds": "offtopic_seeds", "mixed": "offtopic_mixed"}
SEED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass(frozen=True)
class Figures:
    n: int
    hit5: float
    contains: float
    declined: float


def mixed_corpus(data: Path = medquad.DATA) -> Path:
    """MedQuAD converted with `chatbot import --preset medquad` into the evaluation cache (once)."""
    out = CACHE / "mixed" / "medquad-preset.jsonl"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        import_collection(data, out, parse_mapping("medquad", None))
    return out


def settings_for(index: str) -> Settings:
    """The product's default settings over one of the two collections (index in the evaluation cache)."""
    corpus = (SEED_CORPUS,) if index == "seeds" else (SEED_CORPUS, mixed_corpus())
    return Settings.from_env(env={}, corpus=corpus, index_dir=CACHE / "mixed" / f"index-{index}",
                             embedding_cache=CACHE / ".embeddings")


def load_bot(index: str, progress=print):
    """Build (through the shared embedding cache) and load the default bot over one collection."""
    from chatbot.index.build import build
    from chatbot.serve.engine import Bot

    settings = settings_for(index)
    t0 = time.perf_counter()
    result = build(settings, progress=lambda m: None, bar=False)
    progress(f"{index}: index {'built' if result.built else 'up to date'} in {time.perf_counter() - t0:.0f} s "
             f"({result.manifest['counts']['chunks']} passages)")
    return Bot.load(settings, progress=lambda m: None)


def measure_labelled(ask, search, records: list[dict]) -> tuple[dict[str, Figures], list[tuple[dict, object, list]]]:
    """Per slice: hit@5, answer contains the evidence, declined; plus every (record, answer, hits)."""
    rows: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    out = []
    for r in records:
        answer, hits = ask(r["question"]), search(r["question"])
        out.append((r, answer, hits))
        hit5 = any(is_relevant(r, h.doc_id, h.text) for h in hits[:5])
        for s in answer_slices(r) + (["id->id"] if r["lang"] == "id" and not r["cross"] else []):
            rows[s].append((hit5, contains_evidence(answer, r), answer.abstained))
    return {s: Figures(len(v), *(sum(x[i] for x in v) / len(v) for i in range(3))) for s, v in rows.items()}, out


GENERAL = "mixed_dev"  # general-health questions on MedQuAD topics (helper-48, 2026-11-28; tuned on)


def general_health(ask, search, records: list[dict]) -> dict[str, dict[str, float]]:
    """Questions about topics only the MedQuAD records cover, per language and style: declined,
    answer contains the evidence, the own record among the five passages; and off-topic declined."""
    rows: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    for r in records:
        answer = ask(r["question"])
        if r.get("offtopic"):
            rows[f"off-topic {r['lang']}"].append((answer.abstained, False, False))
            continue
        own = any(h.doc_id in r["records"] for h in search(r["question"])[:5])
        for s in (r["lang"], f"{r['lang']} {'lay' if r.get('lay') else 'tidy'}"):
            rows[s].append((answer.abstained, contains_evidence(answer, r), own))
    return {s: {"n": len(v), "declined": sum(x[0] for x in v) / len(v), "contains": sum(x[1] for x in v) / len(v),
                "own_top5": sum(x[2] for x in v) / len(v)} for s, v in sorted(rows.items())}


def declined(ask, records: list[dict]) -> float:
    return sum(ask(r["question"]).abstained for r in records) / max(1, len(records))


def run(sets: tuple[str, ...], tutorial: bool, progress=print, keep_answers: bool = False) -> dict:
    """Every figure of the comparison, as a JSON-able dict (with `keep_answers`, what each answer quoted)."""
    from .retrieval import ProductSearch

    results: dict = {"sets": list(sets), "indexes": {}}
    for index in ("seeds", "mixed"):
        bot = load_bot(index, progress)
        search = ProductSearch(bot.retriever).search
        figures, answers = {}, {}
        for name in sets:
            progress(f"{index}: {name}")
            per, pairs = measure_labelled(bot.ask, lambda q: search(q, 5), load_set(name))
            figures[name] = {s: asdict(f) for s, f in per.items()}
            answers[name] = {r["id"]: _said(r, a) for r, a, _ in pairs}
        results["indexes"][index] = {
            "passages": len(bot.retriever.chunks), "embedders": [e.id for e in bot.embedders],
            **({"documents": sorted({c.doc_id for c in bot.retriever.chunks})} if keep_answers and index == "seeds" else {}),
            "labelled": figures, **({"answers": answers} if keep_answers else {}),
            "off-topic declined": declined(bot.ask, load_set(OFF_TOPIC[index])),
            "health questions only the mixed index covers, declined": declined(bot.ask, load_set("inscope_mixed")),
            **({"general health (mixed_dev, tuned on)": general_health(bot.ask, lambda q: search(q, 5), load_set(GENERAL))}
               if index == "mixed" else {}),
        }
        if tutorial:
            results["indexes"][index]["tutorial"] = _tutorial(index, sets, progress)
    return results


def _said(record: dict, answer) -> dict:
    """What one answer quoted, from which source, and whether that holds the evidence."""
    quotes = [{"title": answer.hits[q.n].chunk.title, "doc_id": answer.hits[q.n].chunk.doc_id, "text": q.text}
              for q in answer.quotes] if not answer.abstained else []
    return {"question": record["question"], "contains": contains_evidence(answer, record), "declined": answer.abstained,
            "quotes": quotes, "evidence": record["evidence"][0]}


def losses(results: dict) -> dict[str, list[dict]]:
    """Per set, the questions answered with the evidence over the seeds and without it inside MedQuAD."""
    seeds, mixed = results["indexes"]["seeds"]["answers"], results["indexes"]["mixed"]["answers"]
    seed_docs = set(results["indexes"]["seeds"]["documents"])
    out = {}
    for name in results["sets"]:
        out[name] = [mixed[name][i] | {"medquad": any(q["doc_id"] not in seed_docs for q in mixed[name][i]["quotes"])}
                     for i, a in seeds[name].items() if a["contains"] and not mixed[name][i]["contains"]]
    return out


def print_examples(results: dict, n: int) -> None:
    for name, lost in losses(results).items():
        medquad_quoted = sum(x["medquad"] for x in lost)
        print(f"\n{name}: {len(lost)} answers hold the evidence over the seeds and not inside MedQuAD; "
              f"{medquad_quoted} of them quote a MedQuAD record, {len(lost) - medquad_quoted} other seed sentences or decline")
        for x in lost[: n or None]:
            print(f"  - {x['question']}")
            print(f"      labelled evidence: {x['evidence']}")
            for q in x["quotes"][:2] or [{"title": "(declined)", "text": ""}]:
                print(f"      quoted from {q['title'][:60]!r}: {q['text'][:150]}")


def _tutorial(index: str, sets: tuple[str, ...], progress) -> dict:
    """The tutorial baseline over the same collection: hit@5, and its best window quoted whole."""
    from . import tutorial

    settings = settings_for(index)
    folder = CACHE / "mixed" / f"tutorial-{index}"
    if not tutorial.is_current(folder, tutorial.corpus_fingerprint(settings.corpus)[1]):
        progress(f"{index}: tutorial index (fp32 MiniLM over 1,000-character windows)")
        tutorial.build(settings.corpus, folder)
    tut = tutorial.TutorialIndex.load(folder)
    out = {}
    for name in sets:
        rows: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        for r in load_set(name):
            found = tut.search(r["question"], 5)
            hit5 = any(is_relevant(r, p.doc_id, p.text) for p in found)
            whole = bool(found) and is_relevant(r, found[0].doc_id, found[0].text)
            for s in answer_slices(r):
                rows[s].append((hit5, whole))
        out[name] = {s: {"n": len(v), "hit5": sum(a for a, _ in v) / len(v), "contains": sum(b for _, b in v) / len(v)}
                     for s, v in rows.items()}
    return out


def print_table(results: dict) -> None:
    slices = ("all", "mono-en", "mono-id", "cross", "short", "lay", "id->id")
    for name in results["sets"]:
        print(f"\n{name}: hit@5 / answer contains evidence / declined  (seeds | mixed)")
        for s in slices:
            cells = []
            for index in ("seeds", "mixed"):
                f = results["indexes"][index]["labelled"][name].get(s)
                cells.append(f"{f['hit5']:.3f} {f['contains']:.3f} {f['declined']:.3f}" if f else "-")
            n = results["indexes"]["seeds"]["labelled"][name].get(s, {}).get("n", 0)
            if n:
                print(f"  {s:8} {n:4d}   {cells[0]}  |  {cells[1]}")
    for index in ("seeds", "mixed"):
        r = results["indexes"][index]
        print(f"\n{index}: {r['passages']} passages, off-topic declined {r['off-topic declined']:.3f}, "
              f"mixed-only health questions declined {r['health questions only the mixed index covers, declined']:.3f}")
    general = results["indexes"]["mixed"].get("general health (mixed_dev, tuned on)", {})
    if general:
        print("\nmixed: general-health questions on MedQuAD topics (mixed_dev, tuned on): declined / contains / own record in top 5")
        for s, f in general.items():
            print(f"  {s:14} {f['n']:4d}   {f['declined']:.3f} {f['contains']:.3f} {f['own_top5']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(LABELLED), help="labelled sets, comma-separated")
    parser.add_argument("--skip-tutorial", action="store_true", help="leave out the tutorial baseline")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--examples", type=int, default=None, metavar="N",
                        help="show N questions per set (0: all) answered with the evidence over the seeds but not inside MedQuAD")
    args = parser.parse_args()
    t0 = time.perf_counter()
    results = run(tuple(args.sets.split(",")), not args.skip_tutorial, progress=lambda m: print(f"[{time.perf_counter() - t0:5.0f} s] {m}", flush=True),
                  keep_answers=args.examples is not None)
    print_table(results)
    if args.examples is not None:
        print_examples(results, args.examples)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
