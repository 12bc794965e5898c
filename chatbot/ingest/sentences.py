"""The sentences of a passage as an answer may quote them: verbatim, in reading order, without
headings, bullet marks or reference numbers; a list's intro carries its items; a FAQ item's
answer is marked as such (its stored question is the passage's section heading, or the
document's title when the title is a question and the passage opens the document)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..records import Chunk
from ..text import is_bullet, split_sentences, strip_bullet

_SHORT_ITEM = 8  # a list of items up to this many words each is quoted whole after its intro
_LIST_WORDS = 90  # so is a list of up to 4 longer items with at most this many words in all
_MIN_WORDS = 3
# a heading that asks its question, then adds a short subtitle: "Can CMV Cause Anemia? Exploring the Connection"
_SUBTITLED = re.compile(r"^(.{8,}\?)\s+[^\s?]+(?:\s+[^\s?]+){0,4}$")  # words split one way only: no backtracking blow-up
# a clause cut from the sentence before it ("So that we can jump in."): it leans on that one, and
# says nothing when that one says nothing (answer/choose.py)
CONTINUES = re.compile(r"^so that\b", re.IGNORECASE)
# a sentence that leans on the one before it: quoted alone it would not make sense
_LEANS_BACK = re.compile(r"^(this|these|that|those|such|it|they|however|therefore|thus|hal ini|hal tersebut|ini|"
                         r"kondisi ini|namun|oleh karena itu|mereka)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    """A quotable sentence of passage `n`: its position `i` in the passage, the list items it
    introduces, whether it belongs to a FAQ answer, and whether it leans on the sentence before."""

    n: int
    i: int
    text: str
    items: tuple[str, ...] = ()
    faq: bool = False
    leans_back: bool = False

    @property
    def full(self) -> str:
        """The sentence with its list items, as one text."""
        return " ".join((self.text, *self.items))

    @property
    def words(self) -> int:
        return len(self.full.split())


def stored_question(chunk: Chunk) -> str:
    """The question a FAQ passage answers ("" when it is not a FAQ item)."""
    heading = chunk.section.split(" › ")[-1].strip()
    if heading.endswith("?"):
        return heading
    if asked := _SUBTITLED.match(heading):
        return asked.group(1)
    title = chunk.title.strip()
    return title if title.endswith("?") and chunk.position == 0 and heading in ("", title) else ""


def passage_sentences(chunk: Chunk, n: int = 0) -> list[Sentence]:
    """The quotable sentences of one passage (number `n` of an answer's hits), in reading order."""
    heads = {h.strip() for h in chunk.section.split(" › ")} | {chunk.title.strip()}
    lines = [line for line in chunk.text.split("\n") if line.strip() and line.strip() not in heads]
    faq = bool(stored_question(chunk))
    out: list[Sentence] = []
    for k, line in enumerate(lines):
        bullet = is_bullet(line)
        parts = split_sentences(strip_bullet(line)) or [""]
        items: tuple[str, ...] = ()
        if not bullet and parts[-1].endswith(":"):
            items = _list_items(lines, k)
        for j, part in enumerate(parts):
            last = j == len(parts) - 1
            if len(part.split()) < _MIN_WORDS and not (last and items):
                continue
            out.append(Sentence(n, len(out), part, items if last else (), faq, bool(_LEANS_BACK.match(part) or CONTINUES.match(part))))
    return out


def sentence_places(chunk: Chunk, text: str, sentences: list[Sentence] | None = None) -> list[tuple[str, int, int]]:
    """Where each of `sentence_texts(chunk)` lies in `text` (the passage as embedded), as
    (sentence text, start, end): a sentence with list items runs to the end of its last item.
    A text not found verbatim is left out; each text once, at its first place."""
    places: dict[str, tuple[int, int]] = {}
    at = 0
    for s in passage_sentences(chunk) if sentences is None else sentences:
        start = text.find(s.text, at)
        if start < 0:
            continue
        end = at = start + len(s.text)
        places.setdefault(s.text, (start, end))
        if s.items and (last := _after(text, s.items, end)) >= 0:
            places.setdefault(s.full, (start, last))
    if (asked := stored_question(chunk)) and (start := text.find(asked)) >= 0:
        places.setdefault(asked, (start, start + len(asked)))
    return [(t, a, b) for t, (a, b) in places.items()]


def _after(text: str, items: tuple[str, ...], at: int) -> int:
    """Where the last of `items` ends when they follow each other in `text` from `at` (-1: not found)."""
    for item in items:
        found = text.find(item, at)
        if found < 0:
            return -1
        at = found + len(item)
    return at


def _list_items(lines: list[str], k: int) -> tuple[str, ...]:
    """The bullet lines after line `k`, when short enough to quote whole with their intro."""
    items = []
    for line in lines[k + 1:]:
        if not is_bullet(line):
            break
        items.append(strip_bullet(line))
    short = all(len(t.split()) <= _SHORT_ITEM for t in items)
    if not short and (len(items) > 4 or sum(len(t.split()) for t in items) > _LIST_WORDS):
        return ()
    return tuple(items)


def sentence_texts(chunk: Chunk, sentences: list[Sentence] | None = None) -> list[str]:
    """Every text the answer chooser compares with a question for this passage: each sentence
    alone and with its list items, and the FAQ question it answers (embedded at build time).
    `sentences`: the passage's, when the caller has split it already."""
    texts = [t for s in (passage_sentences(chunk) if sentences is None else sentences) for t in (s.text, s.full)]
    return list(dict.fromkeys(texts + ([stored_question(chunk)] if stored_question(chunk) else [])))
