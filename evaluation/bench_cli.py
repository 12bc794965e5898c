"""Speed of the command line on the seed corpus: index build, cold `chatbot ask`, warm
per-question latency over `chatbot ask --batch`, and peak memory (RSS) of each process.

    python -m evaluation.bench_cli [--questions N]

Runs the installed `chatbot` command in subprocesses on a temporary index; prints figures.
A benchmark, not a test: numbers vary with machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import load_set

CHATBOT = [sys.executable, "-m", "chatbot"]


def run(args: list[str], stdin: str | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of the child, stdout) of one chatbot command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(CHATBOT + args, capture_output=True, text=True, input=stdin, check=True).stdout
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, out


def batch_latencies(index: Path, questions: list[str]) -> tuple[list[float], float, float]:
    """Per-question gaps between streamed answer lines (warm), total seconds and peak RSS MiB."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for n, q in enumerate(questions):
            fh.write(json.dumps({"id": n, "question": q}, ensure_ascii=False) + "\n")
    t0 = time.perf_counter()
    proc = subprocess.Popen(CHATBOT + ["ask", "--batch", fh.name, "--json", "--index", str(index)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stamps = [time.perf_counter() for _ in iter(proc.stdout.readline, "")]
    proc.wait()
    os.unlink(fh.name)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return [b - a for a, b in zip(stamps, stamps[1:])], time.perf_counter() - t0, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=0, help="how many batch questions (default: all labelled in-scope ones)")
    args = parser.parse_args()
    questions = [r["question"] for r in load_set("questions") + load_set("heldout")]
    questions = questions[: args.questions] if args.questions else questions
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        build_s, build_rss, _ = run(["build", "--index", str(index)])
        again_s, _, _ = run(["build", "--index", str(index)])
        cold_s, cold_rss, out = run(["ask", "How is CMV transmitted?", "--json", "--index", str(index)])
        assert json.loads(out)["passages"], "the cold ask returned no passages"
        gaps, total, batch_rss = batch_latencies(index, questions)
    gaps_ms = sorted(g * 1000 for g in gaps)
    p = lambda q: gaps_ms[min(len(gaps_ms) - 1, int(q * len(gaps_ms)))]  # noqa: E731
    print(f"index build (seed corpus, 3 documents, default embedder): {build_s:.1f} s  (peak RSS {build_rss:.0f} MiB)")
    print(f"second build, nothing changed:                            {again_s:.1f} s")
    print(f"cold `chatbot ask` (process start to answer):             {cold_s:.1f} s  (peak RSS {cold_rss:.0f} MiB)")
    print(f"batch of {len(questions)} questions: {total:.1f} s in all; warm per-question latency "
          f"p50 {p(0.50):.0f} ms, p95 {p(0.95):.0f} ms, mean {statistics.mean(gaps_ms):.0f} ms  (peak RSS {batch_rss:.0f} MiB)")


if __name__ == "__main__":
    main()
