"""MedQuAD as a benchmark: its answers become a corpus in the product's JSONL format, a fixed
random sample of its questions the queries, each judged by whether its own answer comes back.

The data stays outside the repository (shared/data/medquad/); the corpus is written to the
gitignored evaluation/.cache/. Only the answer is indexed: `title` is the record's focus (the
topic), never its question.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .common import CACHE, HERE

DATA = HERE.parent.parent / "shared" / "data" / "medquad" / "medquad.jsonl.gz"
SEED = 13  # the benchmark's questions
DEV_SEED = 7  # the development sample's: tuning uses these, never the benchmark's
ATTRIBUTION = ("MedQuAD: Asma Ben Abacha and Dina Demner-Fushman, \"A Question-Entailment Approach to Question "
               "Answering\", BMC Bioinformatics 20:511 (2019); https://github.com/abachaa/MedQuAD. "
               "Licence: Creative Commons Attribution 4.0 International (CC BY 4.0). Used here unchanged "
               "except that answers are indexed without their questions.")


@dataclass(frozen=True)
class Sample:
    """A MedQuAD corpus file and the questions asked of it."""

    corpus: Path
    questions: tuple[dict, ...]  # {"id", "question", "doc_ids"}: doc_ids are the records that count as its answer
    documents: int
    records: int  # records in the data file
    renamed_ids: int  # records whose id repeats an earlier one's, renamed ID-2, ID-3, ... as `chatbot import` does
    same_answer: int  # sampled questions with another record of the corpus holding the identical answer text
    same_question: int  # sampled questions asked word for word by another record of the corpus


def load_records(path: Path = DATA) -> list[dict]:
    """All records, in file order, with ids made unique (a few ids repeat with different answers)."""
    if not path.exists():
        raise FileNotFoundError(f"MedQuAD data not found at {path}: pass --medquad-data or --skip-medquad")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    seen: dict[str, int] = defaultdict(int)
    for rec in records:
        seen[rec["id"]] += 1
        if seen[rec["id"]] > 1:
            rec["id"], rec["renamed"] = f"{rec['id']}-{seen[rec['id']]}", True
    return records


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def sample(n_docs: int, n_questions: int, path: Path = DATA, seed: int = SEED, cache: Path = CACHE) -> Sample:
    """`n_questions` records drawn with a fixed seed, and a corpus of their answers plus other
    answers drawn with the same seed up to `n_docs` documents (0: every record), written to `cache`."""
    records = load_records(path)
    renamed = sum(r.get("renamed", False) for r in records)
    rng = random.Random(seed)
    n_questions = min(n_questions, len(records))
    n_docs = len(records) if n_docs <= 0 else min(n_docs, len(records))
    if n_docs < n_questions:
        raise ValueError(f"the MedQuAD corpus ({n_docs} answers) must hold at least the {n_questions} sampled questions' answers")
    asked = rng.sample(range(len(records)), n_questions)
    others = sorted(set(range(len(records))) - set(asked))
    chosen = sorted(set(asked) | set(rng.sample(others, n_docs - n_questions)))
    docs = [records[i] for i in chosen]
    by_answer, by_question = defaultdict(set), defaultdict(set)
    for r in docs:
        by_answer[norm(r["answer"])].add(r["id"])
        by_question[norm(r["question"])].add(r["id"])
    questions = []
    for i in asked:
        r = records[i]
        same_a, same_q = by_answer[norm(r["answer"])], by_question[norm(r["question"])]
        questions.append({"id": r["id"], "question": r["question"], "doc_ids": sorted(same_a | same_q),
                          "same_answer": len(same_a) > 1, "same_question": len(same_q) > 1})
    corpus = write_corpus(docs, cache / "medquad" / f"medquad-d{n_docs}-q{n_questions}-s{seed}.jsonl")
    return Sample(corpus, tuple(questions), len(docs), len(records), renamed,
                  sum(q["same_answer"] for q in questions), sum(q["same_question"] for q in questions))


def write_corpus(records: list[dict], path: Path) -> Path:
    """The records as a product-format JSONL corpus (rewritten only when its content changes)."""
    lines = "".join(json.dumps({"id": r["id"], "title": r["focus"], "text": r["answer"], "url": r["url"],
                                "source": r["source"], "language": "en"}, ensure_ascii=False) + "\n" for r in records)
    if not path.exists() or path.read_text(encoding="utf-8") != lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(lines, encoding="utf-8")
        tmp.replace(path)
    return path


def dev_questions(n: int, benchmark_questions: int = 1000, path: Path = DATA) -> list[dict]:
    """A development sample of `n` questions for tuning, drawn with its own seed from the records
    the benchmark (`sample(0, benchmark_questions)`) does not ask. Judged like the benchmark's."""
    records = load_records(path)
    asked = set(random.Random(SEED).sample(range(len(records)), min(benchmark_questions, len(records))))
    pool = [i for i in range(len(records)) if i not in asked]
    by_answer, by_question = defaultdict(set), defaultdict(set)
    for r in records:
        by_answer[norm(r["answer"])].add(r["id"])
        by_question[norm(r["question"])].add(r["id"])
    out = []
    for i in random.Random(DEV_SEED).sample(pool, min(n, len(pool))):
        r = records[i]
        out.append({"id": r["id"], "question": r["question"],
                    "doc_ids": sorted(by_answer[norm(r["answer"])] | by_question[norm(r["question"])])})
    return out
