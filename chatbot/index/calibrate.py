"""Abstention thresholds that belong to an index: measured when it is built.

A shipped set of everyday off-topic questions in English and Indonesian (data/
offtopic_calibration.toml, or a clinic's own file) is asked of the new index; for each embedder
and question language, how close those questions come to any passage (mean and spread of their
best similarity) is stored in the manifest. At answer time a question's own best similarity is
read against that: a question no closer to the passages than everyday off-topic questions get is
declined. So the thresholds follow the collection: three leaflets or sixteen thousand answers.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from ..embeddings import Embedder
from ..errors import CorpusError
from ..records import content_hash

OFFTOPIC_FILE = Path(__file__).resolve().parent.parent / "data" / "offtopic_calibration.toml"


def offtopic_questions(path: Path = OFFTOPIC_FILE) -> list[tuple[str, str]]:
    """(language, question) pairs of a calibration file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        questions = [(str(q["lang"]), str(q["text"])) for q in data["question"]]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise CorpusError(f"cannot read the off-topic calibration questions in {path} ({exc}): fix the file or "
                          "unset CHATBOT_OFFTOPIC_FILE") from exc
    if len(questions) < 10:
        raise CorpusError(f"{path} holds {len(questions)} off-topic questions: calibration needs at least 10")
    return questions


def questions_hash(path: Path = OFFTOPIC_FILE) -> str:
    """Changes when the calibration questions change (part of the index fingerprint)."""
    return content_hash("\n".join(f"{lang}\t{q}" for lang, q in offtopic_questions(path)), 16)


def calibrate(embedders: tuple[Embedder, ...], indexes: list, questions: list[tuple[str, str]]) -> dict:
    """Per embedder and question language: mean, spread and 95th percentile of the off-topic
    questions' best passage similarity in `indexes` (one FAISS index per embedder)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    texts = [q for _, q in questions]
    langs = np.array([lang for lang, _ in questions])
    for emb, index in zip(embedders, indexes):
        if not index.ntotal:
            continue
        best = index.search(np.ascontiguousarray(emb.encode_queries(texts), dtype=np.float32), 1)[0][:, 0]
        out[emb.id] = {}
        for lang in sorted(set(langs.tolist())):
            sims = best[langs == lang]
            out[emb.id][lang] = {"mean": round(float(sims.mean()), 5), "sd": round(max(float(sims.std()), 1e-3), 5),
                                 "p95": round(float(np.quantile(sims, 0.95)), 5), "n": int(len(sims))}
    return out


def relatedness(stats: dict, best: dict[str, float], language: str) -> float | None:
    """How much closer the question comes to the passages than off-topic questions do: the mean,
    over calibrated embedders, of its best similarity as a z-score against theirs (None when no
    embedder is calibrated)."""
    zs = []
    for emb_id, sim in best.items():
        per_lang = stats.get(emb_id) or {}
        s = per_lang.get(language) or per_lang.get("en")
        if s:
            zs.append((sim - s["mean"]) / s["sd"])
    return float(np.mean(zs)) if zs else None
