"""PNG charts of a results dict (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

SLICES = (("all", "all"), ("mono-en", "English"), ("mono-id", "Indonesian"), ("cross", "cross-lingual"), ("short", "short"))
CORPORA = {"seed": "seed corpus", "medquad": "MedQuAD corpus"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(ax, groups: list[str], series: dict[str, list[float | None]], ylabel: str, title: str) -> None:
    """Grouped bars: one group per label in `groups`, one bar per series (None: no bar)."""
    width = 0.8 / max(1, len(series))
    for n, (name, values) in enumerate(series.items()):
        xs = [i + (n - (len(series) - 1) / 2) * width for i in range(len(groups))]
        ax.bar([x for x, v in zip(xs, values) if v is not None], [v for v in values if v is not None], width, label=name)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)


def quality(results: dict, path: Path) -> Path:
    """hit@5 per slice and system, held-out and tuning sets side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    for ax, (name, title) in zip(axes, (("heldout", "held-out set (unbiased)"), ("tuning", "tuning set"))):
        by_system = results["labelled"][name]
        series = {key: [by_system[key].get(s, {}).get("hit5") for s, _ in SLICES] for key in by_system}
        _bars(ax, [label for _, label in SLICES], series, "hit@5", f"hit@5 per slice, {title}")
        ax.set_ylim(0, 1.05)
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path, plt)


def medquad(results: dict, path: Path) -> Path:
    """hit@1, hit@10 and MRR@10 per system on the MedQuAD sample."""
    plt = _pyplot()
    scores = results["medquad"]["scores"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    metrics = (("hit1", "hit@1"), ("hit10", "hit@10"), ("mrr10", "MRR@10"))
    series = {label: [scores[key]["lenient"][m] for key in scores] for m, label in metrics}
    _bars(ax, list(scores), series, "score", f"MedQuAD: question -> its own answer ({results['medquad']['info']['questions']} questions)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    return _save(fig, path, plt)


def speed(results: dict, path: Path) -> Path:
    """Index build time and p95 retrieval latency per system and corpus."""
    plt = _pyplot()
    corpora = list(results["speed"])
    systems = list(dict.fromkeys(key for c in corpora for key in results["speed"][c]))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    build = {CORPORA[c]: [None if _get(results["speed"][c], key, "shares_index_with") else _get(results["speed"][c], key, "build", "seconds")
                          for key in systems] for c in corpora}  # a shared index is drawn once
    p95 = {CORPORA[c]: [_get(results["speed"][c], key, "retrieval", "p95_ms") for key in systems] for c in corpora}
    _bars(axes[0], systems, build, "seconds (log scale)", "index build: chunk + embed + write")
    _bars(axes[1], systems, p95, "milliseconds", "p95 retrieval latency, in-process")
    axes[0].set_yscale("log")
    for ax in axes:
        ax.legend(fontsize=8)
    return _save(fig, path, plt)


def _get(d: dict, *keys: str):
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def _save(fig, path: Path, plt) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
