"""Does what we are about to quote talk about what the patient asked?

Passages can be close in meaning to a question about another topic ("early signs of dengue" is
near a passage on CMV symptoms). Before answering, the question's content words are looked for
in the passages the answer quotes: literally, through the glossary in the passage's language,
as another form of the same English word ("red" and "redness"), or as a near spelling (a typo).
Each word counts by how rare it is in everyday language (wordfreq's frequency lists for English
and Indonesian), so "dengue" decides and "dangerous" hardly counts. A question whose rare words
are nowhere in the quoted passages is about something the sources do not cover.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..ingest.chunking import topic_text
from ..ingest.sentences import stored_question
from ..kinds import asking_part, patient_asks, stored_asks
from ..records import Hit
from ..search.glossary import Glossary
from ..text import STOPWORDS, rarity, tokenize, words

_MIN_LETTERS = 3
_NAMED = 2.0  # a word at least this rare (wordfreq's scale, 6 = not in the lists) names something: a medicine
_NYA = re.compile(r"-?nya$")  # Indonesian "its": "dosis steroidnya"
# The medicine a dose question is about: "mg of paracetamol", "dose of the IVIG", "dosis ganciclovir", "the ibuprofen dose".
# Lookaheads, so that "the dose of X" yields X although "the dose" matched first.
_WORD_RE = r"([^\W\d_][\w-]{2,})"
_DOSE_OF = (re.compile(rf"(?=\b(?:mg|milligrams?|doses?|dosage|dosis|takaran)\s+(?:of\s+(?:the\s+|a\s+|an\s+)?|obat\s+)?{_WORD_RE})", re.IGNORECASE),
            re.compile(rf"(?=\b{_WORD_RE}\s+(?:doses?|dosage)\b)", re.IGNORECASE))
# words before "dose" that say which dose, not of what: "the induction dose of ganciclovir"
_DOSE_MODIFIERS = frozenset("""induction maintenance loading starting initial first second third booster maximum minimum daily weekly
monthly single double usual normal standard recommended correct right safe pediatric paediatric newborn neonatal infant child
children adult adults oral intravenous iv im subcutaneous prophylaxis prophylactic preventive treatment therapeutic high low
higher lower tinggi rendah awal harian anak bayi dewasa""".split())


def coverage(question: str, language: str, hits: list[Hit], glossary: Glossary, least: float = 0.0) -> float:
    """The share of the question's content (words weighted by rarity) found in the passages;
    `least`: only words at least this rare count (1 when there are none)."""
    weights = _weights(question, language, least)
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    passages = _by_language(hits)
    found = sum(w for t, w in weights.items() if w > 0 and _found(t, language, passages, glossary))
    return found / total


def _weights(text: str, language: str, least: float = 0.0) -> dict[str, float]:
    """The content words of a text with their rarity (those at least `least` rare)."""
    terms = [t for t in dict.fromkeys(tokenize(text)) if len(t) >= _MIN_LETTERS and not t.isdigit()]
    return {t: w for t in terms if (w := rarity(t, language)) >= least}


_NAMES = 2.5  # a stored question's word at least this rare names its topic ("encephalitis", "anemia", "NEC")
_ASKED_NAMED = 0.7  # the share of a stored question's words (weighted by rarity) the patient must have used
_ASKED_MENTIONED = 0.6  # ...and the share of what the message's own question names (by rarity) the passage must mention


_QUOTED = re.compile(r"[\"“”„«»][^\"“”„«»]*[?？][^\"“”„«»]*[\"“”„«»]")  # a question in quotation marks: someone else asked it


def asks_the_stored_question(message: str, language: str, hit: Hit, glossary: Glossary) -> bool:
    """Does the patient ask what this passage's stored question asks (a FAQ heading, a MedQuAD
    record's title), about what it names? Both ask for the same kind of answer (a definition, the
    symptoms, how it is diagnosed: kinds.py); the message uses most of the stored question's words
    by rarity, among them a word that names something ("... they said it's hypersensitivity
    pneumonitis. How do they diagnose it?" asks "How to diagnose Hypersensitivity Pneumonitis ?");
    and the passage mentions most of what the message's own question names (the rare words of
    its clauses that end with "?": "Obat CMV nya ada efek samping ke trombosit?" does not ask
    "What are the treatments for Thrombocytopenia ?", whose answer never names CMV). A question
    that names nothing ("What should I do?") asks no stored question, nor does one quoted inside
    the message ('The nurse asked "how is CMV transmitted?"')."""
    stored = stored_question(hit.chunk)
    if not stored:
        return False
    message = _QUOTED.sub(" ", message)
    if not patient_asks(message) & stored_asks(stored):
        return False
    if coverage(asking_part(message), language, [hit], glossary, least=_NAMES) < _ASKED_MENTIONED:
        return False
    lang = hit.chunk.language
    weights = _weights(stored, lang)
    total = sum(weights.values())
    said = {language: _words_of((message,))}
    found = [t for t, w in weights.items() if w > 0 and _found(t, lang, said, glossary)]
    return (total > 0 and any(weights[t] >= _NAMES for t in found)
            and sum(weights[t] for t in found) / total >= _ASKED_NAMED)


def unnamed_medicines(question: str, language: str, hits: list[Hit], glossary: Glossary) -> list[str]:
    """The medicines a dose question names that the passages do not: a dose quoted for another
    medicine (an adult antiviral dose to a parent asking about paracetamol) must not be the answer."""
    named = [m.group(1).lower() for pattern in _DOSE_OF for m in pattern.finditer(question)]
    named = [w for w in dict.fromkeys(named) if w not in _DOSE_MODIFIERS and rarity(w, language) >= _NAMED]
    if not named:
        return []
    passages = _by_language(hits)
    return [w for w in named if not any(_found(v, language, passages, glossary) for v in {w, _NYA.sub("", w)} if v)]


GROUPS = Path(__file__).resolve().parent.parent / "data" / "medicine_groups.toml"


@dataclass(frozen=True)
class MedicineGroups:
    """data/medicine_groups.toml: what names a medicine or a treatment, what says a group does not
    apply, and per group (pregnancy, breastfeeding) what names it and the words a quote for it must use."""

    medicine: tuple[re.Pattern, ...]
    names: tuple[re.Pattern, ...]
    negated: re.Pattern
    groups: tuple[tuple[tuple[re.Pattern, ...], tuple[str, ...]], ...]  # (asked, mention) per group; its name is for readers


def _compiled(patterns: list[str]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


@lru_cache(maxsize=4)
def medicine_groups(path: Path = GROUPS) -> MedicineGroups:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return MedicineGroups(_compiled(data["medicine"]), _compiled(data["names"]), re.compile(data["negated"], re.IGNORECASE),
                          tuple((_compiled(g["asked"]), tuple(g["mention"])) for g in data["group"]))


@dataclass(frozen=True)
class GroupQuestion:
    """A question about a medicine for someone in a group: the words of each group named, of which
    a quote must use one, and the medicines named, each of which it must name too."""

    groups: tuple[tuple[str, ...], ...]
    medicines: tuple[str, ...]


def group_question(question: str, path: Path = GROUPS) -> GroupQuestion | None:
    """The groups (pregnancy, breastfeeding) a question about a medicine or a treatment says the
    person belongs to, and the medicines it names: whether a medicine is safe in pregnancy is not
    answered by its usual dose. None when it names no medicine or treatment, or no group, or says
    the group does not apply ("I'm not pregnant", "sy ga hamil")."""
    rules = medicine_groups(path)
    medicines = tuple(dict.fromkeys(m.group(0).lower() for p in rules.names for m in p.finditer(question)))
    if not medicines and not any(p.search(question) for p in rules.medicine):
        return None

    def named(pattern: re.Pattern) -> bool:
        return any(not rules.negated.search(question[max(0, m.start() - 30): m.start()]) for m in pattern.finditer(question))

    groups = tuple(mention for asked, mention in rules.groups if any(named(p) for p in asked))
    return GroupQuestion(groups, medicines) if groups else None


def fits_group_question(asked: GroupQuestion, question_language: str, texts: tuple[str, ...], language: str,
                        glossary: Glossary) -> bool:
    """Do the texts of one quote in `language` (the sentence, its list items, its heading) speak of
    each group the question names, and name each medicine it names (as written, through the
    glossary, or misspelt: "valgansiklovir" is valganciclovir)?"""
    words_there, lines = _words_of(texts)
    return (all(any(_said(tuple(words(t)), words_there, lines) for t in mention) for mention in asked.groups)
            and all(_found(m, question_language, {language: (words_there, lines)}, glossary) for m in asked.medicines))


def mentions_any(terms: tuple[str, ...], hits: list[Hit]) -> bool:
    """Does one of the passages (text, title or headings) contain one of the words or phrases, as
    written (a phrase's words in a row in one passage: "poor feeding", "tidak mau menyusu")?"""
    phrases = [tuple(words(t)) for t in terms]
    return any(_said(p, words_there, lines) for words_there, lines in _by_language(hits).values() for p in phrases)


def _found(term: str, language: str, passages: dict[str, tuple[frozenset[str], str]], glossary: Glossary) -> bool:
    for lang, (words_there, lines) in passages.items():
        if term in words_there or any(_said(phrase, words_there, lines) for phrase in glossary.synonyms(term, language, lang)):
            return True
        if lang == language == "en" and any(form in words_there for form in _inflected(term)):
            return True  # "red" in "redness", "bleeds" in "bleeding"
        if len(term) >= 5 and _misspelt(term, words_there):
            return True
    return False


_CLOSE = 0.85  # difflib ratio from which a word of the passages counts as the question's word misspelt


@lru_cache(maxsize=4096)
def _misspelt(term: str, words_there: frozenset[str]) -> bool:
    """Is a word of the passages close to `term` (difflib ratio >= 0.85: "anemai", "trombosit")?
    Kept per (term, passages): one answer asks it of the same passages several times. Only words
    of a length that can reach the cutoff are compared (difflib's real_quick_ratio, done first)."""
    near = [w for w in words_there if 2.0 * min(len(w), len(term)) / (len(w) + len(term)) >= _CLOSE]
    return bool(near and difflib.get_close_matches(term, near, n=1, cutoff=_CLOSE))


def _said(phrase: tuple[str, ...], words_there: frozenset[str], lines: str) -> bool:
    """A glossary phrase is in the passages: a word anywhere, several words in a row in one passage."""
    if len(phrase) <= 1:
        return bool(phrase) and phrase[0] in words_there
    return f" {' '.join(phrase)} " in lines


def _by_language(hits: list[Hit]) -> dict[str, tuple[frozenset[str], str]]:
    """Per language, the passages' words with their titles and headings (chunking.topic_text)."""
    return {lang: _words_of(tuple(topic_text(h.chunk) for h in hits if h.chunk.language == lang))
            for lang in {h.chunk.language for h in hits}}


_INFLECTIONS = ("s", "es", "ed", "d", "ing", "ness", "ly")  # English endings that keep a word's meaning
_MIN_BASE = 3  # letters a word keeps without its ending


@lru_cache(maxsize=4096)
def _inflected(term: str) -> frozenset[str]:
    """Other forms of an English word that mean the same: its base without one ending, and the base
    with another ("bleeds" -> "bleed", "bleeding", "bleeded"...; "red" -> "redness"). Only endings that
    keep the meaning and bases of three letters or more that are not stopwords: a stemmer's
    "production" for "productive", "under" for "underlying" or "a" for "AEDs" would make an
    off-topic question look covered. Indonesian words are left alone: their affixes change the
    meaning ("berdarah", dengue's "bleeding", is not "darah", blood)."""
    bases = {term} | {term[: -len(e)] for e in _INFLECTIONS if term.endswith(e) and len(term) - len(e) >= _MIN_BASE}
    bases = {b for b in bases if b not in STOPWORDS}
    return frozenset({b + e for b in bases for e in _INFLECTIONS} | bases) - {term}


@lru_cache(maxsize=1024)
def _words_of(texts: tuple[str, ...]) -> tuple[frozenset[str], str]:
    """The passages' words as a set, and as one line a passage (to find a phrase's words in a row)."""
    per_passage = [words(t) for t in texts]
    return frozenset(w for ws in per_passage for w in ws), "\n".join(" " + " ".join(ws) + " " for ws in per_passage)
