"""The staff worklist: what to translate or write next.

1. Passages most often quoted to people reading the other language, with no reviewed translation
   into that language (from the passages each logged answer quoted, or each rated answer when
   question logging is off).
2. Content gaps grouped by meaning: questions the sources could not answer and answers that got a
   thumbs-down, grouped with the cross-lingual models (average-linkage clustering on their
   calibrated similarity), so ten people asking about dengue, in either language, are one row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..records import Chunk, passage_hash
from ..translations.align import Scorer
from .translated import index_passages

SAME_TOPIC = 0.4  # calibrated similarity (see translations/align.py) from which two questions ask about one thing
MAX_GAPS = 1000  # the most recent gaps that are grouped
FAST = ("usem3",)  # grouping uses these models when loaded (milliseconds a question); otherwise every cross-lingual one


@dataclass(frozen=True)
class Untranslated:
    count: int
    chunk: Chunk
    language: str  # the readers' language


@dataclass(frozen=True)
class GapGroup:
    count: int
    example: str  # the most recent question of the group
    others: tuple[str, ...]  # up to two more, different ones
    languages: tuple[str, ...]
    last: str  # time of the most recent
    reasons: tuple[tuple[str, int], ...]


def group_questions(texts: Sequence[str], embedders: Sequence[Any], threshold: float = SAME_TOPIC,
                    scorer: Scorer | None = None) -> list[list[int]]:
    """Indices of the texts grouped by meaning, biggest group first (ties: the group with the earliest text)."""
    if not texts:
        return []
    scorer = scorer or Scorer(embedders)
    distinct = list(dict.fromkeys(texts))
    if not scorer or len(distinct) == 1:  # nothing to compare meanings with: only the same words are one group
        labels = list(range(len(distinct)))
    else:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        sims = scorer.matrix(distinct, distinct)
        dist = np.clip(1.0 - (sims + sims.T) / 2, 0.0, None)
        np.fill_diagonal(dist, 0.0)
        labels = fcluster(linkage(squareform(dist, checks=False), method="average"), t=1.0 - threshold, criterion="distance")
    of_text = dict(zip(distinct, labels))
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(texts):
        groups.setdefault(int(of_text[t]), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


class Worklist:
    """Reads the store and the loaded index for the two worklist tables."""

    def __init__(self, engine: Any, store: Any) -> None:
        self.engine, self.store = engine, store
        self._scorer: tuple[int, Scorer | None] = (0, None)

    def untranslated(self, limit: int = 25) -> list[Untranslated]:
        """Passages quoted to readers of the other language without a reviewed translation, most quoted first."""
        chunks = {c.id: c for c in index_passages(getattr(self.engine, "bot", None))}
        counts = Counter((cid, lang) for lang, ids in self.store.feedback.quoted() for cid in dict.fromkeys(ids)
                         if cid in chunks and lang in ("en", "id") and chunks[cid].language != lang)
        reviewed = self.store.translations.reviewed_keys()
        rows = [Untranslated(n, chunks[cid], lang) for (cid, lang), n in counts.items()
                if (passage_hash(chunks[cid].text), lang) not in reviewed]
        return sorted(rows, key=lambda r: (-r.count, r.chunk.id))[:limit]

    def gap_groups(self, limit: int = 25) -> list[GapGroup]:
        """The recent content gaps, grouped by meaning, biggest group first."""
        gaps = self.store.feedback.gap_questions(MAX_GAPS)
        texts = [g["question"] for g in gaps]
        out = []
        for members in group_questions(texts, (), scorer=self._group_scorer())[:limit]:
            rows = [gaps[i] for i in members]  # newest first, as stored
            others = tuple(dict.fromkeys(r["question"] for r in rows[1:] if r["question"] != rows[0]["question"]))[:2]
            out.append(GapGroup(len(rows), rows[0]["question"], others, tuple(sorted({r["language"] for r in rows})),
                                rows[0]["time"], tuple(Counter(r["reason"] for r in rows).most_common())))
        return out

    def _group_scorer(self) -> Scorer | None:
        """One scorer per loaded bot, so questions already seen are not embedded again."""
        bot = getattr(self.engine, "bot", None)
        if id(bot) != self._scorer[0]:
            embedders = tuple(getattr(bot, "embedders", ()))
            fast = [e for e in embedders if e.id in FAST]
            self._scorer = (id(bot), Scorer(fast or embedders))
        return self._scorer[1]
