"""The engine: question -> language -> danger signs -> retrieval -> grounded answer."""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from ..ingest import langid
from ..answer.compose import ComposeSettings, SentenceVectors, compose, message_only, no_answer, select_sentences
from ..embeddings import load_embedders
from ..errors import ChatbotError
from ..index.build import open_index
from ..records import Answer
from ..search.retrieval import FusionSettings, Retriever
from ..settings import Settings
from ..answer.texts import text
from ..answer.urgent import danger_signs

log = logging.getLogger("chatbot")
_FOLLOW_UP_WORDS = 5


class Bot:
    """Answers questions from one loaded index. Build it once; `ask` is safe to call repeatedly."""

    def __init__(self, settings: Settings, retriever: Retriever) -> None:
        self.settings = settings
        self.retriever = retriever
        self.embedders = retriever.embedders
        self.manifest = retriever.index.manifest
        self._sentences = SentenceVectors()
        self.thresholds = abstention_thresholds(self.embedders, settings.abstain_file)

    @classmethod
    def load(cls, settings: Settings | None = None, progress: Callable[[str], None] = log.info) -> "Bot":
        """Load models and the index (building the default index when missing or out of date)."""
        settings = settings or Settings.from_env()
        index = open_index(settings, progress=progress)
        embedders = load_embedders(index.manifest.get("model") or settings.model, settings.model_cache)
        fusion = FusionSettings(bm25_weight=settings.bm25_weight, bridge_weight=settings.bridge_weight,
                                same_language_bonus=settings.same_language_bonus)
        return cls(settings, Retriever(index, embedders, fusion))

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history: Sequence[str] = ()) -> Answer:
        """Answer one question; `history` holds earlier questions of the conversation, oldest first."""
        k = k or self.settings.k
        raw = question if isinstance(question, str) else str(question or "")
        question = clean_question(raw)
        guess = langid.detect(question) if question else langid.LanguageGuess("en", "unknown", 0.0)
        language = lang if lang in langid.SUPPORTED else guess.language
        if not question:
            return message_only(question, language, "unreadable" if raw.strip() else "empty_question")
        if len(question) > self.settings.max_question_chars:
            return message_only(question[:200], language, "too_long", length=len(question), limit=self.settings.max_question_chars)
        notes = (text("unsupported_language", language),) if guess.detected not in (*langid.SUPPORTED, "unknown") else ()
        urgent = bool(danger_signs(question))
        query = self._with_context(question, history)
        qvecs = self.retriever.query_vectors(query)
        views = self.retriever.views(query, language)
        hits = self.retriever.search(query, language, k=k, qvecs=qvecs, views=views)
        if not hits or self.sources_silent(qvecs):
            return no_answer(question, language, urgent=urgent, notes=notes)
        picked = select_sentences(query, language, hits, self.embedders, ComposeSettings(), self._sentences, qvecs, views)
        if not picked:
            return no_answer(question, language, urgent=urgent, notes=notes)
        return compose(question, language, hits, picked, urgent=urgent, notes=notes)

    def relatedness(self, qvecs: list) -> dict[str, float]:
        """How close the question comes to any passage, per calibrated embedder."""
        return {emb_id: self.retriever.best_similarity(emb_id, qvecs) for emb_id in self.thresholds}

    def sources_silent(self, qvecs: list) -> bool:
        """True when no calibrated embedder finds a passage above its threshold (never, when
        none of the configured embedders is calibrated)."""
        sims = self.relatedness(qvecs)
        return bool(sims) and all(sim < self.thresholds[e] for e, sim in sims.items())

    def _with_context(self, question: str, history: Sequence[str]) -> str:
        """A short follow-up ("and for babies?") is searched together with the previous question."""
        previous = [h for h in history if h and h.strip()]
        if previous and len(question.split()) < _FOLLOW_UP_WORDS:
            return f"{clean_question(previous[-1])} {question}"
        return question


def abstention_thresholds(embedders, path: Path) -> dict[str, float]:
    """Calibrated thresholds of the configured embedders (empty: never abstain on similarity)."""
    try:
        thresholds = tomllib.loads(Path(path).read_text(encoding="utf-8"))["thresholds"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ChatbotError(f"cannot read abstention thresholds from {path} ({exc}): fix it or unset CHATBOT_ABSTAIN_FILE") from exc
    configured = {e.id for e in embedders}
    return {e: float(t) for e, t in thresholds.items() if e in configured}


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
