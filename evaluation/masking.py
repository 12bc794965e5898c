"""How well chatbot/store/privacy.py masks personal details, on sentences with labelled spans.

    python -m evaluation.masking [--cases tests/data/masking_cases.jsonl] [--show]

Each case: {"id", "lang", "text", "pii": [{"type", "span"}], "keep": [span, ...]}. A personal
detail counts as masked when every character of every occurrence of its span lies inside a
masked finding. Prints recall (masked / all personal details) and false masks (kept spans
damaged / all kept spans; sentences without personal details that were changed at all), per
language and per type. --show lists every miss and every false mask.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.store.privacy import find, mask

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "masking_cases.jsonl"
KINDS = {"name": "NAME", "phone": "PHONE", "email": "EMAIL", "dob": "DOB", "mrn": "MRN", "address": "ADDRESS",
         "id_number": "ID", "nik": "NIK"}


@dataclass
class Tally:
    """Counts per group (a language, a type, or "all")."""

    pii: Counter = field(default_factory=Counter)
    masked: Counter = field(default_factory=Counter)
    right_kind: Counter = field(default_factory=Counter)
    keep: Counter = field(default_factory=Counter)
    damaged: Counter = field(default_factory=Counter)
    clean: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)
    misses: list = field(default_factory=list)
    false_masks: list = field(default_factory=list)


def occurrences(text: str, span: str) -> list[tuple[int, int]]:
    found, start = [], text.find(span)
    while span and start >= 0:
        found.append((start, start + len(span)))
        start = text.find(span, start + 1)
    return found


def covered(findings, start: int, end: int, text: str) -> bool:
    """Every visible character of text[start:end] lies inside a finding."""
    return all(text[i].isspace() or any(f.start <= i < f.end for f in findings) for i in range(start, end))


def touched(findings, start: int, end: int) -> bool:
    return any(f.start < end and start < f.end for f in findings)


def score(cases: list[dict]) -> Tally:
    t = Tally()
    for case in cases:
        text, lang, findings = case["text"], case["lang"], find(case["text"])
        for item in case.get("pii", []):
            spans = occurrences(text, item["span"])
            groups = ("all", lang, item["type"])
            ok = bool(spans) and all(covered(findings, s, e, text) for s, e in spans)
            kind_ok = ok and all(any(f.kind == KINDS.get(item["type"]) and touched([f], s, e) for f in findings) for s, e in spans)
            for g in groups:
                t.pii[g] += 1
                t.masked[g] += ok
                t.right_kind[g] += kind_ok
            if not ok:
                t.misses.append((case["id"], item["type"], item["span"], mask(text)))
        for span in case.get("keep", []):
            spans = occurrences(text, span)
            bad = not spans or any(touched(findings, s, e) for s, e in spans)
            for g in ("all", lang):
                t.keep[g] += 1
                t.damaged[g] += bad
            if bad:
                t.false_masks.append((case["id"], span, mask(text)))
        if not case.get("pii"):
            changed = mask(text) != text
            for g in ("all", lang):
                t.clean[g] += 1
                t.changed[g] += changed
            if changed:
                t.false_masks.append((case["id"], "(no personal details)", mask(text)))
    return t


def ratio(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.2f}" if b else "-"


def report(t: Tally, show: bool) -> None:
    langs = sorted(g for g in t.keep if g != "all")
    types = sorted(g for g in t.pii if g not in ("all", *langs))
    print(f"{'group':<12} {'recall (masked / personal details)':<36} {'masked as its own kind':<24}")
    for g in ["all", *langs, *types]:
        print(f"{g:<12} {ratio(t.masked[g], t.pii[g]):<36} {ratio(t.right_kind[g], t.pii[g]):<24}")
    print(f"\n{'group':<12} {'false masks: kept spans damaged':<36} {'sentences without personal details changed'}")
    for g in ["all", *langs]:
        print(f"{g:<12} {ratio(t.damaged[g], t.keep[g]):<36} {ratio(t.changed[g], t.clean[g])}")
    if show:
        print("\nmissed:")
        for case_id, kind, span, masked in t.misses:
            print(f"  {case_id} {kind}: {span!r}\n      -> {masked}")
        print("\nfalse masks:")
        for case_id, span, masked in t.false_masks:
            print(f"  {case_id} {span!r}\n      -> {masked}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Masking recall and false masks of chatbot/store/privacy.py on labelled sentences.")
    p.add_argument("--cases", type=Path, default=CASES, help=f"JSONL cases (default {CASES.relative_to(CASES.parents[2])})")
    p.add_argument("--show", action="store_true", help="list every missed detail and every false mask")
    args = p.parse_args(argv)
    cases = [json.loads(line) for line in args.cases.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"{len(cases)} sentences from {args.cases}")
    report(score(cases), args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
