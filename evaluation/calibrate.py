"""Abstention on one index: how many in-scope and off-topic questions the bot declines, over a
grid of the two settings that decide it (CHATBOT_ABSTAIN_Z, CHATBOT_ABSTAIN_TOPIC; see
chatbot/serve/engine.py and chatbot/index/calibrate.py).

The index calibrates itself when it is built (the shipped off-topic questions). This script is
for choosing the defaults: it tunes on the development sets (in scope: questions, dev; off topic:
offtopic.jsonl, written with the first version); the off-topic sets that the report quotes
(offtopic_seeds.jsonl, offtopic_mixed.jsonl) were written apart and are not used here.

    python -m evaluation.calibrate [--index seeds|mixed]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from chatbot.answer.choose import choose
from chatbot.answer.topic import coverage
from chatbot.ingest.langid import detect
from chatbot.serve.engine import MENTIONED, VERY_NEAR, clean_question

from .common import load_set

IN_SCOPE = ("questions", "dev")
OFF_TOPIC = ("offtopic",)


def signals(bot, name: str) -> list[tuple[float, float, bool]]:
    """(closeness to the passages, share of the question's content the quotes mention, quotes
    found) for every question of a set."""
    out = []
    for r in load_set(name):
        q = clean_question(r["question"])
        lang = detect(q).language
        qv, views = bot.retriever.query_vectors(q), bot.retriever.views(q, lang)
        hits = bot.retriever.search(q, lang, k=5, qvecs=qv, views=views)
        picked = choose(q, lang, hits, bot.embedders, qv, views, bot.choose_settings, bot._sentences, bot.retriever.glossary)
        cited = [hits[n] for n in sorted({x.n for x in picked})]
        out.append((bot.relatedness(qv, lang), coverage(q, lang, cited, bot.retriever.glossary) if cited else 0.0, bool(picked)))
    return out


def declined(rows, near: float, topic: float) -> float:
    """Share declined under the engine's rule with these settings."""
    return float(np.mean([(z < min(0.0, near)) or not ok or (z < near and c < MENTIONED) or (topic > 0 and z < VERY_NEAR and c < topic)
                          for z, c, ok in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="seeds", choices=("seeds", "mixed"), help="which collection (see evaluation/mixed.py)")
    args = parser.parse_args()
    from .mixed import load_bot

    bot = load_bot(args.index)
    rows = {name: signals(bot, name) for name in IN_SCOPE + OFF_TOPIC}
    print(f"{'abstain_z':>9} {'topic':>5}  " + "  ".join(f"{n:>10}" for n in rows))
    for near, topic in itertools.product((1.5, 2.0, 2.5, 3.0), (0.2, 0.3, 0.4)):
        marker = "  <- current" if (near, topic) == (bot.settings.abstain_z, bot.settings.abstain_topic) else ""
        print(f"{near:9.1f} {topic:5.1f}  " + "  ".join(f"{declined(r, near, topic):10.3f}" for r in rows.values()) + marker)


if __name__ == "__main__":
    main()
