"""Chat round-trip latency of a running app, through gradio_client (starts nothing itself).

    chatbot serve --port 7860 &
    python -m evaluation.bench_chat --url http://127.0.0.1:7860/ --n 50
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

QUESTIONS = Path(__file__).parent / "questions.jsonl"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_questions(path: Path, n: int) -> list[str]:
    """The first `n` questions of a JSONL file with a "question" field per line."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [rec["question"] for rec in lines][:n]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Measure chat round-trip latency (p50/p95) of a running chat app via gradio_client.")
    p.add_argument("--url", required=True, help="address of the running app, e.g. http://127.0.0.1:7860/")
    p.add_argument("--questions", type=Path, default=QUESTIONS, help="JSONL file of questions (default: evaluation/questions.jsonl)")
    p.add_argument("--n", type=int, default=50, help="how many questions to ask (default 50)")
    p.add_argument("--api-name", default="/chat", help="endpoint to call (default /chat)")
    args = p.parse_args(argv)

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before importing gradio_client
    os.environ["HF_HUB_OFFLINE"] = "1"
    from gradio_client import Client

    client = Client(args.url, verbose=False)
    questions = load_questions(args.questions, args.n)
    client.predict(questions[0], "auto", [], api_name=args.api_name)  # warm-up, not counted
    times = []
    for q in questions:
        start = time.perf_counter()
        client.predict(q, "auto", [], api_name=args.api_name)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{len(times)} questions via {args.api_name}: p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms, "
          f"mean {statistics.mean(times):.0f} ms, max {max(times):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
