"""BM25: ranking sanity, a non-negative idf, checked parameters, stopword-free tokens."""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.search.bm25 import BM25
from chatbot.text import STOPWORDS, tokenize

CORPUS = [
    "CMV is transmitted through saliva urine and breast milk",
    "there is no commercially available vaccine for CMV",
    "ganciclovir and valganciclovir treat CMV infection",
    "NEC risk factors include prematurity and low birth weight",
    "vaksin untuk CMV belum tersedia",
]


@pytest.fixture(scope="module")
def bm25() -> BM25:
    return BM25([tokenize(t) for t in CORPUS])


def test_the_passage_with_the_query_terms_ranks_first(bm25):
    assert int(np.argmax(bm25.scores(tokenize("Is there a vaccine for CMV?")))) == 1
    assert int(np.argmax(bm25.scores(tokenize("ganciclovir treatment")))) == 2
    assert int(np.argmax(bm25.scores(tokenize("risk factors for NEC")))) == 3


def test_rare_terms_weigh_more_than_common_ones(bm25):
    scores = bm25.scores(["cmv", "saliva"])
    assert int(np.argmax(scores)) == 0
    # "cmv" is in four passages, "saliva" in one: the rare term carries the score
    assert bm25.scores(["saliva"])[0] > bm25.scores(["cmv"])[0]


def test_scores_have_one_entry_per_passage_and_zero_without_matches(bm25):
    scores = bm25.scores(["hepatitis"])
    assert scores.shape == (len(CORPUS),) and scores.dtype == np.float32
    assert not scores.any()


def test_idf_is_never_negative():
    # "cmv" is in every passage: the classic Robertson idf would be negative here
    bm = BM25([["cmv", "a"], ["cmv", "b"], ["cmv", "c"]])
    assert bm.idf("cmv") > 0 and bm.idf("a") > 0 and bm.idf("missing") is None
    assert (bm.scores(["cmv"]) > 0).all()


def test_repeated_query_terms_count_once(bm25):
    np.testing.assert_array_equal(bm25.scores(["vaccine"]), bm25.scores(["vaccine", "vaccine", "vaccine"]))


def test_term_frequency_saturates():
    bm = BM25([["cmv"], ["cmv"] * 2, ["cmv"] * 20, ["other"]], k1=1.2, b=0.0)
    one, two, twenty, _ = bm.scores(["cmv"])
    assert one < two < twenty
    assert (twenty - two) / 18 < (two - one) / 1  # each extra occurrence adds less
    assert twenty < one * (1.2 + 1)  # bounded by idf * (k1 + 1); one occurrence scores idf when b=0


def test_length_normalisation_follows_b():
    docs = [["cmv", "x"], ["cmv"] + ["filler"] * 30, ["other"]]
    short, long_, _ = BM25(docs, b=0.75).scores(["cmv"])
    assert short > long_
    short, long_, _ = BM25(docs, b=0.0).scores(["cmv"])
    assert short == pytest.approx(long_)


@pytest.mark.parametrize("k1,b", [(-0.1, 0.75), (1.2, -0.01), (1.2, 1.5)])
def test_bad_parameters_are_rejected_with_their_values(k1, b):
    with pytest.raises(ValueError, match=f"k1={k1}, b={b}"):
        BM25([["cmv"]], k1=k1, b=b)


def test_empty_corpus_scores_nothing():
    assert BM25([]).scores(["cmv"]).shape == (0,)


def test_tokenize_lowercases_and_drops_stopwords():
    assert tokenize("What is the dose of Ganciclovir?") == ["dose", "ganciclovir"]
    assert tokenize("Apakah ada vaksin untuk CMV?") == ["vaksin", "cmv"]
    assert tokenize("CMV-related anemia_risk") == ["cmv", "related", "anemia", "risk"]
    assert not set(tokenize(" ".join(sorted(STOPWORDS))))


def test_a_generator_of_passages_scores_like_a_list():
    """The retriever feeds passages one at a time (a MedQuAD-size collection's terms never sit in
    memory all at once); the scores are those of the same passages given as a list."""
    docs = [tokenize(t) for t in CORPUS]
    listed, streamed = BM25(docs), BM25(d for d in docs)
    for query in (["cmv"], ["transfusion", "irradiated"], ["nothing-here"]):
        assert listed.scores(query).tolist() == streamed.scores(query).tolist()
    assert streamed.n == len(docs)


def test_scores_follow_the_okapi_formula():
    """Figures worked out by hand: idf = ln(1 + (n - df + 0.5) / (df + 0.5)), k1 = 1.2, b = 0.75."""
    import math

    bm = BM25([["a", "b"], ["a"], ["c", "c", "c"]])
    avg = 2.0
    norm = [1.2 * (0.25 + 0.75 * n / avg) for n in (2, 1, 3)]
    idf_a, idf_c = math.log(1 + (3 - 2 + 0.5) / 2.5), math.log(1 + (3 - 1 + 0.5) / 1.5)
    expected_a = [idf_a * 2.2 / (1 + norm[0]), idf_a * 2.2 / (1 + norm[1]), 0.0]
    expected_c = [0.0, 0.0, idf_c * 3 * 2.2 / (3 + norm[2])]
    assert bm.scores(["a"]).tolist() == pytest.approx(expected_a, rel=1e-6)
    assert bm.scores(["c", "c"]).tolist() == pytest.approx(expected_c, rel=1e-6)
