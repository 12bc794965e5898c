"""Retrieval within and across languages: dense candidates from each embedder, over passages and
over their headings (the FAQ question or title they answer), plus BM25, fused.

Every language keeps its voice: candidates are drawn language by language, so five Indonesian
passages are found even when 99% of the collection is English, and each score becomes a z-score
against a sample of passages of the passage's own language. The fused score is the weighted
mean of the z-scores of the components that apply to the passage: cross-lingual embedders
always; BM25 and same-language embedders (all-MiniLM-L6-v2) with the question itself in its own
language and with its glossary bridge in the other. all-MiniLM-L6-v2 counts three times when
question and passage are both English, the one case it was trained for (chosen on the MedQuAD
development sample, seed 7). An embedder that holds only some
passages (e5 in a large collection holds the non-English ones) scores only those, and the
others by their headings alone (it holds every heading) for a question in another language: an
Indonesian question reaches an English record by its stored question. A short
question's rare words anchor its topic: a passage that names none of them loses ground
(`_unanchored`). A passage whose stored question (a FAQ heading, a MedQuAD record's title) asks
for other kinds of answer than the patient does ("What is X?" for "Is it inherited?") loses ground
(`_asks_otherwise`, kinds.py). The best passages of each language keep places among the top k when
they come close (`_reserve`), one more for a language with few passages.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from ..embeddings import Embedder
from ..index.directory import LoadedIndex
from ..ingest.chunking import embedding_text, heading_text, topic_text
from ..kinds import asks_otherwise, patient_asks, stored_asks
from ..records import Hit
from ..text import STOPWORDS, rarity, stems, terms, tokenize, words_among
from .bm25 import BM25
from .glossary import Glossary, View
from .vectors import Lanes


NAME_RARITY = 6.0  # text.rarity of a word in no everyday word list: most names of diseases and medicines


@dataclass(frozen=True)
class FusionSettings:
    """Weights of the fused score; `bm25` applies only within one language."""

    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    same_language_bonus: float = 0.0  # added to the fused score of passages in the question's language
    bridge_weight: float = 1.0  # weight of glossary-bridged scores (BM25, same-language embedders) across languages
    english_model_weight: float = 3.0  # English-only embedders (MiniLM) when question and passages are English
    head_weight: float = 5.0  # similarity to the title of a passage without section headings, per embedder (a MedQuAD
    # record's stored question; 5 rather than 3 chosen on the consumer rewrites' dev half and the MedQuAD dev sample)
    bm25_clip: float = 0.0  # BM25 z-scores capped here (0: no cap); see search()
    bm25_max_scale: float = 4.0  # >0: BM25 as this times score / the language's best score (instead of a z-score)
    reserve_gap: float = 2.0  # the best passages of each language within this of the best overall get a place (0: off)
    reserve_own: int = 2  # ...up to this many in the question's language
    reserve_other: int = 1  # ...and this many in each other language,
    reserve_minority: int = 1  # ...and this many more in a language with under `minority_share` of the passages
    minority_share: float = 0.1  # (an Indonesian leaflet inside a large English collection)
    anchor_weight: float = 2.0  # the fused score falls by this times the share of the question's rare words a passage lacks
    anchor_rarity: float = 2.5  # a word at least this rare (text.rarity: "cmv", "nec", "prednisone"; not "anemia") anchors the topic
    anchor_words: int = 12  # ...in a question of at most this many content words (a long story's rare words are incidental)
    asks_otherwise_weight: float = 0.5  # the fused score falls by this when the passage's stored question asks only for other
    # kinds of answer than the patient's (kinds.asks_otherwise; 0.5 chosen on the consumer rewrites' development half and
    # the seed tuning sets; a bonus for the same kind instead lifted FAQ items over prose that answers as well)
    candidates: int = 60
    sample_size: int = 1024
    per_language_stats: bool = False  # z-scores against the passage language's own sample (True: measured worse)
    weights: dict[str, float] = field(default_factory=dict)  # per embedder id, overrides dense_weight

    def weight(self, embedder_id: str) -> float:
        return self.weights.get(embedder_id, self.dense_weight)


class Retriever:
    """Top-k passages for a question, best first, with fused and per-component scores.

    Each passage language L sees its own view of the question: the question itself when it is
    asked in L, otherwise its glossary bridge into L. Cross-lingual embedders score the
    question as asked; BM25 and same-language embedders score the view of the passage's language.
    """

    def __init__(self, index: LoadedIndex, embedders: tuple[Embedder, ...], settings: FusionSettings = FusionSettings(),
                 glossary: Glossary | None = None) -> None:
        self.index, self.embedders, self.settings = index, embedders, settings
        self.glossary = glossary or Glossary.load()
        self.chunks = index.chunks
        self.chunk_lang = np.array([c.language for c in self.chunks])
        self.languages = sorted(set(self.chunk_lang.tolist()))
        self._rows = {lang: np.flatnonzero(self.chunk_lang == lang) for lang in self.languages}
        self._local = np.zeros(len(self.chunks), dtype=np.int64)  # row -> position within its language
        for rows in self._rows.values():
            self._local[rows] = np.arange(len(rows))
        self._passages, self._heads, self._heads_only = [], [], []
        for n, vec in enumerate(index.vectors):
            covered = index.covered(n)
            by_lang = {lang: rows if covered is None else np.intersect1d(rows, covered) for lang, rows in self._rows.items()}
            scale = index.scale_samples[n] if index.scale_samples else None
            self._passages.append(Lanes(vec, by_lang, settings.sample_size, settings.per_language_stats, scale))
            # an embedder that holds part of the passages may hold every heading (index/directory.py, _plan)
            of = self._rows if index.heads_covered(n) else by_lang
            heads = {lang: np.unique(index.chunk_head[rows]) for lang, rows in of.items()} if len(index.heads) else {}
            lanes = Lanes(index.head_vectors[n], heads, settings.sample_size, settings.per_language_stats) if heads else None
            self._heads.append(lanes)
            # languages whose headings alone it holds: there it speaks only for questions in another language
            # (e5 beside MedQuAD: Indonesian questions reach English records; English ones keep their models)
            self._heads_only.append(frozenset(lanes.langs) - frozenset(self._passages[n].langs) if lanes else frozenset())
        # a section heading is embedded with its passage; a passage without one gets its document's title
        # (a MedQuAD answer's focus or question) as a score of its own, so it keeps its topic
        self._titled = np.array([not c.section for c in self.chunks], dtype=bool)
        self._head_chunks = _chunks_by_head(index.chunk_head)
        # an embedder whose index holds no passage (e5 beside an all-English collection) compares nothing:
        # its question vector is never made (13 ms of a core per question on MedQuAD)
        self._idle = frozenset(n for n, vec in enumerate(index.vectors) if not vec.ntotal)
        self._stored: dict[int, frozenset[str]] = {}  # passage row -> the kinds its stored question asks (_asks_otherwise)
        self._bm25 = {lang: BM25(terms(embedding_text(self.chunks[i]), lang) for i in rows) for lang, rows in self._rows.items()}

    def query_vectors(self, question: str) -> list[np.ndarray]:
        """The question embedded by each embedder, in order."""
        return self.start_query_vectors(question)()

    def start_query_vectors(self, question: str) -> "PendingVectors":
        """Start embedding the question; call the result for `query_vectors`. An embedder with
        slow queries (e5) starts at once on a helper thread; the others run on the calling
        thread when the result is called, so the caller can detect the language meanwhile. One
        answer then waits for e5 alone, not for e5 after the others."""
        later = {n: _helper().submit(e.encode_queries, [question]) for n, e in enumerate(self.embedders)
                 if e.slow_queries and n not in self._idle}
        return PendingVectors(self.embedders, question, later, self._idle)

    def best_similarity(self, embedder_id: str, qvecs: list[np.ndarray], seen: dict | None = None) -> float:
        """The highest raw similarity between the question and any passage, for one embedder (`seen`:
        as given to `search` for the same question, which then has made the FAISS search already)."""
        for emb, vec, q, lanes in zip(self.embedders, self.index.vectors, qvecs, self._passages):
            if emb.id == embedder_id and vec.ntotal:
                return lanes.best(q, seen)
        raise KeyError(embedder_id)

    def views(self, question: str, language: str) -> dict[str, View]:
        """The question as seen from each passage language."""
        return {lang: self.glossary.view(question, language, lang) for lang in self.languages}

    def search(self, question: str, language: str, k: int = 5, qvecs: "list[np.ndarray] | PendingVectors | None" = None,
               views: dict[str, View] | None = None, bridged: dict[int, dict[str, np.ndarray | None]] | None = None,
               seen: dict | None = None) -> list[Hit]:
        """Best `k` passages for `question`, asked in `language` (`qvecs`, `views`, `bridged`: from
        `query_vectors` (or `start_query_vectors`), `views` and `bridged_vectors`, when the caller
        has them already; `seen`: an empty dict that keeps this question's FAISS searches for
        `best_similarity`). With pending vectors, the embedders that are ready search and BM25
        scores while a slow one (e5) still embeds the question."""
        if not self.chunks:
            return []
        views = views if views is not None else self.views(question, language)
        pending = qvecs if isinstance(qvecs, PendingVectors) else None
        if pending is None:
            qvecs = qvecs if qvecs is not None else self.query_vectors(question)
        n_cand = min(len(self.chunks), max(self.settings.candidates, 4 * k))
        bridged = bridged if bridged is not None else self.bridged_vectors(views, language)
        ready = pending.ready() if pending is not None else qvecs
        per_lang = self._per_lang(ready, bridged, language)
        cand = self._candidates(per_lang, n_cand, seen, language=language)
        bm25 = {lang: self._bm25_scores(view, lang, n_cand, cand) for lang, view in views.items()}
        if pending is not None:  # now the slow ones (a set of candidates: the order they are added in changes nothing)
            qvecs = pending()
            per_lang = self._per_lang(qvecs, bridged, language)
            self._candidates(per_lang, n_cand, seen, cand, only=[n for n, q in enumerate(ready) if q is None], language=language)
        ids = np.array(sorted(cand), dtype=np.int64)
        num, den, parts = self._dense(ids, per_lang, language)
        langs = self.chunk_lang[ids]
        for lang, found in bm25.items():  # each language's candidates at once, in float64 as Python floats would be
            rows = np.flatnonzero(langs == lang)
            if found is None or not len(rows):
                continue
            scores, mu, sd = found
            mine = scores[self._local[ids[rows]]].astype(np.float64)
            if self.settings.bm25_max_scale > 0:
                z = self.settings.bm25_max_scale * mine / max(float(scores.max()), 1e-9)
            else:
                z = (mine - mu) / sd
            if self.settings.bm25_clip > 0:
                z = np.minimum(z, self.settings.bm25_clip)
            w = self.settings.bm25_weight * (1.0 if lang == language else self.settings.bridge_weight)
            num[rows] += w * z
            den[rows] += w
            for j, v in zip(rows.tolist(), z.tolist()):
                parts[j]["bm25_z"] = round(v, 3)
        fused = num / np.maximum(den, 1e-9)
        fused += self.settings.same_language_bonus * (langs == language)
        if self.settings.asks_otherwise_weight > 0:
            fused -= self.settings.asks_otherwise_weight * self._asks_otherwise(question, ids)
        if self.settings.anchor_weight > 0:
            fused -= self.settings.anchor_weight * self._unanchored(question, language, ids)
        order = self._reserve(np.argsort(-fused), fused, langs, language, k)
        return [Hit(chunk=self.chunks[ids[j]], score=float(fused[j]), components=parts[j]) for j in order]

    def _asks_otherwise(self, question: str, ids: np.ndarray) -> np.ndarray:
        """1 for each passage that answers a stored question (a FAQ item's heading, a MedQuAD
        record's title) asking only for other kinds of answer than the patient asks for, else 0
        (kinds.asks_otherwise): a record's answers to "Is it inherited?", "How many people are
        affected?" and "What is it?" share their topic, which their embeddings and words weigh most."""
        wanted = patient_asks(question)
        out = np.zeros(len(ids))
        if not wanted:
            return out
        for j, i in enumerate(ids.tolist()):
            if (stored := self._stored.get(i)) is None:  # what each passage's stored question asks, read once
                stored = self._stored[i] = stored_asks(heading_text(self.chunks[i]))
            out[j] = asks_otherwise(wanted, stored)
        return out

    def _unanchored(self, question: str, language: str, ids: np.ndarray) -> np.ndarray:
        """For each passage, the share (by rarity) of the question's rare words ("cmv", "nec",
        "prednisone") it does not mention, in its text, title or headings, literally or through the
        glossary: a passage on vaccines in general is not the answer to "is there a CMV vaccine"."""
        content = tokenize(question)
        anchors = {t: r for t in dict.fromkeys(content)
                   if len(t) >= 3 and not t.isdigit() and (r := rarity(t, language)) >= self.settings.anchor_rarity}
        out = np.zeros(len(ids))
        if not anchors or 0 < self.settings.anchor_words < len(content):
            return out
        phrases = {lang: {t: self.glossary.synonyms(t, language, lang) for t in anchors} for lang in self.languages}
        # in another language a word is looked for only when the glossary carries it over or it is
        # a name that every language writes alike ("cmv", "ganciclovir": unknown to the word lists)
        judged = {lang: {t: r for t, r in anchors.items() if lang == language or phrases[lang][t] or r >= NAME_RARITY}
                  for lang in self.languages}
        wanted = {lang: set(judged[lang]) | {w for t in judged[lang] for p in phrases[lang][t] for w in p}
                  for lang in self.languages}
        for j, i in enumerate(ids.tolist()):
            chunk = self.chunks[i]
            if not judged[chunk.language]:
                continue
            there = words_among(topic_text(chunk), wanted[chunk.language])  # only the words looked for
            missing = sum(r for t, r in judged[chunk.language].items()
                          if t not in there and not any(p and there.issuperset(p) for p in phrases[chunk.language][t]))
            out[j] = missing / sum(judged[chunk.language].values())
        return out

    def _reserve(self, order: np.ndarray, fused: np.ndarray, langs: np.ndarray, language: str, k: int) -> list[int]:
        """The top k, where the best passages of a language that close to the best overall take
        the last places: a small Indonesian document stays visible among thousands of English
        passages that score a little higher (the question's language gets up to `reserve_own`, the
        others `reserve_other`, a language with few passages one more: its next passage is often
        the one that answers, measured on the tuning sets inside MedQuAD)."""
        top = [int(j) for j in order[:k]]
        if self.settings.reserve_gap <= 0 or len(self.languages) < 2 or not top:
            return top
        floor = fused[top[0]] - self.settings.reserve_gap
        wanted: list[int] = []
        for lang in sorted(self.languages, key=lambda lg: lg != language):
            quota = self.settings.reserve_own if lang == language else self.settings.reserve_other
            if len(self._rows[lang]) < self.settings.minority_share * len(self.chunks):
                quota += self.settings.reserve_minority
            best = [int(j) for j in order if langs[j] == lang][:quota]
            wanted += [j for j in best if fused[j] >= floor]
        missing = [j for j in wanted if j not in top]
        keep = [j for j in top if j in wanted] + [j for j in top if j not in wanted]
        keep = keep[: max(0, k - len(missing))]
        return sorted(keep + missing, key=lambda j: -fused[j])[:k]

    def _per_lang(self, qvecs: list, bridged: dict[int, dict[str, np.ndarray | None]], language: str) -> list[dict[str, np.ndarray | None]]:
        """The query vector each passage language sees, per embedder (None where none is made yet)."""
        return [{lang: None if q is None else q if emb.cross_lingual or lang == language else bridged[n].get(lang)
                 for lang in self.languages} for n, (emb, q) in enumerate(zip(self.embedders, qvecs))]

    def _candidates(self, per_lang: list[dict[str, np.ndarray | None]], n_cand: int, seen: dict | None = None,
                    cand: set[int] | None = None, only: list[int] | None = None, language: str | None = None) -> set[int]:
        """Nearest passages, and passages under the nearest headings, of every language, per embedder
        (`only`: of these embedders), added to `cand`. `language`: the question's; the headings an
        embedder holds without their passages are searched for a question in another language only
        (never when the language is not given)."""
        cand = set() if cand is None else cand
        for n, (passages, heads, by_lang) in enumerate(zip(self._passages, self._heads, per_lang)):
            if only is not None and n not in only:
                continue
            for lang, q in by_lang.items():
                if q is None:
                    continue
                cand.update(int(i) for i in passages.nearest(q, lang, n_cand, seen))
                if heads is not None and self.settings.head_weight > 0 and (lang not in self._heads_only[n]
                                                                             or self._headings_alone(n, lang, language)):
                    for h in heads.nearest(q, lang, max(5, n_cand // 4)):
                        cand.update(int(i) for i in self._head_chunks.get(int(h), ())[:3]
                                    if self.chunk_lang[i] == lang and self._titled[i])
        return cand

    def _headings_alone(self, n: int, lang: str, language: str | None) -> bool:
        """Does embedder `n` score `lang`'s passages by their headings alone for a question in
        `language`? Only where it holds those headings without their passages, and only for a
        question known to be in another language."""
        return lang in self._heads_only[n] and language is not None and lang != language

    def _dense(self, ids: np.ndarray, per_lang: list[dict[str, np.ndarray | None]], language: str):
        """Weighted sums of the embedders' z-scores (passage and heading) of each candidate."""
        langs = self.chunk_lang[ids]
        num, den = np.zeros(len(ids)), np.zeros(len(ids))
        parts: list[dict[str, float]] = [{} for _ in ids]
        for n, (emb, by_lang) in enumerate(zip(self.embedders, per_lang)):
            passages, heads = self._passages[n], self._heads[n]
            for lang, q in by_lang.items():
                rows = np.flatnonzero(langs == lang)
                lane = passages.langs.get(lang)
                headings_only = self._headings_alone(n, lang, language)
                if q is None or not len(rows) or (lane is None and not headings_only):
                    continue
                # an embedder that holds some passages scores those, and by their headings alone the
                # passages whose headings it holds, for a question in another language
                held = rows[lane.holds(ids[rows])] if lane is not None else rows[:0]
                if not headings_only:
                    rows = held
                if not len(rows):
                    continue
                w = self.settings.weight(emb.id) * (self.settings.bridge_weight if lang != language else 1.0)
                if not emb.cross_lingual and lang == language == "en":
                    w *= self.settings.english_model_weight  # an English-only model on English question and passages
                if len(held):
                    raw = passages.similarity(q, ids[held])
                    mu, sd = passages.stats(q, lang)
                    num[held] += w * (raw - mu) / sd
                    den[held] += w
                    for j, r in zip(held.tolist(), raw.tolist()):  # Python floats: a numpy scalar each took longer
                        parts[j][emb.id] = round(r, 4)
                titled = rows[self._titled[ids[rows]]]
                if heads is not None and self.settings.head_weight > 0 and lang in heads.langs and len(titled):
                    rows = titled
                    head_rows = self.index.chunk_head[ids[rows]]
                    raw_h = heads.similarity(q, head_rows)
                    mu_h, sd_h = heads.stats(q, lang)
                    num[rows] += w * self.settings.head_weight * (raw_h - mu_h) / sd_h
                    den[rows] += w * self.settings.head_weight
                    for j, r in zip(rows.tolist(), raw_h.tolist()):
                        parts[j][f"head:{emb.id}"] = round(r, 4)
        return num, den, parts

    def bridged_vectors(self, views: dict[str, View], language: str, embed: bool = True) -> dict[int, dict[str, np.ndarray | None]]:
        """For each embedder that compares only within a language (MiniLM), the question's
        glossary view into every other passage language, embedded (None: nothing carried over,
        or `embed` is False)."""
        return {n: {lang: emb.encode_queries([view.text])[0] if view.text and embed else None for lang, view in views.items() if lang != language}
                for n, emb in enumerate(self.embedders) if not emb.cross_lingual}

    def _bm25_scores(self, view: View, lang: str, n_cand: int, cand: set[int]):
        """BM25 scores of a language's passages for a view (with mean, sd); adds its top hits to `cand`."""
        query = stems([t for t in view.terms if t not in STOPWORDS], lang)
        if not query or self.settings.bm25_weight <= 0:
            return None
        scores = self._bm25[lang].scores(query)
        if not scores.any():
            return None
        rows = self._rows[lang]
        top = np.argpartition(-scores, min(n_cand, len(scores) - 1))[:n_cand]
        cand.update(int(rows[t]) for t in top if scores[t] > 0)
        return scores, float(scores.mean()), float(scores.std()) or 1.0


@dataclass(frozen=True)
class PendingVectors:
    """A question's vectors, some of them being made on helper threads (Retriever.start_query_vectors)."""

    embedders: tuple[Embedder, ...]
    question: str
    later: dict[int, Future]
    idle: frozenset[int] = frozenset()  # embedders that hold no passage: a zero vector, never compared
    made: dict[int, np.ndarray] = field(default_factory=dict)  # the vectors made on the calling thread, kept

    def ready(self) -> list[np.ndarray | None]:
        """The vectors made on the calling thread (made now when not yet), None for those still on a helper thread."""
        return [self.later[n].result()[0] if n in self.later and self.later[n].done()
                else None if n in self.later else self._made(n) for n in range(len(self.embedders))]

    def __call__(self) -> list[np.ndarray]:
        return [self.later[n].result()[0] if n in self.later else self._made(n) for n in range(len(self.embedders))]

    def _made(self, n: int) -> np.ndarray:
        if n not in self.made:
            e = self.embedders[n]
            self.made[n] = np.zeros(e.dim, dtype=np.float32) if n in self.idle else e.encode_queries([self.question])[0]
        return self.made[n]

    def drop(self) -> None:
        """Not needed after all (the caller failed): cancel what has not started, wait for the rest."""
        for f in self.later.values():
            if not f.cancel():
                wait([f])


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _helper() -> ThreadPoolExecutor:
    """The threads that embed questions with slow models beside the answering threads (one each)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 8)), thread_name_prefix="query")
        return _pool


def _chunks_by_head(chunk_head: np.ndarray) -> dict[int, list[int]]:
    """Passage rows under each heading, in order."""
    out: dict[int, list[int]] = {}
    for i, h in enumerate(chunk_head.tolist()):
        out.setdefault(h, []).append(i)
    return out
