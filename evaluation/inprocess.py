"""In-process latency, in a process of its own: the product's full answer (`Bot.load`, then
`bot.ask` per question) or the tutorial baseline's search (`TutorialIndex.load`, then `search`).

    python -m evaluation.inprocess product --index DIR --corpus DIR [--model default] QUESTIONS.jsonl
    python -m evaluation.inprocess tutorial --index DIR QUESTIONS.jsonl

Prints one JSON object: `load_s` (models and index) and `seconds` (one per question, after a
warm-up of questions that are not in the labelled sets, so no cache holds the measured ones).
`python -m evaluation.bench_cli` runs it under evaluation.peak_rss, which gives its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

WARM_UP = ("What is CMV?", "Apa itu CMV?", "Can I give my child paracetamol?", "How do I bake bread?")


def product(index: Path, corpus: tuple[Path, ...], model: str) -> Callable[[str], object]:
    """The engine as `chatbot ask` loads it; its `ask` composes the whole answer."""
    from chatbot.serve.engine import Bot
    from chatbot.settings import Settings

    settings = Settings.from_env(index_dir=index, corpus=corpus or None, model=model)
    return Bot.load(settings, progress=lambda _: None).ask


def tutorial(index: Path) -> Callable[[str], object]:
    """The tutorial baseline's top-5 search (all it does per question)."""
    from .tutorial import TutorialIndex

    found = TutorialIndex.load(index)
    return lambda question: found.search(question, 5)


def measure(answer: Callable[[str], object], questions: list[str]) -> list[float]:
    """Seconds per question, after the warm-up."""
    for question in WARM_UP:
        answer(question)
    seconds = []
    for question in questions:
        t0 = time.perf_counter()
        answer(question)
        seconds.append(time.perf_counter() - t0)
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.inprocess", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("system", choices=("product", "tutorial"), help="what to measure")
    p.add_argument("questions", type=Path, help='JSONL file, one {"question": ...} a line')
    p.add_argument("--index", type=Path, required=True, help="a built index of that system")
    p.add_argument("--corpus", type=Path, nargs="+", default=(), help="the product's corpus (default: the repository's)")
    p.add_argument("--model", default="default", help="the product's embedder (default: default)")
    args = p.parse_args(argv)
    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    answer = product(args.index, tuple(args.corpus), args.model) if args.system == "product" else tutorial(args.index)
    load_s = time.perf_counter() - t0
    print(json.dumps({"load_s": round(load_s, 3), "seconds": measure(answer, questions)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
