"""Properties over arbitrary text: cleaning, chunking, language detection, question cleaning,
the glossary bridge and BM25 never raise and keep their promises, whatever a document or a
patient types."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatbot.ingest import langid
from chatbot.search.bm25 import BM25
from chatbot.text import tokenize
from chatbot.serve.engine import clean_question
from chatbot.ingest.chunking import chunk_document
from chatbot.ingest.cleaning import clean_text, load_rules
from chatbot.search.glossary import Glossary
from chatbot.records import Document

RULES = load_rules()
GLOSSARY = Glossary.load()
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every category: letters, marks, digits, punctuation, symbols, separators, controls, format,
# private-use and unassigned code points. Lone surrogates (Cs) are not text: they cannot come
# out of a UTF-8 file; they only reach a question (undecodable argv bytes, JSON escapes).
ANY_CHAR = st.characters(exclude_categories=("Cs",))
ANY_CHAR_OR_SURROGATE = st.characters(categories=("L", "M", "N", "P", "S", "Z", "C"))
WORDS = ["CMV", "anemia", "transfusion", "bayi", "prematur", "darah", "How is CMV transmitted?",
         "Apakah ada vaksin untuk CMV?", "The virus spreads through saliva.", "Dr. Smith said so. Then 3 more."]
CHROME = ["4 Comments", "Leave a Reply", "Your email address will not be published.", "*", "Personalize",
          "Which best describes you?", "Article Review Status", "Under Review", "Approved", "References",
          "Have a follow-up question?", "Professional Medical Disclaimer", "Editor: MedTechNews.Uk",
          "TrueNAS by Esdebe", "Thank you to our Sponsor Esdebe", "Medical Advisory Board",
          "Last updated: 2025 View editorial policy", "** Main Story **"]
STRUCTURE = ["Symptoms", "How is CMV transmitted?", "• Fever and rash", "• ", "- Blood tests", "  * indented item", "1. Rest",
             "2) Fluids", "# Treatment", "## Risk Factors", "Gejala CMV", "Name | Dose | Days", "CMV | 5 mg/kg | 14",
             "continued line without a mark", "---", "#", "•"]
MARKUP = ["•", "• ", "- ", "* ", "1. ", "12) ", "# ", "## ", "---", "|", "\t", "  ", ":", "?", ".", "…", "\u00a0",
          "\u2028", "\x0b", "\x0c", "\x85", "\u200b", "\ufeff", "\u202e"]


def _line() -> st.SearchStrategy[str]:
    piece = st.one_of(st.text(ANY_CHAR, max_size=12), st.sampled_from(WORDS), st.sampled_from(MARKUP))
    long_line = st.lists(st.sampled_from(WORDS), min_size=10, max_size=60).map(" ".join)  # over the word budget
    return st.one_of(st.lists(piece, max_size=8).map("".join), long_line, st.sampled_from(STRUCTURE), st.sampled_from(CHROME),
                     st.just(""), st.just("   "))


@st.composite
def documents(draw) -> str:
    """Text as a corpus file holds it: lines of anything, chrome and markup, any line ending."""
    lines = draw(st.lists(_line(), max_size=25))
    out = ""
    for line in lines:
        out += line + draw(st.sampled_from(["\n", "\n", "\n\n", "\n\n", "\r\n", "\r", "\r\n\r\n"]))
    return out + draw(st.text(ANY_CHAR, max_size=5))


def input_lines(text: str) -> set[str]:
    return {line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")}


# --- cleaning ---------------------------------------------------------------------------------


@PROPERTY
@given(documents())
@example("4 Comments\nnice article\n\nreal text")
@example("Article Review Status\n\nUnder Review\n\nThe virus spreads.")
def test_cleaning_keeps_only_verbatim_non_chrome_lines(text):
    cleaned = clean_text(text, RULES)
    original = input_lines(text)
    for line in cleaned.split("\n"):
        if not line:
            continue
        assert line in original, f"{line!r} is not a line of the input"
        assert line.strip(), f"whitespace-only line {line!r} kept"
        for rule in RULES:
            assert not (rule.line and rule.line.fullmatch(line.strip())), f"{line!r} survived rule {rule.name!r}"
            assert not (rule.block and rule.block.fullmatch(line.strip())), f"{line!r} opens block {rule.name!r}"
    assert "\n\n\n" not in cleaned and cleaned == cleaned.strip("\n")


@PROPERTY
@given(documents())
def test_cleaning_is_idempotent(text):
    once = clean_text(text, RULES)
    assert clean_text(once, RULES) == once


# --- chunking ---------------------------------------------------------------------------------


@PROPERTY
@given(documents())
@example("Heading\n\n# Another\n\nLast heading")
@example("• one\n• two\ncontinued\n\n1. a\n2) b")
def test_chunks_are_exact_ordered_slices_that_cover_every_character(text):
    doc = Document(id="d", title="t", text=clean_text(text, RULES), language="en")
    chunks = chunk_document(doc)
    assert len({c.id for c in chunks}) == len(chunks)
    previous_end = 0
    for n, c in enumerate(chunks):
        assert c.text == doc.text[c.start:c.end]
        assert c.text.strip(), f"chunk {n} is empty or whitespace only: {c.text!r}"
        assert c.start >= previous_end, f"chunk {n} overlaps or goes back"
        assert c.position == n and c.doc_id == "d" and c.language in langid.SUPPORTED
        # nothing but whitespace may fall between passages: no text is silently dropped
        assert not doc.text[previous_end:c.start].strip(), f"dropped {doc.text[previous_end:c.start]!r}"
        previous_end = c.end
    assert not doc.text[previous_end:].strip(), f"dropped the end {doc.text[previous_end:]!r}"


@PROPERTY
@given(documents())
def test_every_word_of_the_document_is_in_some_chunk(text):
    doc = Document(id="d", title="t", text=clean_text(text, RULES), language="en")
    joined = "\n".join(c.text for c in chunk_document(doc))
    for paragraph in doc.text.split("\n\n"):
        for word in paragraph.split():
            assert word in joined, f"word {word!r} of paragraph {paragraph!r} is in no chunk"


def test_long_paragraph_without_sentence_ends_stays_whole():
    text = " ".join(["word"] * 400)  # over the word budget, nowhere to split
    chunks = chunk_document(Document(id="d", title="t", text=text, language="en"))
    assert [c.text for c in chunks] == [text]


# --- language detection -----------------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.text(ANY_CHAR, max_size=200), documents()))
@example("")
@example("CMV")
@example("Apakah ada vaksin untuk CMV?")
def test_language_detection_always_names_a_supported_language(text):
    first = langid.detect(text)
    langid._langdetect_probs.cache_clear()  # the cache would hide a detector that varies between calls
    second = langid.detect(text)
    assert first.language in langid.SUPPORTED
    assert isinstance(first.detected, str) and first.detected
    assert 0.0 <= first.confidence <= 1.0 + 1e-9
    assert first == second


# --- question cleaning ------------------------------------------------------------------------


# controls and format characters are rare among all code points: draw them on purpose too
INVISIBLE = st.characters(categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"))
QUESTIONS = st.one_of(st.text(ANY_CHAR_OR_SURROGATE, max_size=200),
                      st.lists(st.one_of(st.sampled_from(WORDS + MARKUP), st.text(ANY_CHAR_OR_SURROGATE, max_size=3),
                                         INVISIBLE)).map("".join))


@PROPERTY
@given(QUESTIONS)
@example("\u202eCMV\u2066 \t\n\r  vaksin\x00\ufeff")
@example("How is CMV trans\u00admitted?")  # a soft hyphen pasted from a web page
@example("Apakah ada vaksin\u2063 untuk CMV\U000e0041\U000e0042?")  # invisible separator, tag characters
def test_clean_question_leaves_no_control_or_format_characters(question):
    cleaned = clean_question(question)
    invisible = [f"U+{ord(ch):04X} {unicodedata.category(ch)}" for ch in cleaned if unicodedata.category(ch) in ("Cc", "Cf", "Cs")]
    assert not invisible, f"control/format characters left in {cleaned!r}: {invisible}"


@PROPERTY
@given(QUESTIONS)
@example("How is CMV\u00a0\u2003transmitted?\u200b")
@example("\ud800abc \udcff def")
def test_clean_question_is_trimmed_single_spaced_and_idempotent(question):
    cleaned = clean_question(question)
    assert isinstance(cleaned, str)
    assert cleaned == cleaned.strip()
    assert not any(a.isspace() and b.isspace() for a, b in zip(cleaned, cleaned[1:])), f"double space in {cleaned!r}"
    assert clean_question(cleaned) == cleaned


@pytest.mark.parametrize("value", [None, 42, b"bytes"])
def test_clean_question_accepts_non_strings(value):
    assert isinstance(clean_question(value), str)


# --- glossary bridge and BM25 -----------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.text(ANY_CHAR, max_size=200), st.lists(st.sampled_from(WORDS + ["kurang darah", "penekan imun"])).map(" ".join)))
def test_glossary_view_never_raises_and_keeps_same_language_text(text):
    for source in langid.SUPPORTED:
        for target in langid.SUPPORTED:
            view = GLOSSARY.view(text, source, target)
            assert all(isinstance(t, str) and t for t in view.terms)
            if source == target:
                assert view.text == text


@PROPERTY
@given(st.lists(st.one_of(st.text(ANY_CHAR, max_size=80), st.sampled_from(WORDS)), max_size=12),
       st.one_of(st.text(ANY_CHAR, max_size=80), st.sampled_from(WORDS)))
def test_bm25_scores_are_finite_and_never_negative(passages, query):
    corpus = [tokenize(p) for p in passages]
    assert all(isinstance(t, str) and t for doc in corpus for t in doc)
    scores = BM25(corpus).scores(tokenize(query))
    assert scores.shape == (len(passages),)
    assert all(math.isfinite(float(s)) and s >= 0 for s in scores)
