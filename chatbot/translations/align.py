"""Sentence alignment between an original text and its translation, without translating anything.

Both texts are cut into the units an answer quotes (a sentence of a paragraph, a list item), in
reading order. When both have as many units, the n-th stands for the n-th, provided the numbers
agree (doses, ages, durations), both or neither say "not" ("jangan", "tidak"), and the cross-lingual
embedders find each the other's best match. Otherwise the units
are aligned in order by meaning (the cross-lingual embedders) with numbers, doses and drug names
as anchors, allowing a sentence translated as two (or two as one) and sentences left out on either
side. A pair is kept only when it clearly looks like a translation, its numbers are the same and it agrees on "not";
a sentence without such a pair is shown in the original.
"""

from __future__ import annotations

import difflib
import re
import threading
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..embeddings import Embedder
from ..text import is_bullet, rarity, sentence_spans, strip_bullet, words

PAIRS_FILE = Path(__file__).resolve().parent.parent / "data" / "alignment_pairs.toml"
ACCEPT = 0.5  # a pair is kept from this calibrated similarity on (0: two different health sentences, 1: a translation)
SANITY = 0.2  # the n-th unit of texts with equally many is taken unless the embedders put it below this
MERGE_COST = 0.05  # a sentence translated as two (or two as one) must look that much better than one to one
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_RARE = 3.5  # words at least this rare (see text.rarity) anchor a pair: drug and disease names, "UL97", "CMV"


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a text: a sentence of a paragraph or a whole list item, verbatim, at
    characters `start`..`end` of the text, on line `line`."""

    text: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Pair:
    """Original unit(s) and the translated text that stands for them (verbatim in the translation)."""

    original: str
    translated: str
    score: float
    shape: str = "1-1"  # "1-1", "1-2" (one sentence translated as two), "2-1"

    def as_json(self) -> dict:
        return {"original": self.original, "translated": self.translated, "score": round(self.score, 3), "shape": self.shape}


def units(text: str) -> list[Unit]:
    """The units of a text in reading order, as the answer composer quotes them (bullet marks and
    trailing reference numbers stripped; a list item whole)."""
    out: list[Unit] = []
    offset = 0
    for n, line in enumerate(text.split("\n")):
        body = strip_bullet(line)
        base = offset + (line.find(body) if body else 0)
        offset += len(line) + 1
        if not body.strip():
            continue
        spans = [(0, len(body))] if is_bullet(line) else sentence_spans(body)
        for s, e in spans:
            piece = body[s:e]
            lead = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            if piece:
                out.append(Unit(piece, base + s + lead, base + s + lead + len(piece), n))
    return out


_NEGATION = frozenset("""not no never nor neither cannot can't don't doesn't didn't won't shouldn't mustn't isn't aren't
tidak tak jangan bukan belum dilarang""".split())


def negated(text: str | None) -> bool:
    """Whether a text says no, not, never, do not (English or Indonesian: tidak, jangan, bukan): a pair must agree on it."""
    return bool(text) and any(w.replace("’", "'") in _NEGATION for w in re.findall(r"[\w'’]+", text.lower()))


def numbers(text: str) -> tuple[str, ...]:
    """The numbers of a text, separators removed ("0,5" and "0.5" alike, "1.000" and "1,000" alike), sorted."""
    return tuple(sorted(re.sub(r"[.,]", "", m) for m in _NUMBER.findall(text)))


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii").lower()


def anchor_words(text: str, language: str) -> set[str]:
    """Rare words (drug and disease names, gene names, abbreviations), folded to ASCII lower case."""
    return {_fold(w) for w in words(text) if len(w) >= 3 and not w.isdigit() and rarity(w, language) >= _RARE}


def anchor_overlap(a: set[str], b: set[str]) -> float:
    """Share of anchor words found on both sides, a spelling apart ("paracetamol" / "parasetamol")."""
    if not a or not b:
        return 0.0
    matched = sum(1 for w in a if any(w == v or difflib.SequenceMatcher(None, w, v).ratio() >= 0.8 for v in b))
    return matched / max(len(a), len(b))


class Scorer:
    """Cross-lingual similarity on one scale for every embedder: 0 is how alike two different health
    sentences look to it, 1 how alike a sentence and its translation (data/alignment_pairs.toml)."""

    _calibration: dict[str, tuple[float, float]] = {}
    _lock = threading.Lock()

    def __init__(self, embedders: Sequence[Embedder]) -> None:
        self.embedders = [e for e in embedders if e.cross_lingual and self._scale(e) is not None]
        self._memo: dict[tuple[str, str], np.ndarray] = {}

    def __bool__(self) -> bool:
        return bool(self.embedders)

    @classmethod
    def _scale(cls, emb: Embedder) -> tuple[float, float] | None:
        with cls._lock:
            if emb.id not in cls._calibration:
                en, id_ = _reference_pairs()
                sims = emb.encode_passages(list(id_)) @ emb.encode_passages(list(en)).T
                same, other = float(np.mean(np.diag(sims))), float(sims[~np.eye(len(en), dtype=bool)].mean())
                cls._calibration[emb.id] = (other, same)
        other, same = cls._calibration[emb.id]
        return (other, same) if same - other >= 0.05 else None  # an embedder that cannot tell is left out

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Calibrated similarity of every left text to every right text, averaged over the embedders."""
        if not self.embedders or not left or not right:
            return np.zeros((len(left), len(right)))
        total = np.zeros((len(left), len(right)))
        for emb in self.embedders:
            other, same = self._scale(emb)
            total += (self.vectors(emb, left) @ self.vectors(emb, right).T - other) / (same - other)
        return total / len(self.embedders)

    def vectors(self, emb: Embedder, texts: Sequence[str]) -> np.ndarray:
        """The embedder's vectors of the texts, each text embedded once per scorer."""
        missing = list(dict.fromkeys(t for t in texts if (emb.id, t) not in self._memo))
        if missing:
            self._memo.update(((emb.id, t), v) for t, v in zip(missing, emb.encode_passages(missing)))
        return np.stack([self._memo[(emb.id, t)] for t in texts])


@lru_cache(maxsize=1)
def _reference_pairs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    pairs = tomllib.loads(PAIRS_FILE.read_text(encoding="utf-8"))["pair"]
    return tuple(p["en"] for p in pairs), tuple(p["id"] for p in pairs)


def align(original: str, translation: str, original_language: str, translation_language: str,
          embedders: Sequence[Embedder] = (), merges: bool = True) -> list[Pair]:
    """The confident pairs of original and translated units, in reading order."""
    return align_units(units(original), translation, units(translation), original_language, translation_language,
                       Scorer(embedders), merges)


def align_units(left: list[Unit], translation: str, right: list[Unit], left_language: str, right_language: str,
                scorer: Scorer, merges: bool = True) -> list[Pair]:
    """`align` on units already cut (`translation` is the text the right units come from)."""
    if not left or not right:
        return []
    if len(left) == len(right):
        full = scorer.matrix([u.text for u in left], [u.text for u in right]) if scorer else None
        sims = np.diag(full) if full is not None else None
        agree = all(numbers(a.text) == numbers(b.text) and negated(a.text) == negated(b.text) for a, b in zip(left, right))
        mutual = full is None or (all(full[i].argmax() == i and full[:, i].argmax() == i for i in range(len(left)))
                                  and sims.min() >= SANITY)  # the n-th is the other's best match both ways
        if agree and mutual:
            return [Pair(a.text, b.text, float(sims[i]) if sims is not None else 1.0) for i, (a, b) in enumerate(zip(left, right))]
    if not scorer:
        return []  # different shapes and nothing to compare meanings with: show the originals
    return _dynamic(left, translation, right, left_language, right_language, scorer, merges)


def _joined(a: Unit, b: Unit, text: str) -> str | None:
    """Two consecutive units of one line as the verbatim span that holds both (None across lines)."""
    return text[a.start:b.end] if a.line == b.line else None


@dataclass(frozen=True)
class _Side:
    """One text's units for the alignment: texts, their merges with the next unit of the same line
    (None where there is none), their numbers and anchor words."""

    texts: list[str]
    merged: list[str | None]
    numbers: list[tuple[str, ...]]
    merged_numbers: list[tuple[str, ...]]
    anchors: list[set[str]]

    @classmethod
    def of(cls, found: list[Unit], merged: list[str | None], language: str) -> "_Side":
        texts = [u.text for u in found]
        return cls(texts, merged, [numbers(t) for t in texts], [numbers(t) if t else () for t in merged],
                   [anchor_words(t, language) for t in texts])


def _dynamic(left: list[Unit], translation: str, right: list[Unit], left_language: str, right_language: str,
             scorer: Scorer, merges: bool) -> list[Pair]:
    """Monotonic alignment maximising the sum over pairs of (similarity - ACCEPT), pairs whose numbers
    differ forbidden; moves 1-1, 1-2 and 2-1 (same line only), and skips on either side."""
    a = _Side.of(left, [f"{u.text} {v.text}" if merges and u.line == v.line else None for u, v in zip(left, left[1:])] + [None],
                 left_language)
    b = _Side.of(right, [_joined(u, v, translation) if merges else None for u, v in zip(right, right[1:])] + [None], right_language)
    base, one_two, two_one = scorer.matrix(a.texts, b.texts), _pairwise(scorer, a.texts, b.merged), _pairwise(scorer, a.merged, b.texts)

    def gain(i: int, j: int, shape: str) -> float:
        if shape == "1-1":
            same, sim, anchors = a.numbers[i] == b.numbers[j], base[i, j], anchor_overlap(a.anchors[i], b.anchors[j])
            same = same and negated(a.texts[i]) == negated(b.texts[j])
        elif shape == "1-2":
            same, sim = a.numbers[i] == b.merged_numbers[j], one_two[i, j]
            anchors = anchor_overlap(a.anchors[i], b.anchors[j] | b.anchors[j + 1])
            same = same and negated(a.texts[i]) == negated(b.merged[j])
        else:
            same, sim = a.merged_numbers[i] == b.numbers[j], two_one[i, j]
            anchors = anchor_overlap(a.anchors[i] | a.anchors[i + 1], b.anchors[j])
            same = same and negated(a.merged[i]) == negated(b.texts[j])
        return sim + 0.1 * anchors - ACCEPT - (0.0 if shape == "1-1" else MERGE_COST) if same else -np.inf

    n, m = len(left), len(right)
    best = np.zeros((n + 1, m + 1))
    back: dict[tuple[int, int], tuple[int, int, str, float]] = {}
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = [(best[i - 1, j], (i - 1, j, "skip", 0.0)), (best[i, j - 1], (i, j - 1, "skip", 0.0))]
            moves = [(1, 1, "1-1")] + [(1, 2, "1-2")] * (j >= 2 and b.merged[j - 2] is not None) + \
                    [(2, 1, "2-1")] * (i >= 2 and a.merged[i - 2] is not None)
            for di, dj, shape in moves:
                g = gain(i - di, j - dj, shape)
                options.append((best[i - di, j - dj] + g, (i - di, j - dj, shape, g)))
            best[i, j], back[(i, j)] = max(options, key=lambda o: o[0])
    return _trace(back, n, m, a.texts, b.texts, a.merged, b.merged)


def _pairwise(scorer: Scorer, left: Sequence[str | None], right: Sequence[str | None]) -> np.ndarray:
    """Similarity matrix where some texts are missing (None rows/columns stay -inf)."""
    out = np.full((len(left), len(right)), -np.inf)
    rows = [i for i, t in enumerate(left) if t is not None]
    cols = [j for j, t in enumerate(right) if t is not None]
    if rows and cols:
        out[np.ix_(rows, cols)] = scorer.matrix([left[i] for i in rows], [right[j] for j in cols])
    return out


def _trace(back: dict, n: int, m: int, lt: list[str], rt: list[str], left2: list, right2: list) -> list[Pair]:
    pairs: list[Pair] = []
    i, j = n, m
    while i > 0 and j > 0:
        pi, pj, shape, g = back[(i, j)]
        if shape == "1-1":
            pairs.append(Pair(lt[i - 1], rt[j - 1], float(g + ACCEPT)))
        elif shape == "1-2":
            pairs.append(Pair(lt[i - 1], right2[j - 2], float(g + ACCEPT + MERGE_COST), "1-2"))
        elif shape == "2-1":
            pairs.append(Pair(left2[i - 2], rt[j - 1], float(g + ACCEPT + MERGE_COST), "2-1"))
        i, j = pi, pj
    return pairs[::-1]


def sentence_map(pairs: Sequence[Pair | dict]) -> dict[str, str]:
    """Original sentence -> the translated text shown for it (one-to-one and one-to-two pairs only:
    a translated sentence that also holds another original sentence is not shown for either)."""
    out = {}
    for p in pairs:
        p = p if isinstance(p, Pair) else Pair(p["original"], p["translated"], p.get("score", 0.0), p.get("shape", "1-1"))
        if p.shape in ("1-1", "1-2"):
            out[p.original] = p.translated
    return out
