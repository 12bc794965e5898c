"""The report: README.md (Markdown), PNG charts and results.json, from one results dict."""

from __future__ import annotations

import json
from pathlib import Path

from . import charts, report_answers
from .charts import CORPORA, SLICES

METRICS = {"hit1": "hit@1", "hit5": "hit@5", "hit10": "hit@10", "mrr10": "MRR@10", "ndcg10": "nDCG@10"}
HEADINGS = {"seed": "Seed corpus (3 documents)", "medquad": "MedQuAD corpus"}
COSTS = (  # (path in a system's speed figures, label, unit): lower is better
    (("build", "seconds"), "build time", "s"),
    (("build", "index_mib"), "index size", "MiB"),
    (("build", "peak_rss_mib"), "build peak RSS", "MiB"),
    (("retrieval", "p95_ms"), "p95 retrieval", "ms"),
    (("process", "cold_seconds"), "cold start", "s"),
    (("process", "batch", "p95_ms"), "CLI batch p95", "ms"),
    (("process", "batch_rss_mib"), "batch peak RSS", "MiB"),
)
HEADLINE_SLICES = (("cross", "cross-lingual hit@5"), ("mono-en", "English hit@5"), ("mono-id", "Indonesian hit@5"))


def write(results: dict, out: Path) -> list[Path]:
    """Write results.json, the charts and README.md into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "results.json"]
    files[0].write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if results.get("labelled"):
        files.append(charts.quality(results, out / "quality.png"))
    if results.get("medquad"):
        files.append(charts.medquad(results, out / "medquad.png"))
    if results.get("speed"):
        files.append(charts.speed(results, out / "speed.png"))
    files.append(out / "README.md")
    files[-1].write_text(render(results, {f.name for f in files}), encoding="utf-8")
    return files


def render(results: dict, images: set[str] = frozenset()) -> str:
    """The whole Markdown report."""
    parts = [_header(results), _headline(results), _worse(results), _systems(results), report_answers.answers(results),
             report_answers.mixed(results), _labelled(results, images), _bot(results), _medquad(results, images),
             report_answers.medquad_answers(results), report_answers.consumer(results), _speed(results, images), METHOD]
    return "\n".join(p for p in parts if p) + "\n"


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def _get(d, *keys):
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _header(r: dict) -> str:
    m, o = r["meta"], r["options"]
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    full = not o["skip_medquad"] and o["medquad_docs"] == 0 and o["medquad_questions"] >= 1000
    scope = ("**Quick run** (development figures: seed sets and a small MedQuAD subset; not for comparison)"
             if o.get("quick") else "Full run" if full else "**Partial run** (smaller than the full run's defaults)")
    return (f"# Evaluation report\n\n{scope}, {m['date']}, commit `{m['commit']}`, "
            f"{_f(m.get('duration_s'), 0)} s in all. Regenerate with:\n\n    {m['command']}\n\n"
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; load average at the start "
            f"{m['load_average_at_start']}, at the end {m.get('load_average_at_end', '–')} (1/5/15 minutes; other work on the "
            "machine slows every timing).  \n"
            f"Python {m['python']}; {pkgs}.\n")


def _headline(r: dict) -> str:
    corpus = "medquad" if r.get("medquad") else "seed"
    head = ["system", *(f"{label} (held-out)" for _, label in HEADLINE_SLICES), "MedQuAD hit@10", "MedQuAD MRR@10",
            f"build s ({CORPORA[corpus]})", f"p95 retrieval ms ({CORPORA[corpus]})"]
    rows = []
    for key in r["systems"]:
        held = _get(r, "labelled", "heldout", key) or {}
        mq = _get(r, "medquad", "scores", key, "lenient") or {}
        sp = _get(r, "speed", corpus, key) or {}
        build = _get(sp, "build", "seconds")
        shared = f" ({sp['shares_index_with']}'s index)" if sp.get("shares_index_with") else ""
        rows.append([f"**{key}**", *(_f(_get(held, s, "hit5")) for s, _ in HEADLINE_SLICES), _f(mq.get("hit10")),
                     _f(mq.get("mrr10")), _f(build, 1) + shared, _f(_get(sp, "retrieval", "p95_ms"), 1)])
    excluded = "".join(f"\n{key} on MedQuAD: {why}\n" for key, why in (r.get("excluded") or {}).items())
    return ("## Headline\n\nHit rates on the held-out set (written after tuning: the unbiased figures); MedQuAD on its "
            "question sample; build time and latency on the "
            f"{'MedQuAD' if corpus == 'medquad' else 'seed'} corpus.\n\n" + _table(head, rows) + excluded)


def _comparisons(r: dict) -> list[tuple[str, float | None, float | None, str]]:
    """(what, default, tutorial, unit) for everything both systems have; unit "" = a score (higher is better)."""
    out = []
    for s, label in SLICES:
        for m in ("hit1", "hit5", "mrr10", "ndcg10"):
            out.append((f"held-out {label} {METRICS[m]}", *(_get(r, "labelled", "heldout", k, s, m) for k in ("default", "tutorial")), ""))
    for m in ("hit1", "hit10", "mrr10"):
        out.append((f"MedQuAD {METRICS[m]}", *(_get(r, "medquad", "scores", k, "lenient", m) for k in ("default", "tutorial")), ""))
    for corpus in r.get("speed", {}):
        for path, label, unit in COSTS:
            out.append((f"{CORPORA[corpus]}: {label}", *(_get(r, "speed", corpus, k, *path) for k in ("default", "tutorial")), unit))
    return out


def _worse(r: dict) -> str:
    if "default" not in r["systems"] or "tutorial" not in r["systems"]:
        return ""
    lines = []
    for what, d, t, unit in _comparisons(r):
        if d is None or t is None or d == t or (d > t) == (unit == ""):
            continue
        if unit:
            lines.append(f"- {what}: default {_f(d, 1)} {unit}, tutorial {_f(t, 1)} {unit}" + (f" ({d / t:.1f}x)" if t else ""))
        else:
            lines.append(f"- {what}: default {_f(d)}, tutorial {_f(t)} ({t - d:.3f} lower)")
    body = "\n".join(lines) if lines else "Nowhere: the default is at least as good as the tutorial baseline on every figure measured."
    return ("### Where the default is worse than the tutorial baseline\n\n" + body + "\n\n(CLI figures: the default "
            "composes a full answer, the tutorial only retrieves passages.)\n")


def _systems(r: dict) -> str:
    lines = []
    for key, about in r["systems"].items():
        built = [f"{CORPORA[c]}: {m}" for c in r.get("speed", {}) if (m := _get(r, "speed", c, key, "build", "model"))]
        lines.append(f"- **{key}**: {about}" + (f" (embedders built: {'; '.join(built)})" if built else ""))
    return "## Systems\n\n" + "\n".join(lines) + "\n"


def _labelled(r: dict, images: set[str]) -> str:
    parts = ["## Quality on the labelled sets\n\nEach cell: hit@1 / hit@5 / MRR@10 / nDCG@10 (n = questions in the slice).\n"]
    titles = {"heldout": "Held-out set: written independently after tuning, only measured (the unbiased figures)",
              "tuning": "Tuning set: used while tuning the system (optimistic)"}
    for name, by_system in r.get("labelled", {}).items():
        first = next(iter(by_system.values()), {})
        head = ["system", *(f"{label} (n={_get(first, s, 'n')})" for s, label in SLICES)]
        rows = [[f"**{key}**", *(_cell(scores.get(s)) for s, _ in SLICES)] for key, scores in by_system.items()]
        parts.append(f"### {titles.get(name, name)}\n\n" + _table(head, rows))
    if "quality.png" in images:
        parts.append("![hit@5 per slice](quality.png)\n")
    return "\n".join(parts)


def _cell(s: dict | None) -> str:
    return " / ".join(_f(s[m], 2) for m in ("hit1", "hit5", "mrr10", "ndcg10")) if s else "–"


def _bot(r: dict) -> str:
    if not r.get("bot"):
        return ""
    rows = [[k, _f(v) if isinstance(v, float) else str(v)] for k, v in r["bot"].items()]
    lat = _get(r, "speed", "seed", "default", "answer") or {}
    return ("## The full bot (default only)\n\nAbstention is calibrated when the index is built, with the off-topic questions "
            "shipped in chatbot/data/offtopic_calibration.toml; its two settings were chosen on the tuning and development "
            "sets against evaluation/offtopic.jsonl (tuning figures). evaluation/offtopic_seeds.jsonl was written apart and "
            "only measured; precision and recall pair it with the independent set. Urgent: evaluation/urgent.jsonl "
            "(emergencies and look-alike controls) plus the tuning set as non-urgent; evaluation/urgent_blind.jsonl (80 "
            "messages, half of them look-alikes, written blind by a helper) only measured; evaluation/urgent_fresh.jsonl (60, "
            "also written blind) measured once, then its misses were read; evaluation/urgent_immuno.jsonl (80, half "
            "look-alikes: fevers during chemotherapy or with low white cells, newborns, written blind) only measured. "
            "Reply language: every labelled "
            "question.\n\n"
            + _table(["figure", "value"], rows)
            + f"\nFull answer latency in-process: p50 {_f(lat.get('p50_ms'), 1)} ms, p95 {_f(lat.get('p95_ms'), 1)} ms "
            f"over {lat.get('n', 0)} questions.\n")


def _medquad(r: dict, images: set[str]) -> str:
    mq = r.get("medquad")
    if not mq:
        return "## MedQuAD\n\nSkipped (`--skip-medquad`).\n"
    i = mq["info"]
    rows = [[f"**{k}**", *(_f(s["lenient"][m]) for m in ("hit1", "hit5", "hit10", "mrr10", "ndcg10")),
             *(_f(s["strict"][m]) for m in ("hit1", "hit10", "mrr10"))] for k, s in mq["scores"].items()]
    head = ["system", "hit@1", "hit@5", "hit@10", "MRR@10", "nDCG@10", "strict hit@1", "strict hit@10", "strict MRR@10"]
    excluded = "".join(f"\n{key}: {why}\n" for key, why in (r.get("excluded") or {}).items())
    chart = "\n![MedQuAD scores](medquad.png)\n" if "medquad.png" in images else ""
    return (f"## MedQuAD\n\n{i['questions']:,} questions drawn at random (seed {i['seed']}) from the {i['records']:,} records; "
            f"the corpus holds {i['documents']:,} answers (the sampled questions' own answers, plus others drawn with the same "
            f"seed) written in the product's JSONL format to `{i['corpus_file']}` (title = the record's focus, text = its "
            "answer; the question is not indexed) and indexed by the product's pipeline. A question counts as found when a "
            "retrieved passage comes from its own record, or from a record with the identical answer text "
            f"({i['same_answer']} sampled questions have one) or the identical question text ({i['same_question']} have "
            "one: MedQuAD asks the same question of several sources). The strict columns count only the own record. "
            f"{i['renamed_ids']} records repeat an earlier record's id with a different answer; they are renamed ID-2, ID-3 (as `chatbot import` does).\n\n"
            + _table(head, rows) + excluded + chart + f"\nData: {i['attribution']}\n")


def _speed(r: dict, images: set[str]) -> str:
    parts = ["## Speed and cost\n\nBuilds run in a fresh process each (`chatbot build --force`, or the tutorial's own "
             "build): build s = chunking, embedding and writing as the index records it; process s = the whole command "
             "(start, model loading, cleaning). Retrieval latency: in-process, per question, after one warm-up. Cold start: "
             "a fresh process answering one question. CLI batch: per-question gaps in one process (`chatbot ask --batch "
             "FILE --json`; the tutorial's `python -m evaluation.tutorial search --batch`). Peak RSS: of that process alone.\n"]
    head = ["system", "passages", "build s", "passages/s", "process s", "build RSS MiB", "index MiB", "retrieval p50/p95 ms",
            "answer p50/p95 ms", "cold start s", "cold RSS MiB", "CLI batch p50/p95 ms", "batch RSS MiB"]
    for corpus, by_system in r.get("speed", {}).items():
        rows = []
        for key, s in by_system.items():
            b, p = s.get("build") or {}, s.get("process") or {}
            shared = f" ({s['shares_index_with']}'s)" if s.get("shares_index_with") else " (reused)" if b.get("reused") else ""
            rows.append([f"**{key}**", _f(b.get("passages")), _f(b.get("seconds"), 1) + shared, _f(b.get("passages_per_s"), 1),
                         _f(b.get("wall_seconds"), 1), _f(b.get("peak_rss_mib"), 0), _f(b.get("index_mib"), 1),
                         _pair(s.get("retrieval")), _pair(s.get("answer")), _f(p.get("cold_seconds"), 1),
                         _f(p.get("cold_rss_mib"), 0), _pair(p.get("batch")), _f(p.get("batch_rss_mib"), 0)])
        parts.append(f"### {HEADINGS[corpus]}\n\n" + _table(head, rows)
                     + _ratios(by_system))
    if "speed.png" in images:
        parts.append("![build time and latency](speed.png)\n")
    return "\n".join(parts)


def _pair(lat: dict | None) -> str:
    return f"{_f(lat['p50_ms'], 1)} / {_f(lat['p95_ms'], 1)}" if lat else "–"


def _ratios(by_system: dict) -> str:
    base = by_system.get("tutorial")
    if not base:
        return ""
    lines = []
    for key, s in by_system.items():
        if key == "tutorial" or s.get("shares_index_with"):
            continue
        said = []
        for path, label, _ in COSTS:
            a, b = _get(s, *path), _get(base, *path)
            if a is not None and b:
                said.append(f"{label} {a / b:.1f}x")
        lines.append(f"- {key}: " + ", ".join(said))
    return "\nAgainst the tutorial baseline, same run (x the tutorial's figure):\n\n" + "\n".join(lines) + "\n"


METHOD = """## How the figures are made

- Relevance (labelled sets): a passage is relevant when it comes from the labelled document and contains one of the
  labelled evidence spans (`evaluation.common.is_relevant`); binary. Every system searches the top 10.
- hit@k: share of questions with a relevant passage in the top k. MRR@10: mean of 1/rank of the first relevant
  passage (0 beyond 10). nDCG@10: binary gains, ideal ranking = all relevant passages of that system's own index first.
- Larger passages contain evidence spans more often: the tutorial's ~1,000-character windows are about 1.5x the
  product's passages (30-120 words), which favours the tutorial on hit rates.
- Slices: English = English questions about English documents (mono-en), Indonesian = mono-id, cross-lingual = the
  answer is only in the other language's document, short = keyword-style questions.
- Seeds, settings and the environment of child processes are fixed (no `CHATBOT_*` variables from the shell); no
  network and no downloads. Timings depend on machine load.
"""
