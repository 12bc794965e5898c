"""Speed of the command line on the seed corpus: index build, cold `chatbot ask`, warm
per-question latency over `chatbot ask --batch`, and peak memory (RSS) of each process.

    python -m evaluation.bench_cli [--questions N]

Runs the installed `chatbot` command in subprocesses on a temporary index; prints figures.
A benchmark, not a test: numbers vary with machine load.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .common import load_set

CHATBOT = [sys.executable, "-m", "chatbot"]
PEAK_RSS = [sys.executable, "-m", "evaluation.peak_rss"]


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
