"""Ranking and yes/no metrics with binary relevance, and latency percentiles.

A ranking is judged by a list of booleans: element i says whether the passage at rank i + 1
is relevant. `n_relevant` is how many relevant passages the whole index holds for the
question; it sets the ideal ranking of nDCG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .bench_chat import percentile


def first_rank(relevant: Sequence[bool], k: int = 10) -> int | None:
    """1-based rank of the first relevant passage within the top k, or None."""
    return next((i for i, rel in enumerate(relevant[:k], 1) if rel), None)


def hit_at(relevant: Sequence[bool], k: int) -> float:
    """1.0 when a relevant passage is in the top k."""
    return 1.0 if first_rank(relevant, k) else 0.0


def reciprocal_rank(relevant: Sequence[bool], k: int = 10) -> float:
    """1 / rank of the first relevant passage within the top k (0 when there is none)."""
    rank = first_rank(relevant, k)
    return 1.0 / rank if rank else 0.0


def ndcg(relevant: Sequence[bool], n_relevant: int, k: int = 10) -> float:
    """Binary nDCG@k: DCG of the ranking over the DCG of `n_relevant` relevant passages on top."""
    dcg = sum(1.0 / math.log2(i + 1) for i, rel in enumerate(relevant[:k], 1) if rel)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(max(n_relevant, 0), k) + 1))
    return min(1.0, dcg / ideal) if ideal else 0.0


def precision_recall(truth: Sequence[bool], said: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of `said` against `truth` (positive class: True); 0 when undefined."""
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    return tp / max(1, sum(said)), tp / max(1, sum(truth))


@dataclass(frozen=True)
class RankScores:
    """Mean ranking metrics over `n` questions."""

    n: int
    hit1: float
    hit5: float
    hit10: float
    mrr10: float
    ndcg10: float


def summarise(rankings: Sequence[Sequence[bool]], n_relevant: Sequence[int]) -> RankScores:
    """Mean hit@1/5/10, MRR@10 and nDCG@10 over questions (rankings of at least 10 passages)."""
    n = len(rankings)
    if n == 0:
        return RankScores(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    mean = lambda values: sum(values) / n  # noqa: E731
    return RankScores(
        n=n,
        hit1=mean([hit_at(r, 1) for r in rankings]),
        hit5=mean([hit_at(r, 5) for r in rankings]),
        hit10=mean([hit_at(r, 10) for r in rankings]),
        mrr10=mean([reciprocal_rank(r, 10) for r in rankings]),
        ndcg10=mean([ndcg(r, m, 10) for r, m in zip(rankings, n_relevant, strict=True)]),
    )


@dataclass(frozen=True)
class Latency:
    """Percentiles of per-call times, in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


def latency(seconds: Sequence[float]) -> Latency | None:
    """p50 / p95 / mean of call times given in seconds (None when there are none)."""
    if not seconds:
        return None
    ms = [s * 1000 for s in seconds]
    return Latency(len(ms), round(percentile(ms, 50), 1), round(percentile(ms, 95), 1), round(sum(ms) / len(ms), 1))
