"""Answer quality on the labelled sets, in one command: abstention, danger signs, reply
language, and grounding (every non-fixed line of every answer is verbatim in a cited passage).

    python -m evaluation.answers [--examples]
"""

from __future__ import annotations

import argparse
import re
import time

from chatbot.serve.engine import Bot
from chatbot.answer.render import quote_lines
from chatbot.records import Answer
from chatbot.answer.texts import fixed_phrases

from .common import load_set
from .metrics import precision_recall

EXAMPLES = {
    "en": ["How is CMV transmitted?", "Who is most at risk of anemia or low platelets from CMV?",
           "What dose of ganciclovir is used for recurrent CMV?", "Is a Coombs test needed when anemia keeps coming back with CMV?",
           "How do I fix a cracked phone screen?", "My newborn is 10 days old and has a fever of 38.5 and won't feed"],
    "id": ["Berapa dosis ganciclovir untuk infeksi CMV berulang?", "Kapan pasien anemia perlu transfusi darah?",
           "Apakah ada vaksin untuk CMV?", "Apa saja faktor risiko NEC pada bayi prematur?",
           "Bagaimana cara membuat rendang yang empuk?", "Anak saya sesak napas dan bibirnya biru"],
}


def _fixed_patterns() -> list[re.Pattern]:
    out = []
    for phrase in fixed_phrases():
        parts = re.split(r"\{[^}]*\}", phrase)
        out.append(re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$"))
    return out


def grounding_violations(answer: Answer, patterns: list[re.Pattern] | None = None) -> list[str]:
    """Quotes (and list items) that are not verbatim in the passage they cite, and lines of the
    rendered answer that are neither fixed phrases nor those quotes. A quote shown in a reviewed
    translation must be verbatim in that translation (and the original it stands for verbatim in
    the passage); a translation with no text, or in the passage's own language, is a violation."""
    patterns = patterns or _fixed_patterns()
    bad = []
    for q in answer.quotes:
        source = answer.hits[q.n].chunk.text if 0 <= q.n < len(answer.hits) else None
        if q.translation is None:
            bad += [t for t in (q.text, *q.items) if source is None or t not in source]
            continue
        translated = q.translation.text if q.translation.text.strip() and q.translation.language != q.language else None
        bad += [t for t in (q.original, *q.original_items) if source is None or not t or t not in source]
        bad += [t for t in (q.text, *q.items) if translated is None or not t or t not in translated]
    quoted = {line for q in answer.quotes for line in quote_lines(q)}
    bad += [line for line in answer.text.split("\n")
            if line.strip() and line not in quoted and not any(p.match(line) for p in patterns)]
    return bad


IN_SCOPE = ("questions", "dev", "heldout", "independent")
OFF_TOPIC = ("offtopic", "offtopic_seeds")  # offtopic: used while choosing the abstention defaults; offtopic_seeds: only measured
URGENT_APART = {"urgent_blind": "only measured", "urgent_fresh": "read after its first measurement",
                "urgent_immuno": "only measured"}  # written blind by helpers


def measure(bot: Bot) -> dict:
    """All figures of this report, as a dict."""
    patterns = _fixed_patterns()
    names = IN_SCOPE + OFF_TOPIC + ("urgent", *URGENT_APART)
    sets = {name: load_set(name) for name in names}
    answers = {name: [bot.ask(r["question"]) for r in recs] for name, recs in sets.items()}
    urgent_truth = [r["urgent"] for r in sets["urgent"]] + [False] * len(sets["questions"])
    urgent_precision, urgent_recall = precision_recall(urgent_truth, [a.urgent for a in answers["urgent"] + answers["questions"]])
    apart = {name: precision_recall([r["urgent"] for r in sets[name]], [a.urgent for a in answers[name]]) for name in URGENT_APART}
    declined = {name: [a.abstained for a in answers[name]] for name in sets}
    everything = [(r, a) for name in sets for r, a in zip(sets[name], answers[name])]
    figures = {f"in-scope declined ({name})": _rate(declined[name]) for name in IN_SCOPE}
    for name in OFF_TOPIC:
        for lang in ("en", "id"):
            figures[f"off-topic declined ({name}, {lang})"] = _rate([d for r, d in zip(sets[name], declined[name]) if r["lang"] == lang])
    precision, recall = _abstention(declined["offtopic_seeds"], declined["independent"])
    return figures | {
        "abstention precision (offtopic_seeds vs independent)": precision,
        "abstention recall (offtopic_seeds)": recall,
        "urgent precision": urgent_precision,
        "urgent recall": urgent_recall,
        **{f"urgent {what} ({name}, {URGENT_APART[name]})": pr[k] for name, pr in apart.items() for k, what in enumerate(("precision", "recall"))},
        "reply language right": _rate([a.language == r["lang"] for r, a in everything]),
        "answers checked for grounding": len(everything),
        "answers with an ungrounded line": sum(bool(grounding_violations(a, patterns)) for _, a in everything),
    }


def _abstention(off_topic: list[bool], in_scope: list[bool]) -> tuple[float, float]:
    """Precision and recall of declining: off-topic questions should be declined, in-scope ones not."""
    return precision_recall([True] * len(off_topic) + [False] * len(in_scope), off_topic + in_scope)


def _rate(flags: list[bool]) -> float:
    return sum(flags) / max(1, len(flags))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", action="store_true", help="also print twelve example answers verbatim")
    args = parser.parse_args()
    bot = Bot.load(progress=lambda m: None)
    t0 = time.perf_counter()
    for key, value in measure(bot).items():
        print(f"{key:36} {value:.3f}" if isinstance(value, float) else f"{key:36} {value}")
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.examples:
        for lang, questions in EXAMPLES.items():
            for q in questions:
                a = bot.ask(q)
                print(f"\n--- [{lang}] {q}  (language={a.language}, abstained={a.abstained}, urgent={a.urgent})\n{a.text}")


if __name__ == "__main__":
    main()
