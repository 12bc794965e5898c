"""Report sections on what the patient reads: the answer contains the evidence (per slice), the
seeds inside MedQuAD, MedQuAD as the public writes it, and the first quoted sentence on MedQuAD."""

from __future__ import annotations

SETS = {"independent": "Independent set (94 questions written by a helper who saw only the documents; never tuned on)",
        "heldout": "Held-out set (60; only measured, but read by earlier sessions)",
        "dev": "Development set (95; tuned on)",
        "tuning": "Tuning set (101; tuned on)", "questions": "Tuning set (101; tuned on)"}
SLICES = (("all", "all"), ("mono-en", "English"), ("mono-id", "Indonesian"), ("cross", "cross-lingual"),
          ("short", "short"), ("lay", "lay"), ("id->id", "Indonesian question, Indonesian document"))


def _f(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def answers(r: dict) -> str:
    """Answer contains the evidence, per slice, beside the whole best passage and the tutorial's window."""
    if not r.get("answers"):
        return ""
    parts = ["## What the patient reads: does the answer contain the evidence?\n\n"
             "A labelled question names evidence spans. The bot's answer contains the evidence when one of them is in "
             "what it quotes (whitespace, case and curly apostrophes ignored); a declined question counts as a miss. "
             "The simplest alternatives quote a whole passage: our best passage, or the tutorial's best 1,000-character "
             "window (its hit@1). Words: the mean number of words quoted.\n"]
    for name, by_slice in r["answers"].items():
        tutorial = (r.get("labelled") or {}).get(name, {}).get("tutorial", {})
        rows = []
        for s, label in SLICES:
            f = by_slice.get(s)
            if f:
                rows.append([f"{label} (n={f['n']})", _f(f["hit5"]), f"**{_f(f['contains'])}**", _f(f.get("words"), 0),
                             _f(f["whole_passage"]), _f(f.get("whole_words"), 0), _f((tutorial.get(s) or {}).get("hit1"))])
        parts.append(f"### {SETS.get(name, name)}\n\n" + _table(
            ["slice", "hit@5", "answer contains evidence", "words", "best passage whole", "words", "tutorial window"], rows))
    return "\n".join(parts)


def mixed(r: dict) -> str:
    """Seed-only beside seeds + MedQuAD, per slice."""
    m = r.get("mixed")
    if not m:
        return ""
    seeds, big = m["indexes"]["seeds"], m["indexes"]["mixed"]
    parts = [f"## Seeds inside MedQuAD\n\nThe same questions over the seeds alone ({seeds['passages']} passages) and over the "
             f"seeds plus all MedQuAD answers imported as a clinic would ({big['passages']:,} passages; embedders "
             f"{', '.join(big['embedders'])}). Each cell: hit@5 / answer contains the evidence / declined; tutorial: hit@5 / "
             "its best window holds the evidence.\n"]
    for name in m["sets"]:
        rows = []
        for s, label in SLICES:
            a, b = seeds["labelled"][name].get(s), big["labelled"][name].get(s)
            if not a:
                continue
            ta = (seeds.get("tutorial") or {}).get(name, {}).get(s)
            tb = (big.get("tutorial") or {}).get(name, {}).get(s)
            cell = lambda f: f"{_f(f['hit5'])} / {_f(f['contains'])} / {_f(f['declined'])}" if f else "–"  # noqa: E731
            tcell = lambda f: f"{_f(f['hit5'])} / {_f(f['contains'])}" if f else "–"  # noqa: E731
            rows.append([f"{label} (n={a['n']})", cell(a), cell(b), tcell(ta), tcell(tb)])
        parts.append(f"### {SETS.get(name, name)}\n\n" + _table(
            ["slice", "bot, seeds", "bot, seeds + MedQuAD", "tutorial, seeds", "tutorial, seeds + MedQuAD"], rows))
    parts.append(_table(["declined", "seeds", "seeds + MedQuAD"], [
        ["off-topic questions written for the index (offtopic_seeds / offtopic_mixed)", _f(seeds["off-topic declined"]), _f(big["off-topic declined"])],
        ["health questions only MedQuAD covers (inscope_mixed)", _f(seeds["health questions only the mixed index covers, declined"]),
         _f(big["health questions only the mixed index covers, declined"])]]))
    return "\n".join(parts)


def consumer(r: dict) -> str:
    c = r.get("consumer")
    if not c:
        return ""
    parts = ["## MedQuAD as the public writes it\n\n340 MedQuAD questions rewritten by a helper as patients write to a "
             "clinic (context first, lay words, typos); the index holds the seeds and every MedQuAD answer with its stored "
             "question as title. A hit is the question's own record; the last two columns also count a record that MedQuAD "
             "asks the same question of (another source). The dev half was used for tuning; the test half only measured.\n"]
    for split, by_system in c["retrieval"].items():
        same = c.get("same_question", {}).get(split, {})
        rows = [[f"**{k}**", _f(v["hit1"]), _f(v["hit5"]), _f(v["hit10"]), _f(v["mrr10"]),
                 _f(same[k]["hit1"]) if k in same else "–", _f(same[k]["mrr10"]) if k in same else "–"] for k, v in by_system.items()]
        parts.append(f"### {split} half ({c['questions'][split]} questions)\n\n" + _table(
            ["system", "hit@1", "hit@5", "hit@10", "MRR@10", "same question hit@1", "same question MRR@10"], rows))
        b = c.get("bot", {}).get(split)
        if b:
            same_first = f" (a record with the same question: {_f(b['first_quote_same_question'])})" if "first_quote_same_question" in b else ""
            parts.append(f"The bot's first quoted sentence comes from the own record for {_f(b['first_quote_own_record'])} of "
                         f"the questions{same_first}; it declines {_f(b['declined'])}.\n")
    return "\n".join(parts)


def medquad_answers(r: dict) -> str:
    a = (r.get("medquad") or {}).get("answers")
    if not a:
        return ""
    return ("### What the patient reads on MedQuAD\n\nThe full bot answers every sampled question: its first quoted sentence "
            f"comes from the question's own record for {_f(a['first_quote_own_record'])} of them (from a record with the same "
            f"answer or question: {_f(a['first_quote_lenient'])}); it declines {_f(a['declined'])}.\n")
