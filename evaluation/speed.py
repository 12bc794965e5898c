"""Speed and cost in fresh processes: index build, cold start, warm batch latency, peak RSS, index size.

Every figure comes from its own child process (`chatbot build`, `chatbot ask`, or the tutorial's
equivalents in evaluation/tutorial.py), started through evaluation.peak_rss so that its peak RSS is its own.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from chatbot.index.build import cache_dir
from chatbot.settings import Settings

from .bench_cli import CHATBOT, batch_latencies, run
from .load_test import env_for
from .metrics import Latency, latency
from .tutorial import MODEL_ID, corpus_fingerprint, is_current

TUTORIAL = [sys.executable, "-m", "evaluation.tutorial"]


@dataclass(frozen=True)
class BuildFigures:
    """One index build. `seconds` covers chunking, embedding and writing, as the index records it;
    `wall_seconds` the whole build process (start, model loading, cleaning); None when reused."""

    model: str  # the embedders the index was built with
    seconds: float
    passages: int
    passages_per_s: float
    index_mib: float
    wall_seconds: float | None
    peak_rss_mib: float | None
    reused: bool


@dataclass(frozen=True)
class ProcessFigures:
    """A fresh process answering one question (cold), and a batch of questions in one process (warm)."""

    cold_seconds: float
    cold_rss_mib: float
    batch: Latency
    batch_rss_mib: float


def _size_mib(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20, 2)


def _figures(folder: Path, model: str, seconds: float, passages: int, wall: float | None, rss: float | None) -> BuildFigures:
    return BuildFigures(model=model, seconds=round(seconds, 2), passages=passages, passages_per_s=round(passages / max(seconds, 1e-9), 1),
                        index_mib=_size_mib(folder), wall_seconds=None if wall is None else round(wall, 2),
                        peak_rss_mib=None if rss is None else round(rss, 1), reused=wall is None)


def build_product(model: str, corpus: tuple[Path, ...], index: Path, env: dict[str, str], reuse: bool) -> BuildFigures:
    """`chatbot build` of the corpus into `index`: from scratch with an empty embedding cache, or
    with `reuse` an up-to-date index stays as it is (its figures are those of the earlier build)."""
    args = ["build", "--index", str(index), "--model", model, "--corpus", *map(str, corpus)]
    if not reuse:
        shutil.rmtree(cache_dir(Settings(index_dir=index)), ignore_errors=True)  # a cold build embeds everything
        args.append("--force")
    wall, rss, out = run(args, env=env)
    if "already up to date" in out:
        wall = rss = None
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    built = manifest.get("model") or "+".join(e["id"] for e in manifest["embedders"])
    return _figures(index, built, manifest["build_seconds"], manifest["counts"]["chunks"], wall, rss)


def build_tutorial(corpus: tuple[Path, ...], index: Path, env: dict[str, str], reuse: bool) -> BuildFigures:
    """`python -m evaluation.tutorial build` (skipped when `reuse` and the index is current)."""
    wall = rss = None
    if not (reuse and is_current(index, corpus_fingerprint(corpus)[1])):
        wall, rss, _ = run(["build", "--index", str(index), "--corpus", *map(str, corpus)], command=TUTORIAL, env=env)
    meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
    return _figures(index, MODEL_ID, meta["build_seconds"], meta["passages"], wall, rss)


def process_figures(tutorial: bool, index: Path, corpus: tuple[Path, ...], questions: list[str],
                    env: dict[str, str]) -> ProcessFigures:
    """Cold start (one question in a fresh process) and warm per-question latency over a batch."""
    if tutorial:
        cold_s, cold_rss, _ = run(["search", questions[0], "--index", str(index)], command=TUTORIAL, env=env)
        gaps, _, batch_rss = batch_latencies(index, questions, command=TUTORIAL + ["search"], env=env)
    else:
        extra = ["--corpus", *map(str, corpus), "--model", "default"]
        cold_s, cold_rss, _ = run(["ask", questions[0], "--json", "--index", str(index), *extra], env=env)
        gaps, _, batch_rss = batch_latencies(index, questions, command=CHATBOT + ["ask", "--json"], extra=extra, env=env)
    return ProcessFigures(round(cold_s, 2), round(cold_rss, 1), latency(gaps), round(batch_rss, 1))


def child_env(cache: Path) -> dict[str, str]:
    """The environment of every child: no CHATBOT_* settings from the shell, offline, logs in the cache."""
    return env_for(cache / "cli-data")
