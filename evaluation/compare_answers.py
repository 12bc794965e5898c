"""The same answer measure on two checkouts: does the answer contain the evidence, hit@5 over the
bot's five passages and words quoted, per slice, on every labelled set (issue 12's before/after).

    python -m evaluation.compare_answers OLD_CHECKOUT NEW_CHECKOUT [--out DIR]

Each checkout (e.g. `git worktree add /tmp/old af4725c`) answers in a child process with its own
`chatbot` package, over its own `corpus/` and a fresh default index; the labelled sets and the
measure (evidence span in the quoted text, whitespace, case and curly apostrophes ignored) come
from this checkout, so both sides are measured alike. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .answer_quality import ORDER, answer_slices

HERE = Path(__file__).resolve().parent
SETS = ("independent", "heldout", "dev", "questions")

# Runs inside the checkout being measured: only its `chatbot` package is imported.
CHILD = r"""
import json, re, sys
from pathlib import Path
root, out, sets = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
sys.path.insert(0, str(root))
from chatbot.index.build import build
from chatbot.serve.engine import Bot
from chatbot.settings import Settings
def norm(t): return re.sub(r"\s+", " ", t).strip().casefold().replace("\u2019", "'")
def quoted(a):
    qs = getattr(a, "quotes", None)
    return "\n".join(" ".join((q.text, *getattr(q, "items", ()))) for q in qs) if qs is not None else a.text
settings = Settings.from_env(env={}, index_dir=out / "index", corpus=(root / "corpus",))
build(settings, progress=lambda m: None)
bot = Bot.load(settings, progress=lambda m: None)
res = {}
for name, records in sets.items():
    rows = []
    for r in records:
        a = bot.ask(r["question"])
        said = "" if a.abstained else norm(quoted(a))
        rows.append({"id": r["id"], "contains": any(norm(e) in said for e in r["evidence"]), "abstained": a.abstained,
                     "hit5": any(h.chunk.doc_id == r["doc_id"] and any(norm(e) in norm(h.chunk.text) for e in r["evidence"])
                                 for h in a.hits[:5]),
                     "words": len(said.split()), "answer": a.text})
    res[name] = rows
(out / "answers.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
"""


def answers(checkout: Path, out: Path, sets: dict) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", CHILD, str(checkout), str(out), json.dumps(sets)], check=True)
    return json.loads((out / "answers.json").read_text(encoding="utf-8"))


def table(sets: dict, old: dict, new: dict) -> str:
    lines = ["| set | slice | n | answer contains evidence: old → new | hit@5: old → new | words quoted: old → new |",
             "|---|---|---|---|---|---|"]
    for name, records in sets.items():
        for s in ORDER:
            rows = [(o, n) for r, o, n in zip(records, old[name], new[name]) if s in answer_slices(r)]
            if not rows:
                continue
            share = lambda side, key: sum(x[side][key] for x in rows) / len(rows)  # noqa: E731
            words = lambda side: (sum(x[side]["words"] for x in rows if not x[side]["abstained"])  # noqa: E731
                                  / max(1, sum(not x[side]["abstained"] for x in rows)))
            lines.append(f"| {name} | {s} | {len(rows)} | {share(0, 'contains'):.3f} → **{share(1, 'contains'):.3f}** | "
                         f"{share(0, 'hit5'):.3f} → {share(1, 'hit5'):.3f} | {words(0):.0f} → {words(1):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--out", type=Path, help="keep the answers here (default: a temporary folder)")
    args = parser.parse_args()
    sets = {name: [json.loads(line) for line in open(HERE / f"{name}.jsonl", encoding="utf-8")] for name in SETS}
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        print(table(sets, answers(args.old.resolve(), out / "old", sets), answers(args.new.resolve(), out / "new", sets)))


if __name__ == "__main__":
    main()
