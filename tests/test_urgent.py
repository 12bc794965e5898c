"""Danger signs: emergencies described by a patient are flagged, topic questions are not.

Besides the labelled evaluation set, new paraphrases written for this suite (not in
evaluation/urgent.jsonl). Labelling rule, as in that file: urgent when the question describes
someone having the sign now; a general question about a sign ("can X cause Y?") is not urgent,
however alarming the sign. UNCAUGHT and FALSE_ALARMS are paraphrases the first rules got wrong
(33 of these 40 were right before the rules were extended); they are asserted now.
"""

from __future__ import annotations

import json

import pytest

from chatbot.answer.urgent import danger_signs, load_signs, must_mention

NEW_URGENT = {
    "en": [
        "My baby has gone blue around the mouth and is gasping",
        "My 3 day old has a temperature of 38.4, should I worry?",
        "My son cut his hand and the bleeding won't stop after 20 minutes of pressure",
        "My daughter collapsed at school and isn't responding",
        "My baby is convulsing right now",
        "My preemie's belly is distended and she's vomiting green",
        "I keep coughing up blood since this morning",
        "My mum is extremely pale and too weak to get out of bed",
        "My toddler banged his head on the floor and has vomited twice",
        "My newborn won't feed and feels very hot",
    ],
    "id": [
        "Bayi saya tidak bernapas dengan normal dan bibirnya membiru",
        "Bayi saya yang berumur 5 hari demam tinggi",
        "Ayah saya tiba-tiba pingsan di kamar mandi",
        "Anak saya sedang kejang sekarang",
        "Perut bayi prematur saya membesar dan keras, dia muntah hijau",
        "Ibu saya sangat pucat dan lemas sekali",
        "Bayi saya yang baru lahir tidak mau menyusu dan badannya panas",
    ],
}
UNCAUGHT = [  # urgent; missed by the first rules
    "Luka di tangan anak saya terus berdarah dan tidak mau berhenti",  # "berdarah ... tidak mau berhenti"
    "Saya batuk darah sejak pagi",  # no pattern for "batuk darah" (coughing up blood)
    "Kepala anak saya terbentur lantai dan dia muntah terus",  # "kepala" and "terbentur" not adjacent
]
NEW_NOT_URGENT = {
    "en": [
        "What causes bleeding in thrombocytopenia?",
        "How long does it take for platelets to recover after CMV?",
        "Can anemia cause shortness of breath?",
        "Why do premature babies get NEC?",
        "Is ganciclovir safe for babies?",
        "What are the symptoms of congenital CMV in infants?",
        "Can low platelets cause nosebleeds?",
        "Does NEC cause bloody stools?",
    ],
    "id": [
        # tricky: breathlessness named, but as a general question about anemia (like urg-id-019)
        "Apakah anemia bisa bikin sesak napas?",
        "Apa penyebab perdarahan pada trombositopenia?",
        "Berapa lama trombosit kembali normal setelah infeksi CMV?",
        "Kenapa bayi prematur lebih berisiko terkena NEC?",
        "Apakah ganciclovir aman untuk bayi?",
        "Apa saja gejala CMV bawaan pada bayi baru lahir?",
        "Apakah trombosit rendah bisa menyebabkan mimisan?",
        "Bagaimana dokter mengobati anemia berat karena CMV?",
    ],
}
FALSE_ALARMS = [  # general topic questions; flagged by the first rules
    "Is a fever in a newborn a sign of congenital CMV?",
    "Can thrombocytopenia lead to heavy bleeding?",
    "Apakah NEC bisa menyebabkan BAB berdarah?",
    "Apakah demam pada bayi baru lahir bisa karena CMV?",
]


def labelled(repo_root):
    path = repo_root / "evaluation" / "urgent.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_labelled_question_is_classified_as_labelled(repo_root):
    rows = labelled(repo_root)
    assert len(rows) >= 40 and {r["urgent"] for r in rows} == {True, False}
    wrong = [(r["id"], r["question"], danger_signs(r["question"])) for r in rows if bool(danger_signs(r["question"])) != r["urgent"]]
    assert wrong == []


def test_new_paraphrases_are_not_in_the_labelled_set(repo_root):
    known = {r["question"].lower() for r in labelled(repo_root)}
    mine = [q for group in (NEW_URGENT, NEW_NOT_URGENT) for qs in group.values() for q in qs] + UNCAUGHT + FALSE_ALARMS
    assert len(mine) == 40 and not {q.lower() for q in mine} & known


@pytest.mark.parametrize("question", NEW_URGENT["en"] + NEW_URGENT["id"])
def test_new_urgent_paraphrases_are_flagged(question):
    assert danger_signs(question)


@pytest.mark.parametrize("question", NEW_NOT_URGENT["en"] + NEW_NOT_URGENT["id"])
def test_new_topic_questions_are_not_flagged(question):
    assert danger_signs(question) == []


@pytest.mark.parametrize("question,sign", [
    ("My baby is convulsing right now", "seizure or fit"),
    ("Ayah saya tiba-tiba pingsan di kamar mandi", "unresponsive, fainted or very drowsy"),
    ("My toddler banged his head on the floor and has vomited twice", "head injury with vomiting or severe headache"),
])
def test_the_sign_is_named(question, sign):
    assert sign in danger_signs(question)


def test_personal_signs_need_someone_now():
    assert danger_signs("Can CMV cause seizures?") == []
    assert danger_signs("My baby is having a seizure") == ["seizure or fit"]


def test_curly_apostrophes_count_like_straight_ones():
    curly, straight = "My daughter’s nose is bleeding and it won’t stop", "My daughter's nose is bleeding and it won't stop"
    assert danger_signs(curly) == danger_signs(straight) == ["bleeding that will not stop or is heavy"]


def test_every_sign_has_a_name_and_patterns():
    signs, personal, general = load_signs()
    assert len(signs) >= 8 and personal and general
    assert all(s.name and s.patterns for s in signs)
    assert len({s.name for s in signs}) == len(signs)


@pytest.mark.parametrize("question", UNCAUGHT)
def test_once_missed_emergencies_are_flagged(question):
    assert danger_signs(question)


@pytest.mark.parametrize("question", FALSE_ALARMS)
def test_general_questions_with_alarming_words_are_not_flagged(question):
    assert danger_signs(question) == []


@pytest.mark.parametrize("question", [
    "bayi saya demam dan tidak mau menyusu",  # a baby of any age: no newborn named (once answered with NEC risk factors)
    "my baby has a fever and won't feed",
    "My 3 month old is not feeding and has diarrhea",
    "our 2-week-old refuses to breastfeed",
    "bayiku gak mau nyusu dari pagi",
    "bayi saya tdk mau menyusu",
    "bayi saya demam, tidak mau menyusu",
    "my baby won't eat or drink",
    "my baby won't feed and we are worried",
])
def test_a_baby_who_will_not_feed_or_drink_is_an_emergency(question):
    assert "a baby who will not feed or drink" in danger_signs(question)


@pytest.mark.parametrize("question", [
    "Can a baby with CMV breastfeed?",
    "Should I stop breastfeeding my baby if I have CMV?",
    "Apakah bayi saya tidak boleh minum ASI kalau saya kena CMV?",
    "Is it normal that a baby does not drink much in the first days?",
    "my son won't drink milk anymore, is that normal?",
    "my baby has CMV so I am not breastfeeding, can I pump?",  # the mother does not breastfeed
    "my baby was born with CMV, should I not breastfeed?",
    "bayi saya kena CMV, saya tidak menyusui dulu ya?",  # menyusui: the mother breastfeeds; menyusu: the baby feeds
    "my baby stopped breastfeeding at 6 months",  # weaning
    "our infant stopped nursing at night",
    "my baby won't drink the medicine",  # a medicine refused
    "bayi saya tidak mau minum obat",
    "bayi saya tidak minum susu formula, hanya ASI",
    "My 8-month-old baby isn't drinking water",
])
def test_questions_about_feeding_are_not_that_emergency(question):
    assert "a baby who will not feed or drink" not in danger_signs(question)


PREGNANCY = [  # someone pregnant with one of WHO's danger signs in pregnancy, now
    "My wife is 8 months pregnant and since this afternoon she has a terrible headache, blurry eyes and swollen feet",
    "I'm 34 weeks pregnant and I have a really bad headache and I'm seeing spots",
    "I think my water just broke?? clear fluid keeps trickling down my legs and i'm only 30 weeks",
    "Haven't felt the baby move at all today. I'm 35 weeks. Tried cold water and lying on my left side, nothing.",
    "Bleeding right now, bright red, soaked a whole pad in under an hour. 20 wks",
    "quick q - had a big gush of fluid when i stood up and my pants are soaked. 37w. should i come in",
    "pregnant 26 weeks. sharp pain in my belly on the right side under my ribs, so bad I cant stand up straight",
    "Fever 39.8, shivering, so weak I can barely get out of bed. I'm about 5 months along.",
    "Saya hamil 8 bulan, sejak tadi sakit kepala hebat dan pandangan kabur",
    "dok sy hamil 8 bulan, dr tadi pagi kepala sakit bgt kyk mau pecah, udh minum obat ga mempan",
    "sy keluar darah dr jalan lahir banyak bgt, udh ganti pembalut 2x dlm sejam. hamil 6 bulan",
    "ketuban sy kayaknya pecah, air ngerembes terus ga berhenti, pdhl baru 7 bulan",
    "Sejak kemarin sore dedek di perut ga gerak sama sekali. Usia kandungan 36 mgg",
    "Dari 2 hari lalu muka sama tangan bengkak, cincin udh ga bisa dilepas. Ini hamil anak pertama sy.",
    "Tolong, adik saya tadi tiba2 kejang, badannya kaku. Dia lagi hamil tua.",
]

PREGNANCY_CALM = [  # general questions and mild complaints (a sign that is over, or someone else's, may still be flagged)
    "I'm pregnant, is it safe to take paracetamol for a headache?",
    "Can CMV cause vaginal bleeding in pregnancy?",
    "Is a severe headache in pregnancy a sign of preeclampsia?",
    "I'm 20 weeks pregnant, when will I feel the baby kick?",
    "Saya hamil, apakah aman minum paracetamol kalau sakit kepala?",
    "Apakah CMV bisa menyebabkan keguguran pada ibu hamil?",
    "Saya sedang hamil 4 bulan, anak pertama saya suka minta minum dari gelas saya",
]


@pytest.mark.parametrize("question", PREGNANCY)
def test_danger_signs_in_pregnancy_are_flagged(question):
    assert danger_signs(question)  # the seizure sign flags "... tiba2 kejang" whether or not she is pregnant


@pytest.mark.parametrize("question", PREGNANCY_CALM)
def test_pregnancy_questions_without_a_danger_sign_now_are_not_flagged(question):
    assert danger_signs(question) == []


def test_a_sign_of_pregnancy_needs_a_pregnancy():
    assert danger_signs("I have a terrible headache and blurry eyes since this morning") == []
    assert danger_signs("I'm 32 weeks pregnant with a terrible headache and blurry eyes since this morning")


TYPED_ON_A_PHONE = [  # emergencies as typed on a phone (from evaluation/urgent_dev.jsonl): no pronoun, chat spelling
    "my son was born 12 days ago. since this morning hes hot to touch and thermometer says 38,4 what do i do pls",
    "baby is 2 wks old. her hands n feet are cold and under arm temp is 35.6 even w blankets on is that ok??",
    "my 3 month old hasnt taken his bottle since last night, turns his head away n cries, only 1 wet nappy all day",
    "u can see the skin sucking in under his ribs every breath. he is 10 months and has had a cold",
    "dad just threw up what looks like coffee grounds and some red blood, hes on blood thinners",
    "dedek umur 3 minggu badannya dingin bgt, diukur 35,4 padahal udh diselimutin tebel",
    "tolong anak sy kejang2 skrg matanya melotot ke atas",
    "bayi sy 2 bln napasnya cepet bgt bunyi grok grok, dadanya kaya ketarik ke dalem tiap napas",
    "anak sy umur 5 thn tidur terus dr siang, susah bgt dibangunin, dipanggil ga nyaut",
    "anak sy jatuh dr motor kepalanya kebentur aspal, skrg muntah2 terus dan ngantuk",
]


@pytest.mark.parametrize("question", TYPED_ON_A_PHONE)
def test_emergencies_typed_on_a_phone_are_flagged(question):
    assert danger_signs(question)


@pytest.mark.parametrize("question", [
    "yesterday my daughter bumped her head on the table, cried a minute, no vomiting and shes playing fine today. anything to watch for?",
    "i read that vomiting blood is a sign of low platelets is that true",
    "Our son had episodes of vomiting and acid in the blood when sick, and they said beta-ketothiolase deficiency. What gene is involved?",
    "When will I start to feel the baby kick? I'm 16 weeks and nothing yet, is that ok",
    # "kurang darah" is anemia, not blood: a child whose anemia keeps coming back
    "Kenapa CMV bisa bikin anak saya kurang darah terus, sembuh trus kambuh lagi?",
    # a pale complexion, not a sudden pallor
    "hermansky pudlak syndrome - symptoms? my daughter has very pale skin and bruises a lot",
    "hasil tes darahnya keluar terus tidak normal", "hasil pemeriksaan darahnya keluar terus", "Ibu saya darah tinggi terus",
    "tekanan darah saya naik terus", "kekurangan darah terus", "habis donor darah terus pusing",
    "I'm 24 weeks pregnant and my nose bleeds a lot. Are nosebleeds normal in pregnancy?",
    # an adult's bloating is not a baby's swollen belly; "tdk sadar kalau" is "did not realise"
    "I have a bloated stomach after eating, is it IBS?", "perut saya sering kembung setelah makan, apakah maag?",
    "darah haid saya banyak sekali, normal ga?", "haid saya darahnya deras banget hari pertama, apakah normal?",
    "kadar gula dalam darah saya tinggi sekali, pusing hebat", "my leg is limp after sitting too long",
    "My dad blacked out the screen of his phone",
    "sy tdk sadar kalau sudah hamil 8 minggu, apakah obat yang saya minum berbahaya?", "I bleed so much during my period, is it normal?",
    "is it normal for a baby to be very sleepy after vaccines?", "My baby was sleepy yesterday after her shots but is fine now",
    "my baby is not sleepy at night", "anak saya 2 minggu lagi ulang tahun, sekarang demam",
    "Saya melahirkan 3 tahun lalu, anak saya demam", "I had my baby 10 days ago. Is it normal to feel tired?",
    # a child's bloated tummy after meals; a floppy windpipe (tracheomalacia) is no floppy child
    "My 8 year old son gets a bloated tummy after meals, is it lactose?", "anak saya perutnya kembung habis makan",
    "I have a barking cough and my lung doctor thinks my windpipe is floppy",
])
def test_look_alikes_are_not_flagged(question):
    assert danger_signs(question) == []


def test_a_newborn_sign_needs_a_newborn_and_a_head_injury_needs_vomiting_or_drowsiness():
    assert danger_signs("my son is 2 years old and has a temperature of 38,4 since this morning") == []
    assert "fever or a low temperature in a newborn (under 4 weeks)" in danger_signs("my son is 9 days old and has a temperature of 38,4")
    assert danger_signs("my son fell and hit his head, he is crying but fine") == []
    assert danger_signs("my son fell and hit his head and has vomited twice")


@pytest.mark.parametrize("question", [  # from a review: each also says that something is fine or was fine
    "My baby was perfectly fine an hour ago and now she's floppy and won't wake up",
    "My son is not well today, he is very drowsy and we can't wake him",
    "I'm fine now but my baby is not breathing and has gone blue",
    "Calling the ambulance just in case, my dad passed out and is not responding",
    "Anak saya tadi pagi baik-baik saja, sekarang kejang-kejang dan tidak sadar",
    "Batuknya sudah sembuh tapi sekarang bayi saya sesak dan bibirnya membiru",
])
def test_nothing_said_to_be_fine_silences_an_emergency(question):
    assert danger_signs(question)


@pytest.mark.parametrize("question", ["darahnya keluar terus dari luka di kaki anak saya", "darah di lukanya ngucur terus",
                                      "darahnya ngucur trs", "darahnya ga berhenti2", "There's blood in my preemie's poop",
                                      "luka ayah saya, darah keluar banyak sekali",
                                      "im 34wks pregnant n bleeding like crazy"])
def test_blood_that_keeps_flowing_is_an_emergency(question):
    assert "bleeding that will not stop or is heavy" in danger_signs(question)
    assert "bleeding that will not stop or is heavy" in danger_signs(f"Tolong!\n{question}")  # on any line of a message


@pytest.mark.parametrize("question", [  # from two reviews
    "my baby is very pale skin cold and sweaty", "My son is very pale eyes rolling back", "My son has very pale lips",
    "My dad has very pale, clammy skin and is confused", "luka ayah saya, darah keluar banyak sekali",
    "darah dari hidung anak saya banyak sekali", "darah di lukanya terus mengalir", "My son cut his hand and it won't stop bleeding",
    "ibu saya pendarahan hebat", "my dad blacked out in the kitchen", "the baby went limp in my arms",
    "I gave birth 10 days ago. My baby has a fever of 38.5.", "born at 31 wks, been home 2 wks. her tummy is swollen hard and shiny",
    # green vomit is a blocked bowel at any age
    "My husband is throwing up green stuff and his stomach is swollen and hard. Is it a bowel obstruction?",
    "ayah saya muntah hijau terus dan perutnya keras, apakah usus tersumbat?",
    "bapak sy tdk sadarkan diri dr tadi, dia diabetes. apa gejala koma diabetes?",
    "perut bayi sy kembung bgt n muntah ijo", "My preemie has bloody stools and a swollen belly",
    # a fourth review: a newborn or a patient described without "my", black vomit, a child who is very drowsy
    "newborn not breathing properly and turning blue", "The patient has trouble breathing after the transfusion",
    "pasien transplant demam tinggi dan sesak napas", "my transplant patient husband has black vomit", "ayah saya muntah hitam tadi pagi",
    "my son with cmv has a hemoglobin of 4 and is very sleepy", "my baby is very drowsy today",
    # a newborn's age written as the time since the birth
    "sy baru lahiran seminggu lalu, dedek panas tinggi", "3 hari setelah melahirkan, bayi saya demam",
    "Sudah 10 hari sejak lahiran, dedek demam terus", "melahirkan anak kedua 10 hari lalu, bayinya demam",
    "dedek baru 2 minggu, badannya panas banget", "I had my baby 10 days ago and she has a fever",
    # a fifth review: words between the baby and the fever, and a newborn called "anaknya"
    "dedek 3 mgg panas bgt td malem", "Kakak saya melahirkan 10 hari lalu, anaknya panas tinggi",
    "bayi umur 2 minggu panas 38", "bayi saya 12 hari, panas tinggi", "dedek 2 mgg badannya panas",
])
def test_emergencies_a_review_found_are_flagged(question):
    assert danger_signs(question)


@pytest.mark.parametrize("question", [  # a child's fever for some days, or a newborn said not to be hot
    "anak saya 3 hari panas tinggi", "anakku 1 minggu panas tinggi gak turun2", "anak saya 4 hari panas tinggi, apa DBD?",
    "dedek 3 mgg gk panas bgt kok, cuma rewel", "dedek 3 mgg engga panas bgt", "dedek 3 mgg ndak panas tinggi kok",
    "dedek 3 mgg gak terlalu panas kok", "bayi saya 2 minggu, kamar panas, boleh pakai kipas?",
])
def test_a_childs_fever_for_some_days_is_not_a_newborns(question):
    assert "fever or a low temperature in a newborn (under 4 weeks)" not in danger_signs(question)


FEVER_ON_CHEMO = "fever during chemotherapy or with a low white cell count"


@pytest.mark.parametrize("question", [
    "I'm on chemo and now I have a fever of 38.5, should I wait until my appointment?",
    "My husband had chemotherapy last week and tonight his temperature is 38.6 and he is shivering",
    "My son has leukemia and his neutrophils are low, now he has a fever",
    "My mum is on chemo and has been feeling hot and shaky all evening",
    "Ayah saya sedang kemoterapi, sekarang demam 38,5 dan menggigil", "saya kemo minggu lalu, sekarang badan panas banget",
    "leukosit ibu saya rendah sejak kemo, dari tadi malam meriang",
    # from the review: a temperature, chills, "panas", no pronoun, leukaemia or a transplant without the word chemo
    "My dad is on chemo and has a temperature, should we go to A&E?", "I'm on chemo and I've got the chills",
    "My wife is on chemo and she is shaking and hot to the touch", "ibu saya habis kemo kemarin, sekarang panas tinggi",
    "sy lg kemo, skrg panas dingin", "ayah saya kemo, panasnya 39 derajat", "Dad on chemo, fever 39, what do we do?",
    "papa abis kemo kemarin, demam tinggi", "My son has leukemia and he has a fever tonight",
    "I had a stem cell transplant last month and now have a fever", "leukosit ayah saya rendah, sekarang demam",
    "I started chemo a year ago and I'm still on it, now I have a fever of 38.5",
    # an infection without a fever: shivery, shaky and cold, a temperature under 36
    "I'm neutropenic after chemo and I feel shaky and cold", "on chemo, feeling shivery and unwell, temp 35.5",
    "saya kemo, suhu 35,4 badan dingin",
])
def test_a_fever_during_chemotherapy_is_an_emergency(question):
    assert FEVER_ON_CHEMO in danger_signs(question)
    assert "fever" in must_mention(question).signs[0]


@pytest.mark.parametrize("question", [
    "Is fever during chemotherapy dangerous?", "Can CMV cause fever in people on chemo?",
    "I'm on chemo, can I get CMV from my grandchildren?", "I'm on chemo and I have no fever but feel tired",
    "I'm 3 weeks into chemo and my temperature is 37.2, is that ok?", "I had chemo 5 years ago and now I have a fever",
    "sel darah putih saya rendah habis kemo, apakah boleh ketemu cucu?", "Apakah demam saat kemoterapi berbahaya?",
    "I have a fever and a sore throat",  # a fever without chemotherapy or low white cells: not this sign
    # from the review: no fever now, another illness named after fever, another number near "temp", chemo long ago
    "I'm on chemo and I don't have a fever but I feel tired", "I'm on chemo, no fever or shivering, just nausea",
    "saya kemo, tidak ada demam, cuma mual", "sy kemo, gk demam kok cuma pusing",
    "I'm on chemo, can I get the yellow fever vaccine?", "I'm on chemo and my hay fever is terrible, can I take antihistamines?",
    "I'm on chemo and keep getting fever blisters on my lip", "I'm on chemo, temp 36.7, pulse 104",
    "saya kemo, suhu 36,5, tensi 100/70", "My chemo dose was temporarily reduced to 40 mg",
    "I had chemo 10 yrs ago and now I have a fever", "saya kemo 5 thn lalu, sekarang demam",
    "My chemo nurse said my temp was 35 minutes late", "on chemo, temp 36.5 and I feel fine",
])
def test_chemotherapy_without_a_fever_now_is_not_that_emergency(question):
    assert FEVER_ON_CHEMO not in danger_signs(question)


@pytest.mark.parametrize("sentence, calms", [
    ("Internal hemorrhoids that are not prolapsed are usually not painful.", True),
    ("The person may be unconscious for a minute or two, but will revive.", True),
    ("Biasanya tidak berbahaya dan sembuh sendiri.", True),
    ("Most healthy adults infected with CMV experience mild, flu-like symptoms or no symptoms at all.", True),
    # from a second review: calming wordings the first patterns missed
    ("A child who has a febrile seizure usually doesn't need to be hospitalized.", True),
    ("It is not an illness.", True), ("For most people CMV infection is not a problem.", True),
    ("In most cases, preeclampsia is mild and goes away within 6 weeks.", True),
    ("Many women have spotting early in pregnancy but do not miscarry.", True), ("And that is perfectly okay.", True),
    ("These signs and symptoms go away if you sit or lie down.", True), ("Most people make a full recovery.", True),
    ("Gejalanya akan hilang dengan sendirinya.", True), ("Tidak perlu dikhawatirkan.", True), ("Infeksi ini jarang berbahaya.", True),
    # ... and sentences that say when to act, which must stay
    ("Yes, severe CMV-related anemia and thrombocytopenia can lead to serious complications.", False),
    ("If the seizure does not stop on its own after 5 minutes, call 911.", False),
    ("Continue CPR until breathing is normal.", False), ("Continue CPR until the baby's breathing is normal.", False),
    ("Fever in a newborn is never harmless.", False),
    ("Preeclampsia usually requires emergency treatment.", False), ("Jika perdarahan tidak berhenti sendiri, segera ke IGD.", False),
    # from a third review
    ("It's not serious.", True), ("Nosebleeds are common and not usually serious.", True), ("Don't worry.", True),
    ("The prognosis is good.", True), ("Jangan khawatir.", True), ("Tidak apa-apa.", True),
    ("GI bleeding is not a disease, but a symptom of a disease.", False), ("Severe dehydration cannot be treated at home.", False),
    ("Many people have permanent heart damage or die because they don't get help immediately.", False),
    ("Without prompt treatment, full recovery is unlikely.", False), ("Perdarahan saat hamil bukan hal yang wajar.", False),
    # a warning not to assume, and curly apostrophes as sources write them
    ("Don't assume it will get better on its own.", False), ("Don\u2019t assume it will get better on its own.", False),
    ("Never assume a fever in a newborn is harmless.", False), ("Jangan anggap demam pada bayi tidak berbahaya.", False),
    ("Doctors assume it is benign, and it usually is.", True), ("It\u2019s not serious.", True), ("Don\u2019t worry.", True),
    ("It\u2018s not serious.", True), ("Don\u02bct worry.", True),
    # "don't assume" then a reason, a contrast, a dash or a bracket: what follows calms
    ("Don't assume the worst - it is usually harmless.", True), ("Don't assume the worst (most cases are mild).", True),
    ("Don't assume it's serious because it is usually harmless.", True),
    ("Never assume the worst since most babies recover fully.", True),
    ("Jangan anggap ini penyakit berat karena biasanya tidak berbahaya.", True),
    # a fifth review: "persons" and "individuals" as well as "people"; "if" a few words back still calms
    ("Although most persons with acute Q fever infection recover, others may experience serious illness.", True),
    ("Most individuals have a good chance of recovery.", True), ("If your condition is mild, you may not need treatment.", True),
    ("Keep your child at home until the fever goes away on its own.", True), ("Wait until the symptoms improve on their own.", True),
])
def test_sentences_that_calm_are_recognised(sentence, calms):
    from chatbot.answer.urgent import reassures

    assert reassures(sentence) is calms


def test_every_sign_says_what_a_source_quoted_for_it_must_mention():
    """Each emergency names the words of which a quoted source must use one (data/danger_signs.toml);
    a message with two signs gets both lists: a pregnant woman who bleeds needs a source on pregnancy
    as well as on bleeding, not the symptoms of hemorrhoids."""
    from chatbot.answer.urgent import must_mention

    signs, _, _ = load_signs()
    assert all(s.mention for s in signs), [s.name for s in signs if not s.mention]
    for wording in ("bleeding heavily", "heavily bleeding", "the bleeding won't stop", "bleeding like crazy"):
        needed = must_mention(f"I'm 34 weeks pregnant and {wording}. I have hemorrhoids. What are the symptoms of hemorrhoids?")
        assert [("bleeding" in m) for m in needed.signs] == [True], wording
        assert [("pregnancy" in m and "hamil" in m) for m in needed.each] == [True], wording
    # a sign of pregnancy alone needs a source on pregnancy that speaks of the sign too (not prenatal vitamins)
    needed = must_mention("I'm 34 weeks pregnant and the baby has stopped moving. What are prenatal vitamins?")
    assert len(needed.signs) == 1 and "fetal movement" in needed.signs[0] and "pregnancy" in needed.each[0]
    assert not must_mention("I'm 34 weeks pregnant. Is it normal to feel tired?")  # no emergency: nothing needed


def test_a_babys_emergency_days_after_the_birth_needs_a_source_on_babies_or_on_pregnancy():
    """'I gave birth 10 days ago' matches the pregnancy's context. When every sign described is a
    baby's and the message names the baby, a source on babies will do as well as one on pregnancy
    (a newborn's fever); never one on neither (a mother's fever after the birth, 'my baby is fine',
    must not get a page on Q fever). The mother's own emergency still needs one on pregnancy."""
    from chatbot.answer.urgent import danger_signs, must_mention

    for message in ("I gave birth 10 days ago. My baby has a fever of 38.5.", "Saya melahirkan 10 hari lalu, bayi saya demam tinggi",
                    "sy lahiran 2 minggu lalu, dedek panas bgt", "I gave birth 2 weeks ago and my baby won't feed",
                    "lahiran 10 hari lalu, si kecil demam tinggi",
                    "I gave birth 10 days ago and now I have a fever and chills. My baby is fine."):
        needed = must_mention(message)
        assert danger_signs(message) and needed.signs, message
        assert len(needed.each) == 1 and {"pregnancy", "baby", "newborn", "bayi"} <= set(needed.each[0]), message
    for message in ("I gave birth 5 days ago and I have a fever",  # no baby named: the mother's fever
                    "I gave birth 10 days ago, I am bleeding heavily and my baby has a fever"):  # the mother's bleeding too
        each = must_mention(message).each
        assert each and all("pregnancy" in words and "baby" not in words for words in each), message
    assert not danger_signs("Perkiraan melahirkan 2 minggu lagi, apakah boleh minum obat demam?")  # a birth still ahead
    assert not danger_signs("sy lahiran 2 minggu lalu, dedek tidak panas tinggi kok")
