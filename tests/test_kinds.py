"""What a question asks for, on both sides of a FAQ match: the patient's message and a stored question."""

from __future__ import annotations

import pytest

from chatbot.kinds import asks_otherwise, load_kinds, patient_asks, stored_asks


@pytest.mark.parametrize("stored, kinds", [
    ("Is Tietze syndrome inherited ?", {"inheritance"}),
    ("What are the genetic changes related to von Willebrand disease ?", {"genes"}),
    ("What is (are) Tietze syndrome ?", {"definition"}),
    ("What are the treatments for Diabetes ?", {"treatment"}),  # begins like a definition, asks for treatments
    ("What is the outlook for Orthostatic Hypotension ?", {"outlook"}),
    ("How many people are affected by tyrosinemia ?", {"prevalence"}),
    ("what research (or clinical trials) is being done for Tourette Syndrome ?", {"research"}),
    ("How to diagnose Erythromelalgia ?", {"test"}),
    ("What causes Cushing's syndrome ?", {"reason"}),
    ("How is CMV transmitted?", {"spread"}),
    ("Do you have information about Immunization", set()),
])
def test_a_stored_question_asks_for_one_kind_of_answer(stored, kinds):
    assert stored_asks(stored) == kinds


@pytest.mark.parametrize("message, kinds", [
    ("Does it run in the family?", {"inheritance"}),
    ("My sister has dystonia 6. Will my kids get it from me if I carry the gene?", {"inheritance"}),
    ("how rare is proteus syndrome? nephew has overgrowth on one side", {"prevalence"}),
    ("What is the prognosis for MLD, how long do children live with it?", {"definition", "outlook", "duration"}),
    ("As a cancer survivor, what can I do about this?", {"action", "treatment"}),
    ("Apa penyebab anemia pada bayi?", {"reason"}),
    ("Apakah penyakit ini keturunan?", {"inheritance"}),
    # the story before the question asks nothing: "diagnosed" there is not a question about tests
    ("My daughter was diagnosed with Tietze syndrome last week. Is it inherited?", {"inheritance"}),
    ("Is CMV dangerous?", set()),  # a yes/no question is not compared: "is it inherited" and "is it contagious" differ
    ("i was treated last year. is it inherited?", {"inheritance"}),  # the story is set apart in lower case too
    ("What medicine should I take for CMV?", {"action", "drug", "treatment"}),  # "How is CMV treated?" answers it
    ("Apa sih penyebabnya?", {"definition", "reason"}),
    # "so as not to catch it" asks what to do, however it is put
    ("Saya sedang hamil, bagaimana caranya supaya tidak tertular CMV?", {"spread", "action"}),
    ("Bagaimana supaya infeksi CMV tidak kambuh lagi?", {"action"}),
    ("biar anak sy ga ketularan gimana?", {"spread", "action"}),
    ("How do I keep my baby from catching CMV?", {"action"}),
    ("Any tips so my baby doesn\u2019t catch it?", {"spread", "action"}),  # a phone's curly apostrophe
    ("Kenapa dia tidak tertular?", {"reason", "spread"}),  # "not infected" alone asks no prevention
    # ...but not "so I don't get confused", nor a worry ("kena" is also "hit by": "kena marah")
    ("Is this CMV, so I don't get confused with flu?", set()),
    ("Apakah CMV berbahaya, jangan sampai kena ke otak bayi?", set()),
])
def test_a_patients_message_asks_what_its_questions_ask(message, kinds):
    assert patient_asks(message) == kinds


@pytest.mark.parametrize("message", [
    "Is it safe to give my baby paracetamol?",  # giving a child medicine is not inheritance
    "I have CMV. Can my baby get it from me?",  # nor is passing on an infection
    "How many children can I have after this?",  # nor is how common a condition is
    "Apakah saya masih bisa punya keturunan?",  # "can I still have children"
    "Berat badan harus diturunkan?",  # "weight must be lowered"
    "How do I manage to sleep with this?",
])
def test_everyday_phrases_ask_for_no_kind_they_only_resemble(message):
    assert not patient_asks(message) & {"inheritance", "prevalence", "treatment"}


def test_a_long_message_without_a_question_mark_is_read_whole():
    assert patient_asks("cyclic vomiting syndrome what helps been sick for days") == {"treatment"}


def test_a_stored_question_asks_otherwise_only_when_both_ask_and_nothing_matches():
    assert asks_otherwise(frozenset({"inheritance"}), stored_asks("What is (are) Tietze syndrome ?"))
    assert not asks_otherwise(frozenset({"inheritance", "genes"}), stored_asks("What are the genetic changes related to dystonia 6 ?"))
    assert not asks_otherwise(frozenset(), stored_asks("What is (are) Tietze syndrome ?"))  # the patient asks for no kind we know
    assert not asks_otherwise(frozenset({"reason"}), stored_asks("Do you have information about Immunization"))  # nor does it
    assert stored_asks("Tietze syndrome › Treatment") == frozenset()  # a heading that asks nothing


def test_kinds_that_only_tell_questions_apart_give_no_sentence_a_bonus():
    """The chooser prefers sentences that give the kind asked for; a kind without answer
    patterns (is it inherited, how common) only compares questions."""
    by_name = {k.name: k for k in load_kinds()}
    for name in ("inheritance", "genes", "prevalence", "outlook", "research", "treatment"):
        assert by_name[name].question and not by_name[name].answer
