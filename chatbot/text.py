"""One text toolkit for every stage: word tokens, stopwords, sentences and bullets.

Chunking, BM25, the glossary and the answer chooser all cut text with these, so a word means
the same thing everywhere: "anti-CMV" is the tokens "anti" and "cmv" in a passage, in a
question and in a glossary phrase alike.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; hyphens, slashes and apostrophes cut
BULLET = re.compile(r"^\s*(?:[•\-*–·▪◦]|\d{1,2}[.)])\s+")
# a sentence ends at . ! ? … (closing quotes or brackets may follow) before a capital or digit
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])")
TRAILING_REF = re.compile(r"\s+\d{1,2}(?:,\s*\d{1,2})*$")  # citation numbers a source puts after a bullet

# Words too common in questions to carry meaning; kept short on purpose.
STOPWORDS = frozenset(
    """a an the is are was were be been am do does did of in on at to for from with and or but not no
    if it its this that these those what which who how when where why can could should would will i my me you
    your we our they their he she his her there about as by into than then so
    yang dan di ke dari untuk dengan pada adalah ini itu apa apakah bagaimana kenapa mengapa bisa dapat
    saya aku kami kita anda ada atau juga tidak akan sudah oleh nya""".split()
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords included (a hyphenated word gives its parts)."""
    return _TOKEN.findall(text.lower())


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords: what BM25 indexes and what questions match."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def split_sentences(text: str) -> list[str]:
    """The sentences of one line or paragraph, verbatim and stripped."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (whitespace between them belongs to neither)."""
    cuts = [0] + [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]
    return [(s, e) for s, e in zip(cuts, cuts[1:]) if text[s:e].strip()]


def is_bullet(line: str) -> bool:
    return bool(BULLET.match(line))


def strip_bullet(line: str) -> str:
    """A list item's text without its bullet mark and trailing reference numbers."""
    return TRAILING_REF.sub("", BULLET.sub("", line.strip()))
