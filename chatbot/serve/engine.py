"""The engine: question -> language -> danger signs -> retrieval -> grounded answer."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence

from ..ingest import langid
from ..answer.choose import ChooseSettings, SentenceVectors, choose
from ..answer.compose import compose, message_only, no_answer
from ..answer.topic import asks_the_stored_question, coverage, fits_group_question, group_question, mentions_any, unnamed_medicines
from ..embeddings import load_embedders
from ..embeddings.threads import for_answering
from ..index.build import open_index
from ..index.directory import LoadedIndex
from ..records import Answer, Hit, Quote
from ..index.calibrate import relatedness
from ..search.focus import focus
from ..search.retrieval import FusionSettings, PendingVectors, Retriever
from ..settings import Settings
from ..answer.texts import text
from ..answer.urgent import Mentions, danger_signs, must_mention, reassures

log = logging.getLogger("chatbot")
_FOLLOW_UP_WORDS = 5
MENTIONED = 0.6  # below abstain_z, the quoted passages must mention this share of the question's content...
VERY_NEAR = 4.0  # ...and below this closeness at least abstain_topic of it (see answer/topic.py)
URGENT_MENTIONED = 0.7  # an emergency's quotes must mention this share of what it describes


class Bot:
    """Answers questions from one loaded index. Build it once; `ask` is safe to call repeatedly."""

    def __init__(self, settings: Settings, retriever: Retriever) -> None:
        self.settings = settings
        self.retriever = retriever
        self.embedders = retriever.embedders
        self.manifest = retriever.index.manifest
        self._sentences = SentenceVectors.of_index(retriever.index, self.embedders)
        self.choose_settings = ChooseSettings()
        self.abstention = self.manifest.get("abstention") or {}  # calibrated when the index was built

    @classmethod
    def load(cls, settings: Settings | None = None, progress: Callable[[str], None] = log.info) -> "Bot":
        """Load models and the index (building the default index when missing or out of date)."""
        settings = settings or Settings.from_env()
        return cls.from_index(settings, open_index(settings, progress=progress))

    @classmethod
    def from_index(cls, settings: Settings, index: LoadedIndex) -> "Bot":
        """A bot over an index already loaded (and checked); loads its models (once per process)."""
        embedders = load_embedders(index.manifest.get("model") or settings.model, settings.model_cache)
        for_answering()  # after the models: a library one of them brought is held too
        fusion = FusionSettings(bm25_weight=settings.bm25_weight, bridge_weight=settings.bridge_weight,
                                same_language_bonus=settings.same_language_bonus)
        return cls(settings, Retriever(index, embedders, fusion))

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history: Sequence[str] = ()) -> Answer:
        """Answer one question; `history` holds earlier questions of the conversation, oldest first."""
        k = k or self.settings.k
        raw = question if isinstance(question, str) else str(question or "")
        question = clean_question(raw)
        before = self._previous(history)[: self.settings.max_question_chars]
        query = f"{before} {question}" if before and len(question.split()) < _FOLLOW_UP_WORDS else question
        answerable = bool(question) and len(question) <= self.settings.max_question_chars
        vectors = self.retriever.start_query_vectors(query) if answerable else None  # e5 works while the language is found
        try:
            return self._answer(question, raw, query, lang, k, vectors, before)
        except BaseException:
            if vectors is not None:
                vectors.drop()  # no e5 work left running behind a failed answer
            raise

    def _answer(self, question: str, raw: str, query: str, lang: str, k: int, vectors: PendingVectors | None,
                before: str = "") -> Answer:
        guess = langid.detect_question(question) if question else langid.LanguageGuess("en", "unknown", 0.0)
        language = lang if lang in langid.SUPPORTED else guess.language
        if not question:
            return message_only(question, language, "unreadable" if raw.strip() else "empty_question")
        if len(question) > self.settings.max_question_chars:
            return message_only(question[:200], language, "too_long", length=len(question), limit=self.settings.max_question_chars)
        notes = (text("unsupported_language", language),) if guess.detected not in (*langid.SUPPORTED, "unknown") else ()
        # the message after an emergency ("are hemorrhoids dangerous?") is one too; each message is read alone
        urgent = bool(danger_signs(question)) or bool(before and danger_signs(before))
        asked = focus(query, language) if self.settings.focus_search else ""  # a long message's question and topic words
        focused = self.retriever.start_query_vectors(asked) if asked else None  # its e5 work starts now
        try:
            views = self.retriever.views(query, language)
            # while e5 works; with its focus searched, a long message crosses languages through the
            # focus alone (its whole glossary view changed no answer on the tuning sets and took a
            # second long embedding)
            bridged = self.retriever.bridged_vectors(views, language, embed=not asked)
            seen: dict = {}  # the FAISS searches made for this answer, for relatedness
            # the vectors still pending: retrieval begins with those made, while e5 finishes
            hits = self.retriever.search(query, language, k=k, qvecs=vectors, views=views, bridged=bridged, seen=seen)
            qvecs = vectors()
            related = self.relatedness(qvecs, language, seen)
            if focused is not None:
                fvecs, fviews = focused(), self.retriever.views(asked, language)
                hits = merge(hits, self.retriever.search(asked, language, k=k, qvecs=fvecs, views=fviews, seen=seen), k)
                related = max(related, self.relatedness(fvecs, language, seen)) if related is not None else None
        except BaseException:
            if focused is not None:
                focused.drop()
            raise
        if not hits or (related is not None and related < min(0.0, self.settings.abstain_z)):  # farther than most off-topic questions
            return no_answer(question, language, urgent=urgent, notes=notes)
        picked = choose(query, language, hits, self.embedders, qvecs, views, self.choose_settings, self._sentences,
                        self.retriever.glossary)
        if urgent:
            picked = quotable_in_emergency(picked, hits, must_mention(question) | must_mention(before))
        if grouped := group_question(query):  # "boleh minum valgansiklovir saat hamil?" (or "and while pregnant?" after a dose question)
            picked = [q for q in picked if fits_group_question(grouped, language, (q.text, *q.items, hits[q.n].chunk.section),
                                                               q.language or hits[q.n].chunk.language, self.retriever.glossary)]
        if not picked or self._not_covered(query, language, hits, picked, related, urgent, asked_now=question):
            return no_answer(question, language, urgent=urgent, notes=notes)
        return compose(question, language, hits, picked, urgent=urgent, notes=notes)

    def relatedness(self, qvecs: list, language: str, seen: dict | None = None) -> float | None:
        """How much closer the question comes to this index's passages than everyday off-topic
        questions do, in spreads (None when the index carries no calibration)."""
        best = {e.id: self.retriever.best_similarity(e.id, qvecs, seen) for e in self.embedders if e.id in self.abstention}
        return relatedness(self.abstention, best, language)

    def _not_covered(self, question: str, language: str, hits: list, picked: list, related: float | None,
                     urgent: bool, asked_now: str) -> bool:
        """Decline when the question is not much closer to the passages than off-topic questions
        get and the passages about to be quoted do not mention most of its rarer words, or when
        they hardly mention them at all ("dengue", "migraine") unless the question is very close.
        Neither holds when the first passage quoted answers a stored question (a FAQ's, a MedQuAD
        record's) that the patient asks about what it names ("cmv bisa nular lewat asi gak" and
        "How is CMV transmitted?"). Only the message itself is read for that (`asked_now`), never
        the earlier question a short follow-up is searched with. An emergency gets the urgent
        advice and loosely related quotes would only distract: its quotes must mention most of what
        it describes, whatever stored question it asks (a story that names a harmless condition
        would otherwise pull in its record: "... 34 weeks pregnant and bleeding heavily. She has
        hemorrhoids. What are the symptoms of hemorrhoids?"). A dose question is declined when the
        quoted passages do not name the medicine it asks about."""
        if related is None:
            return False
        cited = [hits[n] for n in sorted({q.n for q in picked})]
        mentioned = coverage(question, language, cited, self.retriever.glossary)
        if urgent and mentioned < URGENT_MENTIONED:
            return True
        if unnamed_medicines(question, language, cited, self.retriever.glossary):
            return True
        if not urgent and asks_the_stored_question(asked_now, language, cited[0], self.retriever.glossary):
            return False
        near, topic = self.settings.abstain_z, self.settings.abstain_topic
        return (related < near and mentioned < MENTIONED) or (topic > 0 and related < VERY_NEAR and mentioned < topic)

    @staticmethod
    def _previous(history: Sequence[str]) -> str:
        """The patient's message before this one: a short follow-up ("and for babies?") is searched
        together with it, and any message after an emergency keeps the urgent advice."""
        previous = [h for h in history if isinstance(h, str) and h.strip()]
        return clean_question(previous[-1]) if previous else ""


def quotable_in_emergency(picked: list[Quote], hits: list[Hit], needed: Mentions) -> list[Quote]:
    """The quotes an emergency may carry after the urgent advice: each from a passage that speaks
    of the emergency itself (data/danger_signs.toml, `mention`: not a passage on another illness
    beside one that does), none that calms ("usually not painful", `reassuring`), and nothing from
    a passage whose title or heading calms ("Benign familial neonatal seizures")."""
    def fit(hit: Hit) -> bool:
        return ((not needed.signs or any(mentions_any(words, [hit]) for words in needed.signs))
                and all(mentions_any(words, [hit]) for words in needed.each)
                and not reassures(f"{hit.chunk.title}\n{hit.chunk.section}"))

    ok = {n: 0 <= n < len(hits) and fit(hits[n]) for n in {q.n for q in picked}}  # only the passages quoted
    return [q for q in picked if ok[q.n] and not any(reassures(s) for s in (q.text, *q.items))]


def merge(first: list[Hit], second: list[Hit], k: int) -> list[Hit]:
    """Two rankings of passages as one: each passage with the better of its two scores."""
    best: dict[str, Hit] = {}
    for hit in [*first, *second]:
        if hit.chunk.id not in best or hit.score > best[hit.chunk.id].score:
            best[hit.chunk.id] = hit
    return sorted(best.values(), key=lambda h: -h.score)[:k]


def _decode_escaped(text: str) -> str:
    """Undecodable bytes from argv arrive as lone surrogates: turn them into U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _visible(ch: str) -> str:
    """Format characters (zero-width, direction marks, tags) vanish; controls become spaces."""
    category = unicodedata.category(ch)
    return "" if category == "Cf" else " " if category in ("Cc", "Cs") else ch


def clean_question(question: str) -> str:
    """NFC-normalised text without control or direction-override characters, spaces collapsed."""
    if not isinstance(question, str):
        question = str(question or "")
    question = _decode_escaped(question)
    question = unicodedata.normalize("NFC", question)
    question = "".join(_visible(ch) for ch in question.replace("\ufffd", " "))
    return re.sub(r"\s+", " ", question).strip()
