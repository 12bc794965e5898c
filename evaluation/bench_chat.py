"""Chat round-trip latency of a running app, through gradio_client and as a browser reads it
(starts nothing itself).

    chatbot serve --port 7860 &
    python -m evaluation.bench_chat --url http://127.0.0.1:7860/ --n 50

gradio_client looks for new messages every 50 ms (gradio_client/utils.py, `stream_sse_v1plus`),
so its round trips come in steps of 50 ms. It also makes two new httpx clients a question, and httpx
loads the certificate bundle into each, even for an http:// address (about 25 ms of CPU each
here): on a plain-http address the same questions are asked again through a gradio_client with
`ssl_verify=False` (no TLS, so nothing to verify; evaluation/load_clients.py, `client`). For the
product's `/chat` the same questions are also read the way the chat window reads them (one tab:
join the queue with the conversation so far, read the event stream to the answer:
evaluation/load_clients.py, StreamChat), which is what a patient waits for.
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
    from evaluation.load_clients import PRODUCT, client, plain_http, stream_round_trip

    questions = load_questions(args.questions, args.n)
    ways = [("through gradio_client", True)]
    if plain_http(args.url):
        ways.append(("through gradio_client, certificate bundle not loaded (plain http)", False))
    for how, ca_bundle in ways:
        c = client(args.url, ca_bundle)
        c.predict(questions[0], "auto", [], api_name=args.api_name)  # warm-up, not counted
        times = []
        for q in questions:
            start = time.perf_counter()
            c.predict(q, "auto", [], api_name=args.api_name)
            times.append((time.perf_counter() - start) * 1000)
        c.close()
        print(f"{len(times)} questions via {args.api_name} {how}: p50 {percentile(times, 50):.0f} ms, "
              f"p95 {percentile(times, 95):.0f} ms, mean {statistics.mean(times):.0f} ms, max {max(times):.0f} ms")
    if args.api_name == PRODUCT.api_name:
        read = stream_round_trip(args.url, questions, len(questions))
        times = [s * 1000 for s in read["latencies"]]
        failed = sum(n for outcome, n in read["outcomes"].items() if outcome != "ok")
        print(f"{len(times)} questions read as the chat window reads them: p50 {percentile(times, 50):.0f} ms, "
              f"p95 {percentile(times, 95):.0f} ms, mean {statistics.mean(times):.0f} ms, max {max(times):.0f} ms, "
              f"{failed} not answered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
