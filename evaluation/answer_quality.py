"""Does the answer the patient reads contain the evidence? Per slice, for the full bot and for
the simplest alternative (quote the best passage whole), beside retrieval's hit@5.

    python -m evaluation.answer_quality [--set questions,heldout,independent] [--show-misses]

A labelled question names evidence spans (verbatim facts that answer it). The answer contains
the evidence when one of those spans appears in the quoted text of the answer (whitespace
collapsed). Abstaining counts as not containing it.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from chatbot.ingest.langid import detect
from chatbot.records import Answer

from .common import norm, is_relevant, load_set, slices

SETS = ("questions", "dev", "heldout", "independent")
ORDER = ("all", "mono-en", "mono-id", "cross", "short", "lay")


def quoted_text(answer: Answer) -> str:
    """Everything the answer quotes from its sources (no fixed texts)."""
    quotes = getattr(answer, "quotes", None)
    if quotes is not None:
        return "\n".join(" ".join((q.text, *q.items)) for q in quotes)
    return answer.text


def contains_evidence(answer: Answer, record: dict) -> bool:
    """True when a labelled evidence span is in what the answer quotes."""
    if answer.abstained:
        return False
    said = norm(quoted_text(answer))
    return any(norm(e) in said for e in record["evidence"])


def answer_slices(record: dict) -> list[str]:
    """The retrieval slices plus `lay` (typos, chat spelling, mixed languages, long stories)."""
    out = [s for s in slices(record) if s in ORDER]
    return out + (["lay"] if record.get("lay") else [])


@dataclass(frozen=True)
class SliceFigures:
    n: int
    hit5: float  # a relevant passage among the bot's five passages
    contains: float  # the answer quotes an evidence span
    whole_passage: float  # the best passage, quoted whole, holds an evidence span
    words: float = 0.0  # words the answer quotes, on average over the questions it answers
    whole_words: float = 0.0  # words of the best passage, on average


def measure_set(ask: Callable[[str], Answer], search: Callable[[str], list], records: list[dict]
                ) -> tuple[dict[str, SliceFigures], list[tuple[dict, Answer]]]:
    """Per-slice figures and every (record, answer) pair. `search` gives the retrieved passages
    (best first) whether or not the bot answers; the whole-passage alternative quotes the first."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    pairs = []
    for r in records:
        a, hits = ask(r["question"]), search(r["question"])
        pairs.append((r, a))
        hit5 = any(is_relevant(r, h.chunk.doc_id, h.chunk.text) for h in hits[:5])
        whole = bool(hits) and is_relevant(r, hits[0].chunk.doc_id, hits[0].chunk.text)
        words = len(quoted_text(a).split()) if not a.abstained else None
        whole_words = len(hits[0].chunk.text.split()) if hits else None
        for s in answer_slices(r):
            rows[s].append((hit5, contains_evidence(a, r), whole, words, whole_words))
    return {s: _figures(v) for s, v in rows.items()}, pairs


def _figures(rows: list[tuple]) -> SliceFigures:
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return SliceFigures(len(rows), *(mean([x[i] for x in rows]) for i in range(3)),
                        mean([x[3] for x in rows if x[3] is not None]), mean([x[4] for x in rows if x[4] is not None]))


def print_table(name: str, figures: dict[str, SliceFigures]) -> None:
    print(f"\n{name}")
    print(f"  {'slice':10} {'n':>4} {'hit@5':>6} {'answer':>7} {'words':>6} {'whole passage':>14} {'words':>6}")
    for s in ORDER:
        if s in figures:
            f = figures[s]
            print(f"  {s:10} {f.n:4d} {f.hit5:6.3f} {f.contains:7.3f} {f.words:6.0f} {f.whole_passage:14.3f} {f.whole_words:6.0f}")


def main() -> None:
    from chatbot.serve.engine import Bot

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default=",".join(SETS), help="comma-separated sets: " + ", ".join(SETS))
    parser.add_argument("--show-misses", action="store_true", help="print the questions whose answer lacks the evidence")
    args = parser.parse_args()
    bot = Bot.load(progress=lambda m: None)
    for name in args.set.split(","):
        search = lambda q: bot.retriever.search(q, detect(q).language, k=5)
        figures, pairs = measure_set(bot.ask, search, load_set(name))
        print_table(name, figures)
        if args.show_misses:
            for r, a in pairs:
                if not contains_evidence(a, r):
                    print(f"\n  MISS {r['id']} [{r['lang']}{' cross' if r['cross'] else ''}] {r['question']}\n    want: {r['evidence'][0]}")
                    print("    got:  " + " | ".join(line for line in a.text.split("\n") if line.startswith(("•", "   –"))))


if __name__ == "__main__":
    main()
