"""How fast the staff gaps list stays with a year of questions in the store.

    python -m evaluation.store_bench [--per-day 500] [--days 365] [--database-url URL]

Fills a temporary database (SQLite, or a PostgreSQL URL: its tables must be empty or absent)
with --per-day questions a day for --days days (15% unanswered) and one thumbs-down per 20
questions, then times the gaps pages staff open: the first page, a deep page, filtered pages
and the retention purge. Prints milliseconds (median of 5); no assertion.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from chatbot.settings import Settings
from chatbot.store import open_store


def fill(store, per_day: int, days: int) -> int:
    """Insert the synthetic year in batches; returns the number of rows written."""
    from chatbot.store.schema import feedback, questions

    rng, start, rows = random.Random(0), datetime(2025, 1, 1), 0
    for day in range(days):
        q, f = [], []
        for n in range(per_day):
            at = start + timedelta(days=day, seconds=n * 86400 // per_day)
            language = "id" if n % 2 else "en"
            q.append({"created_at": at, "question": f"question {day}-{n} about CMV and anaemia", "language": language,
                      "abstained": rng.random() < 0.15, "urgent": False})
            if n % 20 == 0:
                f.append({"created_at": at, "liked": False, "reason": rng.choice(["not_answered", "wrong_language", None]),
                          "comment": None, "question": f"question {day}-{n}", "language": language,
                          "chunk_ids": json.dumps(["doc#0001"]), "answer": "answer [1]"})
        with store.db.write() as conn:
            conn.execute(questions.insert(), q)
            conn.execute(feedback.insert(), f)
        rows += len(q) + len(f)
    return rows


def timed(fn, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Time the staff gaps list over a year of synthetic questions (prints ms).")
    p.add_argument("--per-day", type=int, default=500, help="questions a day (default 500)")
    p.add_argument("--days", type=int, default=365, help="days of questions (default 365)")
    p.add_argument("--database-url", default="", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings.from_env(env={}, data_dir=Path(tmp), database_url=args.database_url,
                                             retention_days=3650))
        started = time.perf_counter()
        rows = fill(store, args.per_day, args.days)
        print(f"{store.db.dialect}: {rows} rows written in {time.perf_counter() - started:.1f} s; {store.feedback.counts()}")
        gaps = store.feedback.gaps
        for label, call in [("first page (25)", lambda: gaps(page_size=25)),
                            ("page 40 (25)", lambda: gaps(page=40, page_size=25)),
                            ("page 400 (25)", lambda: gaps(page=400, page_size=25)),
                            ("language=id, first page", lambda: gaps(language="id", page_size=25)),
                            ("reason=wrong_language, first page", lambda: gaps(reason="wrong_language", page_size=25)),
                            ("reason=abstained, language=en, page 10", lambda: gaps(reason="abstained", language="en", page=10, page_size=25))]:
            print(f"  {label:<42} {timed(call):8.1f} ms")
        cutoff = datetime(2025, 1, 1) + timedelta(days=args.days - 90)
        started = time.perf_counter()
        deleted = store.feedback.purge(cutoff, "bench")
        print(f"  retention purge of {sum(deleted.values())} rows  {(time.perf_counter() - started) * 1000:8.1f} ms")
        if args.database_url:  # leave the server's database as it was
            from chatbot.store.schema import metadata

            metadata.drop_all(store.db.engine)
            with store.db.write() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
