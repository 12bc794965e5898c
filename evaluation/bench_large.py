"""A large collection end to end: MedQuAD (16,407 answers) plus the seed corpus with the default model.

    python -m evaluation.bench_large [--questions 300] [--keep-cache]

Measures, through the real `chatbot` command where a user would use it: the full build from an
empty embedding cache (time, passages/s, peak RSS), a no-op build, a one-document change, an
added and a removed document; then in one process: approximate (IVF) against exact search
(recall@10 per embedder and of the fused top 10, query time), query latency p50/p95 (question
-> ranked passages) and full-answer latency, and peak RSS. Prints the figures and writes
evaluation/reports/large-collection.md. A benchmark, not a test: numbers vary with machine load.
MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 20:511 (2019), CC BY 4.0.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from .bench_cli import run
from .common import CACHE, HERE, load_set

MEDQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "medquad" / "medquad.jsonl.gz"
REPORT = HERE / "reports" / "large-collection.md"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def build_figures(work: Path, corpus: list[Path], keep_cache: bool) -> dict:
    """Timed `chatbot build` runs: full, no-op, one changed / added / removed document."""
    index = work / "index" / "medquad"
    if not keep_cache:
        shutil.rmtree(work / "index", ignore_errors=True)
    args = ["build", "--index", str(index), "--corpus", *map(str, corpus), "--no-progress"]
    out: dict = {}
    out["full_s"], out["full_rss_mib"], _ = run(args)
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    out["passages"], out["documents"] = manifest["counts"]["chunks"], manifest["counts"]["documents"]
    out["embedders"] = [f"{e['id']} ({e['type']})" for e in manifest["embedders"]]
    out["noop_s"], _, _ = run(args)
    collection = corpus[-1]
    lines = collection.read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[100])
    changed["text"] += " Ask your doctor which of these apply to you."
    edits = {"change_s": lines[:100] + [json.dumps(changed)] + lines[101:],
             "add_s": lines + [json.dumps({"id": "added-doc", "title": "Added", "language": "en",
                                           "text": "Cytomegalovirus can be passed to a baby before birth; most babies have no symptoms."})],
             "remove_s": lines[:100] + lines[101:]}
    for key, new_lines in edits.items():
        collection.write_text("\n".join(new_lines) + "\n", encoding="utf-8")
        out[key], _, _ = run(args)
    collection.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out["restore_s"], _, _ = run(args)
    out["index_mib"] = sum(p.stat().st_size for p in index.iterdir()) / 2**20
    out["cache_mib"] = sum(p.stat().st_size for p in (index.parent / ".embeddings").rglob("*")) / 2**20
    return out


def serving_figures(index: Path, questions: list[str]) -> dict:
    """In-process latency of retrieval and of full answers, and the process's peak RSS so far."""
    from chatbot.serve.engine import Bot
    from chatbot.settings import Settings

    t0 = time.perf_counter()
    bot = Bot.load(Settings.from_env(index_dir=index, corpus=(index,)), progress=lambda m: None)
    load_s = time.perf_counter() - t0
    r = bot.retriever
    for q in questions[:5]:  # warm-up
        bot.ask(q)
    search, answer = [], []
    for q in questions:
        t = time.perf_counter()
        r.search(q, "en", k=5)
        search.append(time.perf_counter() - t)
        t = time.perf_counter()
        bot.ask(q)
        answer.append(time.perf_counter() - t)
    return {"load_s": load_s, "search_p50_ms": pct(search, 50), "search_p95_ms": pct(search, 95),
            "answer_p50_ms": pct(answer, 50), "answer_p95_ms": pct(answer, 95), "n": len(questions),
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "bot": bot}


def ann_figures(bot, questions: list[str]) -> dict:
    """Recall@10 of each approximate index against exact search over the same vectors, query times,
    and how much of the fused top 10 stays the same."""
    import faiss

    from chatbot.search.retrieval import Retriever

    r = bot.retriever
    out: dict = {"embedders": {}}
    exact_indexes = []
    for emb, ann in zip(r.embedders, r.index.vectors):
        exact = faiss.IndexFlatIP(ann.d)
        exact.add(ann.reconstruct_n(0, ann.ntotal))
        exact_indexes.append(exact)
        q = emb.encode_queries(questions)
        _, approx_ids = ann.search(q, 10)
        _, exact_ids = exact.search(q, 10)
        t_ann, t_exact = _one_at_a_time(ann, q), _one_at_a_time(exact, q)  # as serving searches
        recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx_ids, exact_ids)])
        out["embedders"][emb.id] = {"recall@10": float(recall), "ann_ms": t_ann * 1000, "exact_ms": t_exact * 1000,
                                     "type": ann.__class__.__name__}
    from dataclasses import replace

    exact_r = Retriever(replace(r.index, vectors=tuple(exact_indexes)), r.embedders, r.settings, r.glossary)
    overlap = [len({h.chunk.id for h in r.search(q, "en", k=10)} & {h.chunk.id for h in exact_r.search(q, "en", k=10)}) / 10
               for q in questions]
    out["fused_recall@10"] = float(np.mean(overlap))
    return out


def _one_at_a_time(index, queries: np.ndarray) -> float:
    """Mean seconds of one single-question search."""
    t = time.perf_counter()
    for row in queries:
        index.search(row[None, :], 10)
    return (time.perf_counter() - t) / len(queries)


def write_report(figures: dict, command: str) -> str:
    b, s, a = figures["build"], figures["serving"], figures["ann"]
    rows = "\n".join(f"| {e} | {v['type']} | {v['recall@10']:.3f} | {v['ann_ms']:.2f} | {v['exact_ms']:.2f} |" for e, v in a["embedders"].items())
    text = f"""# Large collection: MedQuAD + seeds, default model

Command: `{command}` · {time.strftime('%Y-%m-%d %H:%M')} · {figures['machine']}

Collection: {b['documents']} documents -> {b['passages']} passages; embedders: {', '.join(b['embedders'])}.

| build (through `chatbot build`) | figure |
|---|---|
| full build, empty embedding cache | {b['full_s']:.0f} s ({b['passages'] / b['full_s']:.0f} passages/s), peak RSS {b['full_rss_mib']:.0f} MiB |
| nothing changed | {b['noop_s']:.1f} s |
| one document changed | {b['change_s']:.1f} s |
| one document added | {b['add_s']:.1f} s |
| one document removed | {b['remove_s']:.1f} s |
| index on disk / embedding cache | {b['index_mib']:.0f} MiB / {b['cache_mib']:.0f} MiB |

| serving (in-process, {s['n']} questions: MedQuAD titles and 50 seed questions) | p50 | p95 |
|---|---|---|
| query: question -> ranked passages | {s['search_p50_ms']:.1f} ms | {s['search_p95_ms']:.1f} ms |
| full answer (query + sentence selection + composition) | {s['answer_p50_ms']:.1f} ms | {s['answer_p95_ms']:.1f} ms |

Loading the index and models: {s['load_s']:.1f} s; peak RSS of the serving process: {s['rss_mib']:.0f} MiB.

| embedder | index | recall@10 vs exact | query ms (approx.) | query ms (exact) |
|---|---|---|---|---|
{rows}

Fused top 10 (BM25 + both embedders) with approximate vs exact indexes: {a['fused_recall@10']:.3f} of the passages the same.

MedQuAD: Ben Abacha & Demner-Fushman, "A Question-Entailment Approach to Question Answering",
BMC Bioinformatics 20:511 (2019), CC BY 4.0. Imported with `chatbot import --preset medquad`.
"""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--medquad", type=Path, default=MEDQUAD, help="medquad.jsonl.gz")
    parser.add_argument("--questions", type=int, default=300, help="MedQuAD questions for latency and recall")
    parser.add_argument("--keep-cache", action="store_true", help="keep the embedding cache (the full build is then not from scratch)")
    parser.add_argument("--skip-build", action="store_true", help="measure serving only, with the build figures of the last run")
    args = parser.parse_args()
    from chatbot.ingest.importer import import_collection, parse_mapping

    work = CACHE / "large"
    collection = work / "corpus" / "medquad.jsonl"
    import_collection(args.medquad, collection, parse_mapping("medquad", None))
    corpus = [HERE.parent / "corpus", collection]
    saved = work / "build-figures.json"
    if args.skip_build and saved.exists():
        figures = {"build": json.loads(saved.read_text(encoding="utf-8"))}
    else:
        print("building (several minutes)...", flush=True)
        figures = {"build": build_figures(work, corpus, args.keep_cache)}
        saved.write_text(json.dumps(figures["build"]), encoding="utf-8")
    print(json.dumps(figures["build"], indent=1), flush=True)
    records = [json.loads(line) for line in collection.read_text(encoding="utf-8").splitlines()]
    questions = [r["title"] for r in random.Random(0).sample(records, args.questions)]
    questions += [r["question"] for r in load_set("questions")[:50]]
    figures["serving"] = serving_figures(work / "index" / "medquad", questions)
    figures["ann"] = ann_figures(figures["serving"].pop("bot"), questions)
    from .machine import describe

    m = describe("")
    figures["machine"] = (f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB; Python {m['python']}; "
                          + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + f"; commit {m['commit']}; load at start {m['load_average_at_start']}")
    print(write_report(figures, "python -m evaluation.bench_large " + " ".join(sys.argv[1:])))


if __name__ == "__main__":
    main()
