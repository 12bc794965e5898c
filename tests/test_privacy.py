"""Masking personal details (chatbot/store/privacy.py): each rule in English and Indonesian, and medical
content that must stay as written. These sentences were written with the rules; the independent set
(tests/data/masking_cases.jsonl) is measured by evaluation/masking.py and checked in test_masking_set.py."""

from __future__ import annotations

import pytest

from chatbot.store.privacy import find, mask

MASKED = [
    # names introduced as such
    ("my name is Budi Santoso and I am HIV positive, can I get a tattoo?", "my name is [NAME] and I am HIV positive, can I get a tattoo?"),
    ("Hello, my name's Sarah. Is CMV dangerous in pregnancy?", "Hello, my name's [NAME]. Is CMV dangerous in pregnancy?"),
    ("my name is budi and i have a fever", "my name is [NAME] and i have a fever"),
    ("Hi, I'm Maria Lopez, my baby has jaundice.", "Hi, I'm [NAME], my baby has jaundice."),
    ("My son Adam has a rash after the vaccine.", "My son [NAME] has a rash after the vaccine."),
    ("my daughter, Emily, is 3 years old and has CMV", "my daughter, [NAME], is 3 years old and has CMV"),
    ("My wife's name is Dewi and she is pregnant.", "My wife's name is [NAME] and she is pregnant."),
    ("Nama saya Siti Aminah, apakah CMV menular?", "Nama saya [NAME], apakah CMV menular?"),
    ("Saya Budi, umur 45 tahun, sering pusing.", "Saya [NAME], umur 45 tahun, sering pusing."),
    ("anak saya, Siti, demam sejak kemarin", "anak saya, [NAME], demam sejak kemarin"),
    ("Anak saya bernama Rizky Pratama, usia 2 tahun.", "Anak saya bernama [NAME], usia 2 tahun."),
    ("nama anak saya Putri, dia kurang darah", "nama anak saya [NAME], dia kurang darah"),
    ("Suami saya Andi dirawat di rumah sakit.", "Suami saya [NAME] dirawat di rumah sakit."),
    ("Kemarin dr. Hendra bilang trombosit saya rendah.", "Kemarin dr. [NAME] bilang trombosit saya rendah."),
    ("Terima kasih, Wulan", "Terima kasih, [NAME]"),
    ("My wife is Ratna Sari, she has anemia.", "My wife is [NAME], she has anemia."),
    ("Name on the form: Yusuf Hakim. Is CMV contagious?", "Name on the form: [NAME]. Is CMV contagious?"),
    ("Please move the appointment for Kevin Tan to Friday.", "Please move the appointment for [NAME] to Friday."),
    ("Hi, Laura Benson speaking, is CMV in breast milk?", "Hi, [NAME] speaking, is CMV in breast milk?"),
    ("nama sy Yoga, anak sy demam", "nama sy [NAME], anak sy demam"),
    ("Record no. MR-771204, are my results ready?", "Record no. [MRN], are my results ready?"),
    ("nomor rekam medisnya 3304512 ya dok", "nomor rekam medisnya [MRN] ya dok"),
    ("lahirnya 3 Juni 2021, sekarang demam", "lahirnya [DOB], sekarang demam"),
    # phone numbers
    ("Call me on 0812-3456-7890 please", "Call me on [PHONE] please"),
    ("WA saya 081234567890 ya dok", "WA saya [PHONE] ya dok"),
    ("nomor hp +62 812 3456 7890", "nomor hp [PHONE]"),
    ("our clinic line is (021) 555 1234", "our clinic line is [PHONE]"),
    ("text me at 555-123-4567", "text me at [PHONE]"),
    # e-mail
    ("email me at budi.santoso+cmv@mail.co.id", "email me at [EMAIL]"),
    # NIK and other ID numbers
    ("NIK saya 3201234567890001", "NIK saya [NIK]"),
    ("no KTP 3201 2345 6789 0001", "no KTP [NIK]"),
    ("KTP: 320123.456789.0001", "KTP: [NIK]"),
    ("nomor BPJS saya 0001234567891", "nomor BPJS saya [ID]"),
    ("my passport number is B1234567", "my passport number is [ID]"),
    ("SSN 123-45-6789", "SSN [ID]"),
    # medical record numbers
    ("My MRN is 00123456.", "My MRN is [MRN]."),
    ("nomor rekam medis RM-2023-0045", "nomor rekam medis [MRN]"),
    ("No. RM 012345, kontrol minggu depan", "No. RM [MRN], kontrol minggu depan"),
    ("patient ID: A-778812", "patient ID: [MRN]"),
    # dates of birth
    ("He was born on 12/03/2019 at 32 weeks", "He was born on [DOB] at 32 weeks"),
    ("date of birth: March 5, 1980", "date of birth: [DOB]"),
    ("lahir tanggal 5 Mei 1979", "lahir tanggal [DOB]"),
    ("TTL: Bandung, 17-08-1985", "TTL: Bandung, [DOB]"),
    ("I was born in 1990 and have had HIV since 2015", "I was born in [DOB] and have had HIV since 2015"),
    # street addresses
    ("Saya tinggal di Jl. Merdeka No. 12, RT 03/RW 05, Kel. Sukajadi, Bandung.", "Saya tinggal di [ADDRESS], Bandung."),
    ("rumah kami di Gang Mawar 3 RT 02 RW 07", "rumah kami di [ADDRESS]"),
    ("alamat saya Perumahan Griya Asri Blok C3 No. 8 dan saya batuk", "alamat saya [ADDRESS] dan saya batuk"),
    ("I live at 42 Oak Street, Apt 3B. Is that near a clinic?", "I live at [ADDRESS]. Is that near a clinic?"),
    ("my address is 17 Sunset Boulevard, Springfield", "my address is [ADDRESS], Springfield"),  # a city alone is kept
]

KEPT = [
    "What is the brand name Tylenol in Indonesia? And the generic name Acetaminophen?",
    "Are the results of Pap smear ready? I have a referral for Kawasaki disease.",
    "Is there an appointment for Down syndrome checks? Results for Western blot and results of Widal test?",
    "Prescription for Augmentin, is it safe with CMV?", "My son is Autistic and my daughter was Hospitalised.",
    "Hasil lab sy Normal ga?",
    "My platelets are 150000 and my viral load was 1,200,000 copies/mL in 2021.",
    "Hb saya 9.5 g/dL, trombosit 85.000, apakah perlu transfusi?",
    "I take valganciclovir 900 mg twice a day for 21 days.",
    "Anak saya umur 5 tahun minum paracetamol 250 mg 3x sehari.",
    "My baby was diagnosed in 2019 at 28 weeks and had NEC.",
    "Saya HIV positif sejak 2015, CD4 350.",
    "I am 34 weeks pregnant and tested positive for CMV.",
    "I'm worried about my son, he has a fever of 39.5 C.",
    "Apakah ibu hamil boleh makan sate?",
    "Jalan kaki 30 menit sehari baik untuk jantung?",
    "Dosis 0.5 mg/kg tiap 12 jam, kontrol jam 08.00.",
    "The drug's name is Valcyte and my doctor said to take it.",
    "Thanks! Can I take ibuprofen 400 mg twice a day?",
    "Terima kasih, Dok",
    "Is Zika worse than CMV for babies, as in the 2016 outbreak?",
    "The pediatric cardiologist at Dr. Soetomo Hospital suspects an AVSD.",
    "Saya Muslim, apakah vaksin ini halal?",
    "My blood pressure is 140/90 and glucose 7.8 mmol/L.",
    "Berat badan bayi 1.250 gram saat lahir pada minggu ke-30.",
]


@pytest.mark.parametrize("text,expected", MASKED)
def test_personal_details_are_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_medical_content_is_kept(text):
    assert mask(text) == text, find(text)


def test_findings_name_their_kind_in_reading_order():
    found = find("Nama saya Siti, HP 0812-3456-7890, siti@example.org")
    assert [f.kind for f in found] == ["NAME", "PHONE", "EMAIL"]


def test_masking_twice_changes_nothing_more():
    once = mask(MASKED[0][0] + " " + MASKED[15][0] + " " + MASKED[21][0])
    assert mask(once) == once


@pytest.mark.parametrize("text", ["", " ", "???", "[NAME]", "\u200b", "ñandú 🙂"])
def test_odd_input_passes_through(text):
    assert mask(text) == text


def test_a_huge_text_is_masked_quickly_and_completely():
    huge = ("my name is Budi and my number is 0812-3456-7890. " * 2000)[:100_000]
    masked = mask(huge)
    assert "Budi" not in masked and "0812-3456-7890" not in masked


@pytest.mark.parametrize("text,expected", [
    ("Nama saya Asma, anak saya batuk terus", "Nama saya [NAME], anak saya batuk terus"),
    ("Hi, I am Asma. My son has asthma.", "Hi, I am [NAME]. My son has asthma."),
    ("My name is Gigi and my tooth hurts", "My name is [NAME] and my tooth hurts"),
    ("Saya Rahim, umur 40", "Saya [NAME], umur 40"),
    ("Anak saya asma sejak kecil, apakah boleh vaksin?", "Anak saya asma sejak kecil, apakah boleh vaksin?"),
    ("Apakah kista di rahim berbahaya?", "Apakah kista di rahim berbahaya?"),
    ("My name is Robert Burns and my son has CMV", "My name is [NAME] and my son has CMV"),
    ("Nama saya Dewi Sendi Lestari", "Nama saya [NAME]"),
    ("Regards, Maria Colon", "Regards, [NAME]"),
    ("Anak saya Sendi demam", "Anak saya [NAME] demam"),
    ("Saya Nadi, nadi saya cepat", "Saya [NAME], nadi saya cepat"),
])
def test_a_glossary_word_that_is_also_a_given_name(text, expected):
    """The glossary's words are never names ("anak saya asma": asthma), except as a name after
    "my name is" / "nama saya", and the few that are common given names when capitalised."""
    assert mask(text) == expected
