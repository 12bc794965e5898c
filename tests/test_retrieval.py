"""Retrieval within and across languages: fused, sorted hits with their component scores."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from chatbot.search.retrieval import FusionSettings, Retriever

VACCINE_ANSWER = "no commercially available vaccine"


@pytest.fixture(scope="module")
def hashing_retriever(hashing_index, hashing):
    return Retriever(hashing_index, hashing)


# --- logic, with the hashing embedder ---------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 7])
def test_k_is_respected_and_hits_are_sorted(hashing_retriever, k):
    hits = hashing_retriever.search("Is there a vaccine for CMV?", "en", k=k)
    assert len(hits) == k
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.id for h in hits}) == k


def test_k_larger_than_the_index_returns_every_passage_once(hashing_retriever, hashing_index):
    hits = hashing_retriever.search("CMV", "en", k=500)
    assert len(hits) <= len(hashing_index.chunks)
    assert len({h.chunk.id for h in hits}) == len(hits)


def test_lexical_match_ranks_first_with_hashing(hashing_retriever):
    [top] = hashing_retriever.search("Is there a vaccine for CMV?", "en", k=1)
    assert VACCINE_ANSWER in top.chunk.text


def test_components_are_reported(hashing_retriever):
    [top] = hashing_retriever.search("Is there a vaccine for CMV?", "en", k=1)
    assert set(top.components) == {"hashing-256", "bm25_z"}
    assert top.components["bm25_z"] > 1.0
    assert -1.0 <= top.components["hashing-256"] <= 1.0


def test_glossary_bridges_an_indonesian_question_to_english_passages_for_bm25(hashing_retriever):
    views = hashing_retriever.views("Apakah ada vaksin untuk CMV?", "id")
    assert set(views) == {"en", "id"}
    assert "vaccine" in views["en"].terms and views["id"].text == "Apakah ada vaksin untuk CMV?"


def test_without_bm25_only_the_embedder_scores(hashing_index, hashing):
    retriever = Retriever(hashing_index, hashing, FusionSettings(bm25_weight=0.0))
    hits = retriever.search("Is there a vaccine for CMV?", "en", k=3)
    assert all(set(h.components) == {"hashing-256"} for h in hits)


def test_same_language_bonus_moves_reply_language_passages_up(hashing_index, hashing):
    question = "CMV anemia ganciclovir"
    plain = Retriever(hashing_index, hashing).search(question, "id", k=5)
    boosted = Retriever(hashing_index, hashing, FusionSettings(same_language_bonus=10.0)).search(question, "id", k=5)
    assert sum(h.chunk.language == "id" for h in boosted) >= sum(h.chunk.language == "id" for h in plain)
    assert boosted[0].chunk.language == "id"


# --- the real models --------------------------------------------------------------------------


@pytest.mark.models
def test_english_vaccine_question_finds_the_faq_answer_first(real_retriever):
    hits = real_retriever.search("Is there a vaccine for CMV?", "en", k=5)
    assert VACCINE_ANSWER in hits[0].chunk.text


@pytest.mark.models
def test_indonesian_vaccine_question_finds_the_english_answer(real_retriever):
    hits = real_retriever.search("Apakah ada vaksin untuk CMV?", "id", k=5)
    assert any(VACCINE_ANSWER in h.chunk.text for h in hits[:3])


@pytest.mark.models
def test_indonesian_dose_question_finds_the_indonesian_article(real_retriever):
    hits = real_retriever.search("Berapa dosis ganciclovir?", "id", k=5)
    assert any(h.chunk.doc_id == "cmv-anemia-berulang" for h in hits[:3])


@pytest.mark.models
def test_real_hits_are_sorted_limited_and_carry_every_component(real_retriever, real_embedders):
    hits = real_retriever.search("How is CMV transmitted?", "en", k=4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    expected = {e.id for e in real_embedders} | {"bm25_z"}
    assert set(hits[0].components) == expected
    assert "saliva" in hits[0].chunk.text


def test_a_passage_without_headings_keeps_its_documents_title_as_a_score(tmp_path, hashing):
    """A MedQuAD-like answer names its topic only in the title: the title scores on its own, so a
    question naming the topic finds the passage that does not."""
    from chatbot.index.directory import build_index, load_index
    from chatbot.ingest.chunking import ChunkSettings
    from chatbot.records import Document

    texts = {"Dengue fever": "It spreads through the bites of infected mosquitoes, mostly during the day.",
             "Migraine": "Attacks often start on one side of the head and can last for hours.",
             "Kidney stones": "Drinking enough water every day lowers the chance that they come back."}
    docs = [Document(id=f"d{i}", title=t, text=x, language="en", path=f"d{i}") for i, (t, x) in enumerate(texts.items())]
    build_index(tmp_path / "idx", docs, hashing, ChunkSettings(), "rules", progress=lambda m: None)
    index = load_index(tmp_path / "idx", hashing)
    [top] = Retriever(index, hashing).search("how does dengue fever spread", "en", k=1)
    assert top.chunk.doc_id == "d0" and "head:hashing-256" in top.components
    [plain] = Retriever(index, hashing, FusionSettings(head_weight=0.0)).search("how does dengue fever spread", "en", k=1)
    assert "head:hashing-256" not in plain.components


def test_every_language_gets_its_own_candidates(hashing_index, hashing):
    """Even when another language's passages are nearer, the question's nearest passages in each
    language are candidates (a small Indonesian document inside a large English collection)."""
    retriever = Retriever(hashing_index, hashing)
    q = hashing[0].encode_queries(["Transfusi darah anemia berat"])[0]
    for lang in ("en", "id"):
        rows = retriever._passages[0].nearest(q, lang, 3)
        assert len(rows) == 3 and all(retriever.chunk_lang[r] == lang for r in rows)


def test_the_best_similarity_is_the_nearest_passages_and_reuses_the_answers_search(hashing_index, hashing, monkeypatch):
    """Abstention's best similarity is the highest over every passage, whether a language is held
    in memory or searched through FAISS; within one answer (`seen`) it costs no second FAISS search,
    and nothing is kept from one answer to the next."""
    from chatbot.search import vectors

    q = hashing[0].encode_queries(["How is CMV transmitted?"])[0]
    exact = float((vectors.vectors_of(hashing_index.vectors[0], np.arange(len(hashing_index.chunks))) @ q).max())
    assert Retriever(hashing_index, hashing).best_similarity(hashing[0].id, [q]) == pytest.approx(exact, abs=1e-5)
    monkeypatch.setattr(vectors, "SMALL_LANGUAGE", 0)  # every language searched through FAISS, as in MedQuAD
    retriever = Retriever(hashing_index, hashing)
    lanes = retriever._passages[0]
    assert all(lane.matrix is None for lane in lanes.langs.values())
    calls, real = [], lanes.index

    class Spy:
        def search(self, *args):
            calls.append(args)
            return real.search(*args)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(lanes, "index", Spy())
    seen: dict = {}
    retriever.search("How is CMV transmitted?", "en", k=5, qvecs=[q], seen=seen)
    searched = len(calls)
    assert searched and retriever.best_similarity(hashing[0].id, [q], seen) == pytest.approx(exact, abs=1e-5)
    assert len(calls) == searched  # the answer's own search, looked at again
    retriever.best_similarity(hashing[0].id, [q])
    assert len(calls) == searched + 1  # another answer searches anew
    other = hashing[0].encode_queries(["Apakah ada vaksin CMV?"])[0]
    retriever.best_similarity(hashing[0].id, [other], seen)
    assert len(calls) == searched + 2  # and so does another vector


def _small_index(tmp_path, hashing, docs: dict[str, tuple[str, str, str]]):
    """An index of a few one-passage documents: id -> (title, text, language)."""
    from chatbot.index.directory import build_index, load_index
    from chatbot.ingest.chunking import ChunkSettings
    from chatbot.records import Document

    built = [Document(id=i, title=t, text=x, language=lang, path=i) for i, (t, x, lang) in docs.items()]
    build_index(tmp_path / "idx", built, hashing, ChunkSettings(), "rules", progress=lambda m: None)
    return load_index(tmp_path / "idx", hashing)


def test_a_passage_without_the_questions_rare_word_falls_behind(tmp_path, hashing):
    """"Is there a vaccine for CMV" is not answered by a passage on vaccines in general: the
    passage that names CMV comes first, and the one that does not loses by the anchor weight."""
    index = _small_index(tmp_path, hashing, {
        "general": ("Vaccines", "Is there a vaccine? Vaccines for children protect them; a vaccine is given at the clinic.", "en"),
        "cmv": ("Cytomegalovirus", "No licensed vaccine exists yet for CMV infection.", "en")})
    question = "Is there a vaccine for CMV?"
    plain = Retriever(index, hashing, FusionSettings(anchor_weight=0.0)).search(question, "en", k=2)
    anchored = Retriever(index, hashing).search(question, "en", k=2)
    assert [h.chunk.doc_id for h in anchored] == ["cmv", "general"]
    before = {h.chunk.doc_id: h.score for h in plain}
    after = {h.chunk.doc_id: h.score for h in anchored}
    assert after["cmv"] == pytest.approx(before["cmv"])  # names every rare word: untouched
    assert before["general"] - after["general"] == pytest.approx(FusionSettings().anchor_weight)  # names none


def test_rare_words_of_a_long_story_do_not_anchor(tmp_path, hashing):
    index = _small_index(tmp_path, hashing, {"a": ("Anemia", "Anemia makes people tired.", "en"),
                                             "b": ("CMV", "CMV is a common virus.", "en")})
    retriever = Retriever(index, hashing)
    ids = np.arange(len(retriever.chunks))
    short = retriever._unanchored("Does CMV cause anemia?", "en", ids)
    story = retriever._unanchored("My grandmother in Surabaya has lupus and takes prednisone; last month her doctor "
                                  "said her CMV came back and her blood counts dropped. Does CMV cause anemia?", "en", ids)
    assert short.max() > 0 and not story.any()


def test_an_anchor_in_another_language_is_looked_for_through_the_glossary(tmp_path, hashing):
    """An English question's "vaccine" is "vaksin" in an Indonesian passage; a word the glossary
    does not carry over is not held against a passage in another language."""
    index = _small_index(tmp_path, hashing, {
        "id": ("CMV", "Belum ada vaksin untuk CMV.", "id"),
        "en": ("Other", "Nothing relevant here at all.", "en")})
    retriever = Retriever(index, hashing)
    ids = np.array([i for i, c in enumerate(retriever.chunks) if c.doc_id == "id"])
    assert retriever._unanchored("Is there a vaccine for CMV?", "en", ids).tolist() == [0.0]


def test_a_minority_language_keeps_one_more_place(tmp_path, hashing):
    """Among many English passages, the two best Indonesian ones close to the top both keep a
    place for an English question; with a balanced collection only one does."""
    docs = {f"en{i}": (f"Topic {i}", f"Fever and rash in children, note {i}, see the clinic.", "en") for i in range(25)}
    docs |= {"id1": ("Demam", "Demam dan ruam pada anak.", "id"), "id2": ("Ruam", "Ruam dan demam pada anak kecil.", "id")}
    index = _small_index(tmp_path, hashing, docs)
    settings = FusionSettings(reserve_gap=100.0, anchor_weight=0.0)
    hits = Retriever(index, hashing, settings).search("fever and rash in children", "en", k=5)
    assert sum(h.chunk.language == "id" for h in hits) == 2
    hits = Retriever(index, hashing, replace(settings, minority_share=0.0)).search("fever and rash in children", "en", k=5)
    assert sum(h.chunk.language == "id" for h in hits) == 1


def test_the_words_a_question_looks_for_are_found_as_the_toolkit_cuts_words():
    """The topic check looks for a few words in each candidate without cutting its whole text into
    words; it finds exactly the words text.words would give (hyphens, slashes, apostrophes and
    underscores cut; letters and digits run together)."""
    from chatbot.text import words, words_among

    texts = ["Anti-CMV IgG: positive/negative.", "CMV's spread; cmvs are not cmv_x or 2cmv or cmv2.",
             "Naïve T-cells — sitomegalovirus (CMV) pada bayi", "cmv", "", "xcmv cmvx ccmv", "demam-berdarah DBD"]
    wanted = {"cmv", "anti", "igg", "cells", "naïve", "t", "x", "2cmv", "bayi", "demam", "berdarah", "dbd", "spread", "s"}
    for text_ in texts:
        assert words_among(text_, wanted) == wanted & set(words(text_)), text_


@pytest.mark.models
@pytest.mark.parametrize("question, language", [("How is CMV passed on to a baby?", "en"),
                                                ("Berapa dosis ganciclovir intravena?", "id")])
def test_pending_vectors_give_the_same_hits_as_finished_ones(real_retriever, question, language):
    from concurrent.futures import Future

    from chatbot.search.retrieval import PendingVectors

    class Late(PendingVectors):  # the slow vector is never ready before the others have searched
        def ready(self):
            return [None if n in self.later else self._made(n) for n in range(len(self.embedders))]

    # few candidates per embedder (the seed index has 38 passages), so that e5 brings some of its own
    r = Retriever(real_retriever.index, real_retriever.embedders, replace(real_retriever.settings, candidates=5),
                  real_retriever.glossary)
    views = r.views(question, language)
    bridged = r.bridged_vectors(views, language)
    vectors = r.query_vectors(question)
    slow = [n for n, e in enumerate(r.embedders) if e.slow_queries]
    found = r._candidates(r._per_lang(vectors, bridged, language), 5, language=language)
    before_e5 = r._candidates(r._per_lang([None if n in slow else q for n, q in enumerate(vectors)], bridged, language), 5,
                              language=language)
    assert before_e5 < found  # e5 brings candidates of its own, which the pending search adds after the others
    later = {}
    for n in slow:
        later[n] = Future()
        later[n].set_result(vectors[n][None, :])
    scored, dense = [], r._dense
    r._dense = lambda ids, *rest: scored.append(ids.tolist()) or dense(ids, *rest)
    done = r.search(question, language, k=1, qvecs=vectors, views=views, bridged=bridged)
    pending = r.search(question, language, k=1, qvecs=Late(r.embedders, question, later), views=views, bridged=bridged)
    assert scored[0] == scored[1] == sorted(found | set(scored[0]))  # the same candidates, e5's among them
    assert [(h.chunk.id, h.score, list(h.components.items())) for h in pending] == \
        [(h.chunk.id, h.score, list(h.components.items())) for h in done]


@pytest.mark.models
def test_the_ready_embedders_search_while_a_slow_one_still_embeds(real_retriever, monkeypatch):
    import threading
    from concurrent.futures import Future

    from chatbot.search.retrieval import PendingVectors

    question = "Is there a vaccine for CMV?"
    vectors = real_retriever.query_vectors(question)
    slow = next(n for n, e in enumerate(real_retriever.embedders) if e.slow_queries)
    late, release, order = Future(), threading.Event(), []
    searched = real_retriever._candidates

    def candidates(per_lang, n_cand, seen=None, cand=None, only=None, language=None):
        order.append(sorted(n for n, by_lang in enumerate(per_lang) if any(q is not None for q in by_lang.values())
                            and (only is None or n in only)))
        if only is None:
            release.set()  # the slow vector arrives only once the others have searched
        return searched(per_lang, n_cand, seen, cand, only, language=language)

    monkeypatch.setattr(real_retriever, "_candidates", candidates)
    threading.Thread(target=lambda: (release.wait(10), late.set_result(vectors[slow][None, :]))).start()
    pending = PendingVectors(real_retriever.embedders, question, {slow: late})
    hits = real_retriever.search(question, "en", k=3, qvecs=pending)
    others = [n for n in range(len(vectors)) if n != slow]
    assert order == [others, [slow]]
    assert VACCINE_ANSWER in hits[0].chunk.text


@pytest.mark.parametrize("question, language", [("Is there a vaccine for CMV?", "en"), ("Apakah ada vaksin untuk CMV?", "id")])
def test_each_passages_bm25_part_is_its_score_against_its_languages_best(hashing_retriever, question, language):
    from chatbot.text import STOPWORDS, stems

    r = hashing_retriever
    hits = r.search(question, language, k=20)
    views = r.views(question, language)
    scale = r.settings.bm25_max_scale
    for h in hits:
        lang = h.chunk.language
        scores = r._bm25[lang].scores(stems([t for t in views[lang].terms if t not in STOPWORDS], lang))
        row = int(np.flatnonzero(r._rows[lang] == r.chunks.index(h.chunk))[0])
        if scores.any():
            assert h.components["bm25_z"] == round(scale * float(scores[row]) / float(scores.max()), 3)
        else:
            assert "bm25_z" not in h.components
    # as a z-score against the language's passages, capped
    z_scored = Retriever(r.index, r.embedders, replace(r.settings, bm25_max_scale=0.0, bm25_clip=1.5), r.glossary)
    capped = 0
    for h in z_scored.search(question, language, k=20):
        lang = h.chunk.language
        scores = r._bm25[lang].scores(stems([t for t in views[lang].terms if t not in STOPWORDS], lang))
        row = int(np.flatnonzero(r._rows[lang] == r.chunks.index(h.chunk))[0])
        z = (float(scores[row]) - float(scores.mean())) / (float(scores.std()) or 1.0)
        assert h.components["bm25_z"] == round(min(z, 1.5), 3)
        capped += z > 1.5
    assert capped  # the cap was reached


def test_a_languages_rows_are_told_apart_as_isin_tells_them():
    from chatbot.search.vectors import LanguageRows

    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(5000, 700, replace=False))
    lane = LanguageRows(rows, None, np.zeros((0, 4), dtype=np.float32))
    ids = rng.integers(-20, 6000, 2000)  # some beyond its last row, some negative (FAISS's "none")
    assert np.array_equal(lane.holds(ids), np.isin(ids, rows))
    assert not LanguageRows(np.zeros(0, dtype=np.int64), None, np.zeros((0, 4))).holds(np.array([0, 3])).any()


def test_a_stored_question_that_asks_for_another_kind_of_answer_falls_behind(tmp_path, hashing):
    """A record's answers to "What is X?" and "Is X inherited?" share their topic; a patient who
    asks whether it runs in the family gets the second. Only the passage whose stored question
    asks for other kinds loses, by the weight; prose without a stored question is untouched."""
    index = _small_index(tmp_path, hashing, {
        "what": ("What is Tietze syndrome?", "A swelling of the rib cartilage that children can have.", "en"),
        "inherited": ("Is Tietze syndrome inherited?", "Most cases occur in people with no family history.", "en"),
        "prose": ("Tietze syndrome", "Tietze syndrome causes chest pain.", "en")})
    question = "Does Tietze syndrome run in the family, could my children get it?"
    plain = Retriever(index, hashing, FusionSettings(asks_otherwise_weight=0.0)).search(question, "en", k=3)
    kinded = Retriever(index, hashing).search(question, "en", k=3)
    before = {h.chunk.doc_id: h.score for h in plain}
    after = {h.chunk.doc_id: h.score for h in kinded}
    assert before["what"] > before["inherited"]  # the words and titles alone favour the definition
    assert before["what"] - after["what"] == pytest.approx(FusionSettings().asks_otherwise_weight)
    assert after["inherited"] == pytest.approx(before["inherited"]) and after["prose"] == pytest.approx(before["prose"])
    order = [h.chunk.doc_id for h in kinded]
    assert order.index("inherited") < order.index("what")
    unasked = Retriever(index, hashing).search("Tietze syndrome and my children", "en", k=3)
    assert {h.chunk.doc_id: h.score for h in unasked} == pytest.approx(
        {h.chunk.doc_id: h.score for h in Retriever(index, hashing, FusionSettings(asks_otherwise_weight=0.0))
         .search("Tietze syndrome and my children", "en", k=3)})  # no kind asked: nothing moves
