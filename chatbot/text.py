"""One text toolkit for every stage: word tokens, stopwords, sentences and bullets.

Chunking, BM25, the glossary and the answer chooser all cut text with these, so a word means
the same thing everywhere: "anti-CMV" is the tokens "anti" and "cmv" in a passage, in a
question and in a glossary phrase alike.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; hyphens, slashes and apostrophes cut
_TOKEN_CHAR = re.compile(r"[^\W_]", re.UNICODE)  # what a token is made of
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
    saya aku kami kita anda ada atau juga tidak akan sudah oleh nya
    sy yg dgn krn tdk gk ga gak udah sdh blm bgt aja kalo klo gmn gimana knp brp hrs dok kmrn trus""".split()  # chat spelling
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords included (a hyphenated word gives its parts)."""
    return _TOKEN.findall(text.lower())


def words_among(text: str, wanted: set[str]) -> frozenset[str]:
    """The words of `wanted` (each a token itself) that are tokens of `text`: `wanted & set(words(text))`,
    without cutting the whole text into words (a few words looked for in a hundred passages)."""
    text = text.lower()
    return frozenset(w for w in wanted if _has_token(text, w))


def _has_token(text: str, word: str) -> bool:
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not _TOKEN_CHAR.match(text, at - 1)) and (end == len(text) or not _TOKEN_CHAR.match(text, end)):
            return True
        at = text.find(word, at + 1)
    return False


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords: what BM25 indexes and what questions match."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


_STEMMERS = {"en": "english", "id": "indonesian"}


@lru_cache(maxsize=8)
def _stemmer(language: str):
    import Stemmer  # PyStemmer: the Snowball stemmers, English and Indonesian among them

    return Stemmer.Stemmer(_STEMMERS[language])


def stems(tokens: list[str], language: str) -> list[str]:
    """Tokens reduced to their stems in `language` ("penularan" and "menular" -> "ular",
    "platelets" -> "platelet"), so lexical matching survives affixes; other languages as they are."""
    if language not in _STEMMERS:
        return list(tokens)
    return _stemmer(language).stemWords(tokens)


def terms(text: str, language: str) -> list[str]:
    """What lexical search indexes and matches: content tokens, stemmed in the text's language."""
    return stems(tokenize(text), language)


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


_COMMON = 6.0  # words at least this frequent (Zipf scale) carry no topic


@lru_cache(maxsize=65536)
def rarity(word: str, language: str) -> float:
    """How much a word says about a topic: 6 minus its Zipf frequency in everyday `language` or in
    English, whichever is higher (wordfreq's lists), at least 0; unknown words (and most names of
    diseases and drugs) count 6, "the" counts 0."""
    from wordfreq import zipf_frequency

    zipf = max(zipf_frequency(word, language, wordlist="small"), zipf_frequency(word, "en", wordlist="small"))
    return max(0.0, _COMMON - zipf)
