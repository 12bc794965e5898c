"""Sentence alignment of a passage and its staff translation (chatbot/translations/align.py):
units as the answer quotes them, numbers as anchors, one-to-one by position when the shapes agree,
by meaning (the real cross-lingual models) when they do not, and the original when unsure."""

from __future__ import annotations

import pytest

from chatbot.translations.align import Pair, align, anchor_overlap, anchor_words, numbers, sentence_map, units

SUPPORTIVE_ID = """Terapi Suportif

  • Transfusi darah mungkin diperlukan untuk anemia berat (Hb <8 g/dL) 4, 5
  • Semua produk darah harus diiradiasi untuk menghindari penyakit graft-versus-host terkait transfusi 4
  • Pada pasien yang seronegatif CMV dan memerlukan transfusi darah, hanya produk darah yang antibodi-CMV negatif atau leukosit-berkurang yang harus diberikan dalam situasi non-darurat 4"""
SUPPORTIVE_EN = [
    "Supportive care",
    "A blood transfusion may be needed for severe anaemia (Hb <8 g/dL).",
    "All blood products must be irradiated to avoid transfusion-associated graft-versus-host disease.",
    "In CMV-seronegative patients who need a blood transfusion, only CMV-antibody-negative or leukocyte-reduced blood "
    "products should be given in non-emergency situations.",
]
DOSE_ID = ("Ganciclovir intravena 5 mg/kg dua kali sehari selama 5-10 hari. Setelah itu valganciclovir 900 mg per hari "
           "hingga kursus 2-3 minggu selesai. Efek samping utama ganciclovir termasuk neutropenia dan trombositopenia.")


def english(*lines: str) -> str:
    return "\n".join([lines[0], "", *(f"- {line}" for line in lines[1:])])


def test_units_are_what_an_answer_quotes():
    got = [u.text for u in units(SUPPORTIVE_ID)]
    assert got == ["Terapi Suportif",
                   "Transfusi darah mungkin diperlukan untuk anemia berat (Hb <8 g/dL)",
                   "Semua produk darah harus diiradiasi untuk menghindari penyakit graft-versus-host terkait transfusi",
                   SUPPORTIVE_ID.split("\n")[-1].strip()[2:-2]]  # bullet mark and trailing reference number gone
    for u in units(SUPPORTIVE_ID):
        assert SUPPORTIVE_ID[u.start:u.end] == u.text  # verbatim, where it says it is
    assert [u.text for u in units(DOSE_ID)] == [DOSE_ID.split(". ")[0] + ".", DOSE_ID.split(". ")[1] + ".", DOSE_ID.split(". ")[2]]


def test_numbers_ignore_separators_but_not_values():
    assert numbers("0,5 mg") == numbers("0.5 mg") and numbers("1.000 sel") == numbers("1,000 cells")
    assert numbers("5-10 hari") == numbers("for 5 to 10 days") == ("10", "5")
    assert numbers("900 mg") != numbers("90 mg")


def test_drug_names_anchor_across_spellings():
    a, b = anchor_words("Beri parasetamol, bukan ibuprofen", "id"), anchor_words("Give paracetamol, not ibuprofen", "en")
    assert "ibuprofen" in a and "ibuprofen" in b
    assert anchor_overlap(a, b) == 1.0
    assert anchor_overlap(anchor_words("ganciclovir", "en"), anchor_words("foscarnet", "en")) == 0.0


def test_same_shape_pairs_by_position_without_models():
    pairs = align(SUPPORTIVE_ID, english(*SUPPORTIVE_EN), "id", "en")
    assert [p.translated for p in pairs] == SUPPORTIVE_EN
    assert sentence_map(pairs)[units(SUPPORTIVE_ID)[2].text] == SUPPORTIVE_EN[2]


def test_a_number_that_differs_is_never_paired():
    wrong = english(SUPPORTIVE_EN[0], SUPPORTIVE_EN[1].replace("<8", "<9"), *SUPPORTIVE_EN[2:])
    assert align(SUPPORTIVE_ID, wrong, "id", "en") == []  # by position refused, and nothing else to compare with


def test_other_shape_without_models_shows_the_originals():
    assert align(SUPPORTIVE_ID, english(*SUPPORTIVE_EN[:3]), "id", "en") == []
    assert align("", "text", "id", "en") == [] and align("Teks.", "", "id", "en") == []


def test_only_one_to_one_and_one_to_two_pairs_are_shown():
    pairs = [Pair("a", "A", 1.0), Pair("b", "B1. B2.", 0.9, "1-2"), Pair("c d", "CD", 0.9, "2-1"), {"original": "e", "translated": "E"}]
    assert sentence_map(pairs) == {"a": "A", "b": "B1. B2.", "e": "E"}


@pytest.mark.models
def test_reordered_and_extra_sentences_align_by_meaning(real_embedders):
    swapped = english("Supportive care. Please read this carefully.", SUPPORTIVE_EN[2], SUPPORTIVE_EN[1], SUPPORTIVE_EN[3])
    pairs = align(SUPPORTIVE_ID, swapped, "id", "en", real_embedders)
    shown = sentence_map(pairs)
    originals = [u.text for u in units(SUPPORTIVE_ID)]
    assert shown[originals[3]] == SUPPORTIVE_EN[3]
    assert shown.get(originals[0]) in ("Supportive care.", "Supportive care. Please read this carefully.")
    # the monotonic alignment keeps one of the two swapped sentences; the other stays in the original, never crossed
    assert sum(shown.get(originals[i]) == SUPPORTIVE_EN[i] for i in (1, 2)) == 1
    assert all(shown.get(originals[i]) in (None, SUPPORTIVE_EN[i]) for i in (1, 2))


@pytest.mark.models
def test_a_sentence_translated_as_two_and_a_missing_one(real_embedders):
    translated = ("Intravenous ganciclovir 5 mg/kg twice a day for 5-10 days. Then valganciclovir 900 mg a day. "
                  "Continue until the 2-3 week course is complete.")  # the side-effect sentence is left out
    pairs = align(DOSE_ID, translated, "id", "en", real_embedders)
    shown = sentence_map(pairs)
    first, second, third = [u.text for u in units(DOSE_ID)]
    assert shown[first] == "Intravenous ganciclovir 5 mg/kg twice a day for 5-10 days."
    assert shown[second] == "Then valganciclovir 900 mg a day. Continue until the 2-3 week course is complete."
    assert third not in shown
    for text in shown.values():
        assert text in translated


@pytest.mark.models
def test_an_unrelated_text_is_not_aligned(real_embedders):
    unrelated = "Wash your hands after changing nappies.\nKeep medicines away from children.\nDrink water."
    assert sentence_map(align(DOSE_ID, unrelated, "id", "en", real_embedders)) == {}


REORDERED_ID = "Ibu hamil boleh menyusui. Vaksin ini aman untuk bayi prematur. Jangan berikan aspirin kepada anak."
REORDERED_EN = ("Mothers with HIV must not breastfeed. This vaccine must not be given to babies with severe immune problems. "
                "Give paracetamol if your child has a fever.")


@pytest.mark.models
def test_same_shape_but_other_sentences_are_not_paired_by_position(real_embedders):
    shown = sentence_map(align(REORDERED_ID, REORDERED_EN, "id", "en", real_embedders))
    assert shown == {}  # none of these says what its original says


def test_a_pair_must_agree_on_not():
    assert align("Ibuprofen tidak boleh diberikan kepada anak dengan demam berdarah.",
                 "Ibuprofen may be given to children with dengue.", "id", "en") == []
    assert len(align("Ibuprofen tidak boleh diberikan kepada anak.", "Ibuprofen must not be given to children.", "id", "en")) == 1
