"""Grounded, extractive answers: the quotes chosen from the top passages (choose.py), each
citing its passage, framed by fixed texts in the reply language. Nothing else is written."""

from __future__ import annotations

from dataclasses import replace

from ..records import Answer, Hit, Quote
from .render import plain_text
from .texts import text


def compose(question: str, language: str, hits: list[Hit], picked: list[Quote], *,
            urgent: bool, notes: tuple[str, ...] = ()) -> Answer:
    """The answer: urgent advice first, the quoted sentences (each citing its passage by position
    in `hits`), the cited sources, the disclaimer. `hits` stay in the answer, best first."""
    quotes = tuple(replace(q, language=q.language or hits[q.n].chunk.language) for q in picked)
    return _with_text(Answer(question=question, language=language, text="", hits=tuple(hits), urgent=urgent,
                             notes=tuple(notes), quotes=quotes))


def no_answer(question: str, language: str, *, urgent: bool, notes: tuple[str, ...] = ()) -> Answer:
    """Abstention: say the sources are silent, suggest a clinician; no passages presented."""
    return _with_text(Answer(question=question, language=language, text="", hits=(), abstained=True, urgent=urgent,
                             notes=tuple(notes)))


def message_only(question: str, language: str, key: str, **values: object) -> Answer:
    """A reply that is only a fixed message (empty or unreadable question, ...)."""
    return _with_text(Answer(question=question, language=language, text="", hits=(), abstained=True, notice=key,
                             notes=(text(key, language, **values),)))


def _with_text(answer: Answer) -> Answer:
    return replace(answer, text=plain_text(answer))
