"""Speed of the command line and of the engine in process on the seed corpus, the product and the
tutorial baseline (evaluation/tutorial.py) measured in the same run, one after the other:

  index build (process start to end), cold single question (process start to answer: `chatbot
  ask`, or `python -m evaluation.tutorial search`), warm per-question latency over a batch in one
  process (`--batch`), in-process latency after a warm-up (the product's full answer, the
  tutorial's search; evaluation/inprocess.py), and the peak RSS of each of those processes.

    python -m evaluation.bench_cli [--questions N] [--model default] [--out evaluation/reports]

Every figure comes from a fresh child process on temporary indexes. Prints a table with the
issue's targets beside the product's figures and the machine load at start and end, and writes
the section "CLI and in-process" of evaluation/reports/speed-and-load.md (and its key "cli" in
speed-and-load.json), leaving the load test's section as it is. A benchmark, not a test: numbers
vary with machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from . import machine
from .common import HERE, load_set
from .load_test import env_for
from .metrics import latency
from .speed_report import REPORTS, machine_line, plain, table, target, write_section

CHATBOT = [sys.executable, "-m", "chatbot"]
PEAK_RSS = [sys.executable, "-m", "evaluation.peak_rss"]
TUTORIAL = [sys.executable, "-m", "evaluation.tutorial"]
INPROCESS = [sys.executable, "-m", "evaluation.inprocess"]
REPO = HERE.parent
CORPUS = REPO / "corpus"
COLD_QUESTION = "How is CMV transmitted?"


def run(args: list[str], command: list[str] = CHATBOT, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of this command alone, stdout) of one command in a fresh process;
    raises RuntimeError with the end of its stderr when it fails."""
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "stderr", "w+") as err:
        t0 = time.perf_counter()
        proc = _spawn(command + args, Path(tmp), err, env)
        out = proc.stdout.read()
        seconds, peak = _finish(proc, Path(tmp), t0)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{shlex.join(command + args)} failed ({proc.returncode}): {err.read()[-2000:]}")
    return seconds, peak, out


def _spawn(command: list[str], tmp: Path, stderr, env: dict[str, str] | None) -> subprocess.Popen:
    """Start `command` under evaluation.peak_rss, so that its peak RSS is its own (see there)."""
    return subprocess.Popen(PEAK_RSS + [str(tmp / "peak"), "--", *command], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)


def _finish(proc: subprocess.Popen, tmp: Path, t0: float) -> tuple[float, float]:
    """Wait for the command; (seconds since t0, its peak RSS MiB)."""
    proc.stdout.close()
    proc.wait()
    seconds = time.perf_counter() - t0
    peak = tmp / "peak"
    return seconds, (int(peak.read_text()) / 1024 if peak.exists() else float("nan"))


def batch_latencies(index: Path, questions: list[str], command: list[str] = CHATBOT + ["ask", "--json"],
                    extra: Sequence[str] = (), env: dict[str, str] | None = None) -> tuple[list[float], float, float]:
    """Per-question gaps between streamed answer lines (warm), total seconds and peak RSS MiB of
    `command --batch FILE --index INDEX [extra]`."""
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "batch.jsonl"
        batch.write_text("".join(json.dumps({"id": n, "question": q}, ensure_ascii=False) + "\n" for n, q in enumerate(questions)),
                         encoding="utf-8")
        t0 = time.perf_counter()
        proc = _spawn(command + ["--batch", str(batch), "--index", str(index), *extra], Path(tmp), subprocess.DEVNULL, env)
        stamps = [time.perf_counter() for _ in iter(proc.stdout.readline, "")]
        total, peak = _finish(proc, Path(tmp), t0)
    if proc.returncode or len(stamps) != len(questions):
        raise RuntimeError(f"{shlex.join(command)} --batch answered {len(stamps)} of {len(questions)} questions (exit {proc.returncode})")
    return [b - a for a, b in zip(stamps, stamps[1:])], total, peak


def child_env(work: Path) -> dict[str, str]:
    """Offline, no CHATBOT_* settings from the shell, a data folder in `work`, and this checkout's
    `evaluation` importable whatever the current folder."""
    env = env_for(work / "data")
    return env | {"PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)}


def in_process(args: list[str], env: dict[str, str]) -> dict:
    """evaluation.inprocess in a fresh process: per-question latency, loading time, peak RSS."""
    _, rss, out = run(args, command=INPROCESS, env=env)
    got = json.loads(out)
    return {"latency": asdict(latency(got["seconds"])), "load_s": round(got["load_s"], 2), "rss_mib": round(rss, 1)}


def product_figures(work: Path, batch: list[str], model: str, env: dict[str, str]) -> dict:
    """`chatbot build` (twice: the second finds nothing changed), a cold `chatbot ask`, `chatbot ask
    --batch`, and the engine in process."""
    index, extra = work / "product", ["--model", model, "--corpus", str(CORPUS)]
    build_s, build_rss, _ = run(["build", "--index", str(index), *extra], env=env)
    again_s, _, _ = run(["build", "--index", str(index), *extra], env=env)
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    cold_s, cold_rss, out = run(["ask", COLD_QUESTION, "--json", "--index", str(index), *extra], env=env)
    if not json.loads(out)["passages"]:
        raise RuntimeError("the cold `chatbot ask` returned no passages")
    gaps, total, batch_rss = batch_latencies(index, batch, command=CHATBOT + ["ask", "--json"], extra=extra, env=env)
    return {"build_s": round(build_s, 2), "index_build_s": manifest["build_seconds"], "passages": manifest["counts"]["chunks"],
            "build_rss_mib": round(build_rss, 1), "unchanged_build_s": round(again_s, 2),
            "cold_s": round(cold_s, 2), "cold_rss_mib": round(cold_rss, 1),
            "batch": asdict(latency(gaps)), "batch_total_s": round(total, 2), "batch_rss_mib": round(batch_rss, 1),
            "in_process": in_process(["product", str(work / "questions.jsonl"), "--index", str(index), *extra], env)}


def tutorial_figures(work: Path, batch: list[str], env: dict[str, str]) -> dict:
    """The tutorial's `build`, a cold `search`, `search --batch`, and its search in process."""
    index = work / "tutorial"
    build_s, build_rss, _ = run(["build", "--index", str(index), "--corpus", str(CORPUS)], command=TUTORIAL, env=env)
    meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
    cold_s, cold_rss, out = run(["search", COLD_QUESTION, "--index", str(index)], command=TUTORIAL, env=env)
    if not json.loads(out)["passages"]:
        raise RuntimeError("the cold tutorial search returned no passages")
    gaps, total, batch_rss = batch_latencies(index, batch, command=TUTORIAL + ["search"], env=env)
    return {"build_s": round(build_s, 2), "index_build_s": meta["build_seconds"], "passages": meta["passages"],
            "build_rss_mib": round(build_rss, 1), "cold_s": round(cold_s, 2), "cold_rss_mib": round(cold_rss, 1),
            "batch": asdict(latency(gaps)), "batch_total_s": round(total, 2), "batch_rss_mib": round(batch_rss, 1),
            "in_process": in_process(["tutorial", str(work / "questions.jsonl"), "--index", str(index)], env)}


def rows(figures: dict) -> list[tuple[str, str, str, str]]:
    """(figure, product, target, tutorial) for the table."""
    p, t, n = figures["product"], figures["tutorial"], figures["questions"]
    pi, ti = p["in_process"], t["in_process"]
    return [
        ("index build, process start to end", _s(p["build_s"]), "", _s(t["build_s"])),
        ("- of which chunking, embedding, writing", _s(p["index_build_s"]), "", _s(t["index_build_s"])),
        ("- passages in the index", str(p["passages"]), "", str(t["passages"])),
        ("- peak RSS", _mib(p["build_rss_mib"]), "", _mib(t["build_rss_mib"])),
        ("second build, nothing changed", _s(p["unchanged_build_s"]), "", "(always rebuilds)"),
        ("cold single question, process start to answer", _s(p["cold_s"]), target("cold_ask", p["cold_s"]), _s(t["cold_s"])),
        ("- peak RSS", _mib(p["cold_rss_mib"]), target("rss", p["cold_rss_mib"]), _mib(t["cold_rss_mib"])),
        (f"batch of {n} in one process, warm per-question p50", _ms(p["batch"]["p50_ms"]), "", _ms(t["batch"]["p50_ms"])),
        ("- p95", _ms(p["batch"]["p95_ms"]), "", _ms(t["batch"]["p95_ms"])),
        ("- peak RSS", _mib(p["batch_rss_mib"]), target("rss", p["batch_rss_mib"]), _mib(t["batch_rss_mib"])),
        (f"in process, {n} questions after a warm-up, p50", _ms(pi["latency"]["p50_ms"]), "", _ms(ti["latency"]["p50_ms"])),
        ("- p95", _ms(pi["latency"]["p95_ms"]), target("answer_p95", pi["latency"]["p95_ms"]), _ms(ti["latency"]["p95_ms"])),
        ("- loading models and index", _s(pi["load_s"]), "", _s(ti["load_s"])),
        ("- peak RSS", _mib(pi["rss_mib"]), target("rss", pi["rss_mib"]), _mib(ti["rss_mib"])),
    ]


HEADER = ("figure", "product", "target (issue 15)", "tutorial baseline")


def _s(x: float) -> str:
    return f"{x:.1f} s"


def _ms(x: float) -> str:
    return f"{x:.0f} ms"


def _mib(x: float) -> str:
    return f"{x:.0f} MiB"


def markdown(figures: dict) -> str:
    """The report section: what was run, the table, the machine and its load."""
    return (f"Seed corpus (`corpus/`), product embedder `{figures['model']}`. Product: `chatbot build`, `chatbot ask QUESTION "
            "--json`, `chatbot ask --batch FILE --json`, and `Bot.load` then `bot.ask` in one process, which composes the "
            "whole answer. Tutorial baseline (1,000-character windows, all-MiniLM-L6-v2 fp32 through sentence-transformers, "
            "FAISS flat): `python -m evaluation.tutorial build`, `search QUESTION`, `search --batch FILE`, and "
            "`TutorialIndex.search` in one process; it only retrieves passages, it composes no answer. Every figure comes "
            "from a fresh process; peak RSS is that process's own (evaluation/peak_rss.py). Batch latency is the gap "
            "between consecutive answer lines; in-process latency follows a warm-up of questions outside the measured "
            f"set.\n\n{table(HEADER, rows(figures))}\n{machine_line(figures['meta'])}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.bench_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=0, help="how many labelled questions for the batch and in-process "
                                                                 "figures (default: all in-scope ones, English and Indonesian)")
    parser.add_argument("--model", default="default", help="the product's embedder (default: default)")
    parser.add_argument("--out", type=Path, default=REPORTS, help="report folder (default: evaluation/reports)")
    args = parser.parse_args(argv)
    batch = [r["question"] for r in load_set("questions") + load_set("heldout")]
    batch = batch[: args.questions] if args.questions else batch
    if len(batch) < 2:
        parser.error("--questions must be at least 2 (batch latency is the gap between consecutive answers)")
    meta = machine.describe(shlex.join(["python", "-m", "evaluation.bench_cli", *(sys.argv[1:] if argv is None else argv)]))
    print(f"bench_cli: seed corpus, {len(batch)} questions, {meta['cores']} cores, load average at start "
          f"{meta['load_average_at_start']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="chatbot-bench-") as tmp:
        work = Path(tmp)
        (work / "questions.jsonl").write_text("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n" for q in batch),
                                              encoding="utf-8")
        env = child_env(work)
        print("product ...", flush=True)
        product = product_figures(work, batch, args.model, env)
        print("tutorial baseline ...", flush=True)
        tutorial = tutorial_figures(work, batch, env)
    meta["load_average_at_end"] = machine.load_average()
    figures = {"meta": meta, "model": args.model, "questions": len(batch), "product": product, "tutorial": tutorial}
    print("\n" + plain(HEADER, rows(figures)))
    print(f"\nload average at start {meta['load_average_at_start']}, at end {meta['load_average_at_end']} ({meta['cores']} cores)")
    md, js = write_section("cli", markdown(figures), figures, args.out)
    print(f"written: {md} (section \"CLI and in-process\"), {js} (key \"cli\")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
