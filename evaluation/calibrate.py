"""Abstention calibration: abstention rates against the similarity thresholds.

The bot declines when every calibrated embedder's best passage similarity is below its
threshold. This script measures those similarities for the in-scope questions (tuning set and
held-out set) and the off-topic questions, prints the curve along each embedder's threshold,
and picks the pair of thresholds that meets the targets on the tuning set (off-topic >= 95%,
in-scope <= 5%) with the most off-topic abstention, then the least in-scope abstention, then
the middle of the remaining choices. --write stores them in the abstention file.

    python -m evaluation.calibrate [--write]
"""

from __future__ import annotations

import argparse
import itertools
import re

import numpy as np

from chatbot.serve.engine import Bot, clean_question

from .common import load_set


def similarities(bot: Bot, name: str) -> dict[str, np.ndarray]:
    """Best-passage similarity per calibrated embedder for every question of a set."""
    rows = [bot.relatedness(bot.retriever.query_vectors(clean_question(r["question"]))) for r in load_set(name)]
    return {e: np.array([row[e] for row in rows]) for e in bot.thresholds}


def abstain_rate(sims: dict[str, np.ndarray], thresholds: dict[str, float]) -> float:
    silent = np.ones(len(next(iter(sims.values()))), dtype=bool)
    for e, t in thresholds.items():
        silent &= sims[e] < t
    return float(silent.mean())


def choose(tune: dict, off: dict) -> dict[str, float] | None:
    """Thresholds meeting the targets on the tuning set, as described in the module docstring."""
    grids = {e: np.quantile(np.concatenate([tune[e], off[e]]), np.linspace(0.02, 0.98, 49)) for e in tune}
    feasible = []
    for values in itertools.product(*grids.values()):
        t = dict(zip(grids, values))
        a_in, a_off = abstain_rate(tune, t), abstain_rate(off, t)
        if a_in <= 0.05 and a_off >= 0.95:
            feasible.append((-a_off, a_in, t))
    if not feasible:
        return None
    feasible.sort(key=lambda x: (x[0], x[1]))
    best = [f for f in feasible if f[:2] == feasible[0][:2]]
    return {e: round(float(np.median([f[2][e] for f in best])), 4) for e in tune}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="store the chosen thresholds in the abstention file")
    args = parser.parse_args()
    bot = Bot.load(progress=lambda m: None)
    tune, held, off = (similarities(bot, n) for n in ("questions", "heldout", "offtopic"))
    print(f"current thresholds ({bot.settings.abstain_file}): {bot.thresholds}")
    for e in bot.thresholds:
        print(f"\ncurve along {e} (other thresholds as they are)")
        print(f"{'threshold':>9}  {'in-scope':>8}  {'held-out':>8}  {'off-topic':>9}   (share abstaining)")
        for t in np.quantile(np.concatenate([tune[e], off[e]]), np.linspace(0.05, 0.95, 19)):
            th = dict(bot.thresholds, **{e: float(t)})
            print(f"{t:9.4f}  {abstain_rate(tune, th):8.3f}  {abstain_rate(held, th):8.3f}  {abstain_rate(off, th):9.3f}")
    chosen = choose(tune, off)
    if chosen is None:
        print("\nno thresholds meet off-topic >= 95% and in-scope <= 5% on the tuning set")
        return
    print(f"\nchosen: {chosen}")
    print(f"in-scope abstain {abstain_rate(tune, chosen):.3f}, held-out in-scope abstain {abstain_rate(held, chosen):.3f}, "
          f"off-topic abstain {abstain_rate(off, chosen):.3f}")
    if args.write:
        path = bot.settings.abstain_file
        text = path.read_text(encoding="utf-8")
        for e, t in chosen.items():
            text = re.sub(rf'^"{re.escape(e)}" = .*$', f'"{e}" = {t}', text, flags=re.M)
        path.write_text(text, encoding="utf-8")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
