"""The English <-> Indonesian glossary bridge."""

from __future__ import annotations

import re

import pytest

from chatbot.errors import CorpusError
from chatbot.search.glossary import Glossary


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def test_indonesian_question_seen_from_english(glossary):
    view = glossary.view("Apakah ada vaksin untuk CMV?", "id", "en")
    assert "vaccine" in view.text.split()
    assert "vaksin" not in view.text  # the text to embed holds only the English synonyms
    assert "cmv" in view.terms and "vaccine" in view.terms  # names such as CMV cross over for BM25


def test_same_language_view_keeps_the_question_and_adds_synonyms(glossary):
    question = "Apakah ada vaksin untuk CMV?"
    view = glossary.view(question, "id", "id")
    assert view.text == question
    assert {"vaksin", "vaksinasi", "imunisasi", "cmv"} <= set(view.terms)


def test_multi_word_phrase_is_bridged(glossary):
    view = glossary.view("kurang darah", "id", "en")
    assert "anemia" in view.text.split()
    assert "anemia" in view.terms


def test_english_to_indonesian(glossary):
    view = glossary.view("low platelets", "en", "id")
    assert "trombositopenia" in view.text.split()


def test_question_without_glossary_terms_has_an_empty_bridge(glossary):
    view = glossary.view("xylophone zebra", "en", "id")
    assert view.text == "" and view.terms == ("xylophone", "zebra")


def test_matching_ignores_case_and_needs_whole_words(glossary):
    assert "vaccine" in glossary.view("VAKSIN", "id", "en").text
    assert glossary.view("vaksinnya", "id", "en").text == ""


def write_glossary(tmp_path, body: str):
    f = tmp_path / "glossary.toml"
    f.write_text(body, encoding="utf-8")
    return f


def test_longest_match_wins(tmp_path):
    f = write_glossary(tmp_path, '[[term]]\nen = ["quux"]\nid = ["zorp"]\n'
                                 '[[term]]\nen = ["quux frob"]\nid = ["zorp blat"]\n'
                                 '[[term]]\nen = ["frobnicate"]\nid = ["blat"]\n')
    g = Glossary.load(f)
    assert g.view("apa itu zorp blat", "id", "en").text == "quux frob"
    assert g.view("apa itu zorp", "id", "en").text == "quux"
    assert g.view("zorp dan blat", "id", "en").text == "quux frobnicate"


def test_longest_match_with_the_built_in_glossary(glossary):
    # "sel darah merah" is one term (red blood cells), not "darah" (blood) on its own
    view = glossary.view("sel darah merah", "id", "en")
    assert "red blood cells" in view.text
    assert not re.search(r"(^| )blood( |$)", view.text.replace("red blood cell", ""))


def test_corpus_glossary_extends_the_built_in_one(tmp_path, glossary):
    assert glossary.view("sitomegalovirus", "id", "en").text == ""
    f = write_glossary(tmp_path, '[[term]]\nen = ["cytomegalovirus"]\nid = ["sitomegalovirus"]\n')
    extended = Glossary.load(f)
    assert extended.view("sitomegalovirus", "id", "en").text == "cytomegalovirus"
    assert len(extended.entries) == len(glossary.entries) + 1
    assert "vaccine" in extended.view("vaksin", "id", "en").text  # built-in terms are still there


def test_bad_toml_names_the_file(tmp_path):
    f = write_glossary(tmp_path, '[[term]\nen = ["x"')
    with pytest.raises(CorpusError, match=re.escape(f"cannot read glossary {f}")):
        Glossary.load(f)


def test_missing_glossary_file_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="cannot read glossary"):
        Glossary.load(tmp_path / "nope.toml")
