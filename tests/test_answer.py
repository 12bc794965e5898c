"""Answers: grounded in cited passages, in the reply language, abstaining and urgent when they should."""

from __future__ import annotations

import pytest

from chatbot.answer.compose import compose, no_answer
from chatbot.ingest.sentences import passage_sentences as sentences
from chatbot.records import Chunk, Hit, Quote
from chatbot.answer.texts import fixed_phrases, text
from evaluation.answers import IN_SCOPE, OFF_TOPIC, URGENT_APART, grounding_violations, measure
from evaluation.common import load_set


def _hit(text_: str, lang: str = "en", section: str = "", n: int = 0) -> Hit:
    chunk = Chunk(id=f"d#{n}", doc_id="d", title="Doc", section=section, text=text_, language=lang, start=0, end=len(text_), position=n)
    return Hit(chunk=chunk, score=1.0)


def test_sentences_skip_headings_bullets_and_reference_numbers():
    hit = _hit("Terapi Suportif\n\n  • Transfusi darah mungkin diperlukan untuk anemia berat (Hb <8 g/dL) 4, 5", "id", "Terapi Suportif")
    assert [q.text for q in sentences(hit.chunk)] == ["Transfusi darah mungkin diperlukan untuk anemia berat (Hb <8 g/dL)"]


def test_a_heading_that_asks_a_question_before_a_short_subtitle_is_the_stored_question():
    from chatbot.ingest.sentences import stored_question

    text_ = "Yes, CMV infection can indeed be a cause of both anemia and thrombocytopenia."
    asked = _hit(text_, section="Can CMV Cause Anemia? › Can CMV Cause Anemia? Exploring the Connection")
    assert stored_question(asked.chunk) == "Can CMV Cause Anemia?" and sentences(asked.chunk)[0].faq
    plain = _hit(text_, section="Why it matters? Because the virus is common in every country of the world")
    assert stored_question(plain.chunk) == "" and not sentences(plain.chunk)[0].faq  # a sentence, not a subtitle
    two = _hit(text_, section="Is CMV dangerous? What can parents do?")
    assert stored_question(two.chunk) == "Is CMV dangerous? What can parents do?"  # a heading that ends asking is asked whole
    long_word = _hit(text_, section="Is this a question? " + "x" * 5000 + " a b c d e")
    assert stored_question(long_word.chunk) == ""  # at once: a long word is not tried split five ways


def test_sentence_places_are_where_each_sentence_lies_in_the_embedded_passage():
    """What a build pools from a passage's run: each sentence's place, a list intro through its last
    item, and the FAQ question when the embedded text holds it."""
    from chatbot.ingest.chunking import embedding_text
    from chatbot.ingest.sentences import sentence_places, sentence_texts

    hit = _hit("CMV spreads in saliva. It also spreads in urine. Risk groups are:\n  • Babies\n  • Transplant patients\n"
               "CMV spreads in saliva.", section="How is CMV transmitted?")
    text_ = embedding_text(hit.chunk)
    places = sentence_places(hit.chunk, text_)
    assert [t for t, _, _ in places] == sentence_texts(hit.chunk)  # each text once, the stored question too
    for t, a, b in places:
        if t.endswith("Transplant patients"):  # the intro with its items: from the intro to the last item
            assert text_[a:b].startswith("Risk groups are:") and text_[a:b].endswith("Transplant patients")
        else:
            assert text_[a:b] == t
    assert places[0][1] < places[1][1]  # the repeated sentence keeps its first place


def test_a_list_intro_carries_its_short_items():
    hit = _hit("There are other risk factors:\n\n  • Sepsis\n  • Heart defects\n  • Gut problems")
    quotes = sentences(hit.chunk)
    assert quotes[0].text == "There are other risk factors:" and quotes[0].items == ("Sepsis", "Heart defects", "Gut problems")


def test_a_statement_ending_in_a_tag_such_as_you_know_is_not_a_question():
    """A sentence that only ends with "you know?" or "kan?" states something and may be quoted; a
    real question, a short exclamation with a tag ("Pretty grim, right?") and "The worst part?" are
    not quoted as answers."""
    from chatbot.answer.choose import asks_something

    hit = _hit("The worst part? Treatments haven’t really improved much in decades. Pretty grim, right? "
               "Fingers crossed, but further research is needed to see if antiviral therapies could help, you know? "
               "How is it inherited? Is it safe for a baby, right after birth? Obat ini aman untuk ibu hamil dan bayi, kan?")
    asking = {s.text: asks_something(s.text) for s in sentences(hit.chunk)}
    assert asking == {
        "The worst part?": True,
        "Treatments haven’t really improved much in decades.": False,
        "Pretty grim, right?": True,
        "Fingers crossed, but further research is needed to see if antiviral therapies could help, you know?": False,
        "How is it inherited?": True,
        "Is it safe for a baby, right after birth?": True,  # "right after birth" is no tag
        "Obat ini aman untuk ibu hamil dan bayi, kan?": False,
    }
    tagged_questions = ["Is it safe to take this medicine every day during pregnancy, right?",  # they ask, tag or not
                        "Can I take ibuprofen while breastfeeding my baby, you know?",
                        "Apakah obat ini aman untuk ibu hamil dan bayi, kan?",
                        "Bolehkah obat ini diminum setiap hari selama hamil, bukan?",
                        "CMV, the gift that keeps on giving, huh?"]  # not a tag that ends a statement
    assert all(asks_something(s.text) for q in tagged_questions for s in sentences(_hit(q).chunk))
    odd = ["Most adults never notice the infection at all, you  know?", "Most adults never notice the infection at all, isnʼt it？",
           "Kebanyakan orang dewasa tidak merasakan gejala apa pun，kan？"]  # two spaces, U+02BC, full-width marks
    assert not any(asks_something(s.text) for q in odd for s in sentences(_hit(q, "id" if "Kebanyakan" in q else "en").chunk))


def test_compose_cites_positions_and_notes_other_language():
    hits = [_hit("Currently, there is no commercially available vaccine for CMV.", "en")]
    answer = compose("Apakah ada vaksin?", "id", hits, [Quote(0, "Currently, there is no commercially available vaccine for CMV.")], urgent=False)
    lines = answer.text.split("\n")
    assert lines[0] == text("intro", "id")
    assert lines[1] == text("other_language_note", "id", language="Inggris")
    assert "• Currently, there is no commercially available vaccine for CMV. [1]" in lines
    assert lines[-1] == text("disclaimer", "id")
    assert not grounding_violations(answer)


def test_two_passages_of_one_leaflet_are_two_sources_a_reader_can_tell_apart():
    from chatbot.records import Chunk

    def hit(section: str, text_: str, n: int, title: str = "Penatalaksanaan CMV") -> Hit:
        return Hit(chunk=Chunk(id=f"d#{n}", doc_id="d", title=title, section=section, text=text_, language="id", start=0,
                               end=len(text_), position=n), score=1.0)

    hits = [hit("Terapi Suportif", "Transfusi darah mungkin diperlukan.", 0),
            hit("Pendekatan Pengobatan › Pengobatan Antivirus", "Ganciclovir diberikan.", 1),
            hit("", "Sebuah rekaman tanpa bagian.", 2, title="Apa itu CMV?")]
    answer = compose("q", "id", hits, [Quote(n, h.chunk.text) for n, h in enumerate(hits)], urgent=False)
    lines = answer.text.split("\n")
    assert "[1] Penatalaksanaan CMV › Terapi Suportif (Indonesia)" in lines
    assert "[2] Penatalaksanaan CMV › Pengobatan Antivirus (Indonesia)" in lines  # the section's last heading
    assert "[3] Apa itu CMV? (Indonesia)" in lines  # no section: the title alone
    assert not grounding_violations(answer)


def test_urgent_message_comes_first_and_abstention_presents_no_passages():
    answer = no_answer("my baby is not breathing", "en", urgent=True)
    assert answer.text.startswith(text("urgent", "en"))
    assert answer.abstained and answer.urgent and answer.hits == ()
    assert answer.text.rstrip().endswith(text("disclaimer", "en"))


def test_grounding_check_catches_invented_text():
    hits = [_hit("CMV is transmitted through close contact with infected bodily fluids.")]
    answer = compose("q", "en", hits, [Quote(0, "CMV is transmitted through close contact with infected bodily fluids.")], urgent=False)
    tampered = type(answer)(**{**answer.__dict__, "text": answer.text.replace("bodily fluids", "mosquito bites")})
    assert grounding_violations(tampered)
    invented = type(answer)(**{**answer.__dict__, "text": answer.text + "\nTake two aspirin."})
    assert grounding_violations(invented) == ["Take two aspirin."]


def test_every_fixed_text_exists_in_both_languages():
    from chatbot.answer.texts import _all

    tables = _all()
    assert set(tables["en"]) == set(tables["id"])
    assert all(tables["en"][k] != tables["id"][k] or k.startswith("source_line") for k in tables["en"])
    assert len(fixed_phrases()) > 20


@pytest.mark.models
def test_every_answer_over_every_set_is_grounded_and_safe(real_bot):
    """Invariants over every labelled set (tuned on or not): each quoted line is verbatim in the
    passage it cites, every emergency of the urgent set gets the urgent advice first, and the
    reply language follows the question. Quality figures are reported, not asserted, except a
    floor on the sets nobody tuned on (so a broken chooser or abstention fails here)."""
    figures = measure(real_bot)
    assert figures["answers with an ungrounded line"] == 0
    assert figures["answers checked for grounding"] == sum(len(load_set(n)) for n in (*IN_SCOPE, *OFF_TOPIC, "urgent", *URGENT_APART))
    assert figures["urgent recall"] == 1.0
    assert figures["urgent recall (urgent_blind, only measured)"] >= 0.75  # written blind, never tuned on: a floor
    assert figures["reply language right"] >= 0.97
    assert figures["in-scope declined (independent)"] <= 0.15
    assert figures["off-topic declined (offtopic_seeds, en)"] >= 0.8 and figures["off-topic declined (offtopic_seeds, id)"] >= 0.8


def test_the_medicine_a_dose_question_names_must_be_in_the_passages():
    from chatbot.answer.topic import unnamed_medicines
    from chatbot.search.glossary import Glossary

    hits = [_hit("Ganciclovir intravena 5 mg/kg dua kali sehari selama 5-10 hari.", "id")]
    glossary = Glossary.load()
    assert unnamed_medicines("How many mg of paracetamol for my child?", "en", hits, glossary) == ["paracetamol"]
    assert unnamed_medicines("Berapa dosis ganciclovir untuk bayi?", "id", hits, glossary) == []
    assert unnamed_medicines("Kenapa dosis steroidnya diturunkan?", "id", [_hit("Dosis steroid diturunkan.", "id")], glossary) == []
    assert unnamed_medicines("Is a high dose dangerous?", "en", hits, glossary) == []  # names no medicine
    assert unnamed_medicines("What is the dose of paracetamol?", "en", hits, glossary) == ["paracetamol"]
    assert unnamed_medicines("How many doses of Synagis?", "en", hits, glossary) == ["synagis"]
    assert unnamed_medicines("What is the induction dose of ganciclovir?", "en", hits, glossary) == []


def test_a_medicine_question_names_the_groups_and_medicines_its_quotes_need():
    from chatbot.answer.topic import fits_group_question, group_question
    from chatbot.search.glossary import Glossary

    asked = group_question("Apakah ibu hamil boleh minum valgansiklovir?")
    assert len(asked.groups) == 1 and "kehamilan" in asked.groups[0] and asked.medicines == ("valgansiklovir",)
    assert len(group_question("Can I take ganciclovir while pregnant and breastfeeding?").groups) == 2
    for grouped in ("Is valganciclovir safe while breast feeding?", "I'm nursing, can I take valacyclovir?",
                    "bumil boleh minum obat ini ga?", "busui boleh minum antibiotik?", "I'm expecting, can I take ibuprofen?",
                    "usia kandungan 7 bulan, boleh minum parasetamol?", "my pregnant wife has CMV, what treatment?"):
        assert group_question(grouped) is not None, grouped
    for not_grouped in ("Saya sedang hamil, bagaimana caranya supaya tidak tertular CMV?",  # no medicine
                        "Berapa dosis valgansiklovir?",  # no group
                        "I'm not pregnant; what is the dose of ganciclovir?", "She isn\u2019t pregnant, dose of valganciclovir?",
                        "Saya tidak hamil, berapa dosis valgansiklovir?", "sy ga hamil kok, dosis valgan brp",
                        "Apakah obat ini mengandung alkohol?", "Hamilton asks the dose of ganciclovir",
                        "Can breast milk give my premature baby CMV?"):
        assert group_question(not_grouped) is None, not_grouped

    glossary = Glossary.load()
    assert fits_group_question(asked, "id", ("Valganciclovir is not given during pregnancy.",), "en", glossary)  # misspelt name
    assert not fits_group_question(asked, "id", ("Valganciclovir 900 mg per day is the standard course.",), "en", glossary)
    assert not fits_group_question(asked, "id", ("Pregnant women should wash their hands often.",), "en", glossary)
    generic = group_question("Is this medicine safe while breastfeeding?")
    assert generic.medicines == () and fits_group_question(generic, "en", ("Most medicines pass into breast milk; ask before "
                                                                           "taking any while breastfeeding.",), "en", glossary)


def test_a_glossary_phrase_counts_only_whole():
    """"asam lambung naik" is reflux; a passage with "naik" (rises) or "obat" (medicine) alone
    does not mention reflux or inhalers, so it does not cover the question."""
    from chatbot.answer.topic import coverage
    from chatbot.search.glossary import Glossary

    glossary = Glossary(({"en": ("reflux",), "id": ("refluks", "asam lambung naik")},),
                        {"en": {("reflux",): (0,)}, "id": {("refluks",): (0,), ("asam", "lambung", "naik"): (0,)}})
    rises = [_hit("Jumlah trombosit naik setelah pengobatan.", "id")]
    reflux = [_hit("Gejala utama adalah asam lambung naik ke kerongkongan.", "id")]
    assert coverage("What is reflux?", "en", rises, glossary) == 0.0
    assert coverage("What is reflux?", "en", reflux, glossary) == 1.0
    scattered = [_hit("Asam folat diminum tiap hari. Trombosit bisa naik. Dinding lambung meradang.", "id")]
    assert coverage("What is reflux?", "en", scattered, glossary) == 0.0  # the words, but not in a row
    assert glossary.synonyms("reflux at night", "en", "id") == (("refluks",), ("asam", "lambung", "naik"))


def test_another_form_of_an_english_word_counts_but_not_a_stem_that_changes_the_meaning():
    """"red" is said by "redness", "bleeds" by "bleeding"; but a stemmer's "production" for
    "productive", "under" for "underlying" or "a" for "AEDs" would make off-topic questions look
    covered, and Indonesian affixes change the meaning: dengue's "demam berdarah" (bleeding fever)
    is not mentioned by a passage on "darah" (blood)."""
    from chatbot.answer.topic import coverage, unnamed_medicines
    from chatbot.search.glossary import Glossary

    glossary = Glossary((), {})
    assert coverage("red eyes", "en", [_hit("Causes include redness of the eyes.", "en")], glossary) == 1.0
    assert coverage("it bleeds", "en", [_hit("The bleeding stops.", "en")], glossary) == 1.0
    assert coverage("red eyes", "en", [_hit("Causes include swelling of the eyelid.", "en")], glossary) == 0.0
    assert coverage("How can I be more productive at work?", "en", [_hit("Production of blood cells slows.", "en")], glossary) == 0.0
    assert coverage("an underlying heart condition", "en", [_hit("Low birth weight (under 1500 grams).", "en")], glossary) == 0.0
    assert coverage("Where can I buy an AED?", "en", [_hit("There is a vaccine in trials.", "en")], glossary) == 0.0
    assert unnamed_medicines("What dose of ORS should I give?", "en", [_hit("Give a dose or two.", "en")], glossary) == ["ors"]
    assert coverage("berdarah", "id", [_hit("Transfusi darah diperlukan.", "id")], glossary) == 0.0


class _Scripted:
    """An embedder whose similarity to the question [1, 0] is scripted per sentence."""

    def __init__(self, id_: str, cross_lingual: bool, sims: dict[str, float]) -> None:
        from chatbot.embeddings import Embedder

        class Fake(Embedder):
            dim = 2

            def _encode(self, texts, is_query):
                import numpy as np

                s = np.array([sims.get(t, 0.0) for t in texts])
                return np.stack([s, np.sqrt(1 - s ** 2)], axis=1)

        self.embedder = Fake()
        self.embedder.id, self.embedder.cross_lingual = id_, cross_lingual


def test_english_sentences_of_an_english_question_are_judged_by_the_english_model_alone():
    import numpy as np
    from dataclasses import replace

    from chatbot.answer.choose import ChooseSettings, choose

    alpha, other, beta = ("The alpha answer sits in this first sentence.", "A third sentence that carries neither word.",
                          "The beta answer sits in this last sentence.")
    multi = _Scripted("multi", True, {alpha: 1.0, other: 0.1, beta: 0.0}).embedder  # ranks English against English poorly
    english = _Scripted("english", False, {alpha: 0.3, other: 0.0, beta: 0.6}).embedder
    hits = [_hit(" ".join((alpha, other, beta)))]
    q = [np.array([1.0, 0.0], dtype=np.float32)] * 2

    def first(language: str, settings: ChooseSettings = ChooseSettings()) -> str:
        return choose("Tell me about the answer", language, hits, (multi, english), q, {}, settings)[0].text

    assert first("en") == beta
    assert first("en", replace(ChooseSettings(), english_alone=False)) == alpha  # both models, averaged
    assert first("id") == alpha  # an Indonesian question reads English sentences through the multilingual model


def test_the_top_faq_answer_whose_stored_question_asks_what_the_patient_asked_leads(real_embedders):
    """A collection of question/answer records (MedQuAD imported with the question as title): the
    patient's story names the condition, so the definition record beside the right one names it
    more often; the record whose stored question asks the same thing, ranked first, answers."""
    from dataclasses import replace

    from chatbot.answer.choose import ChooseSettings, SentenceVectors, choose
    from chatbot.search.glossary import Glossary

    def record(n: int, question: str, answer: str) -> Hit:
        chunk = Chunk(id=f"r{n}#0", doc_id=f"r{n}", title=question, section="", text=answer, language="en",
                      start=0, end=len(answer), position=0)
        return Hit(chunk=chunk, score=1.0)

    how_many = record(1, "How many people are affected by Canavan disease ?",
                      "Canavan disease occurs most frequently in people of Ashkenazi Jewish heritage. "
                      "About 1 in 6,400 to 13,500 people in this population is affected.")
    definition = record(2, "What is (are) Canavan disease ?",
                        "Canavan disease is a rare inherited disorder that damages the ability of nerve cells in the brain "
                        "to send and receive messages. Canavan disease is one of a group of genetic disorders called "
                        "leukodystrophies. Babies with Canavan disease have large heads and weak muscles.")
    question = ("My nephew is 6 months old, he can't hold his head up and his head seems big, and the doctors "
                "mentioned Canavan disease. How many people have this?")
    vectors = [e.encode_queries([question])[0] for e in real_embedders]

    def quoted(settings: ChooseSettings) -> list[str]:
        return [q.text for q in choose(question, "en", [how_many, definition], real_embedders, vectors, {}, settings,
                                       SentenceVectors(), Glossary.load())]

    assert "Ashkenazi" in quoted(ChooseSettings())[0]
    assert any("1 in 6,400" in t for t in quoted(ChooseSettings()))  # the number asked for, from the same record
    # without the rule the top record gives only its first sentence, beside the definition...
    assert not any("1 in 6,400" in t for t in quoted(replace(ChooseSettings(), faq_lead=0.0)))
    # ...and without the rule that quotes the best-ranked passage too, only the definition record
    assert quoted(replace(ChooseSettings(), faq_lead=0.0, top_quote=-1.0))[0].startswith("Canavan disease is a rare")

    from chatbot.answer.choose import Context, _leading_faq, asked

    def lead(hits: list[Hit], language: str = "en") -> int | None:
        ctx = Context(question, language, vectors, {}, asked(question))
        return _leading_faq(ctx, hits, set(range(len(hits))), real_embedders, SentenceVectors(), ChooseSettings())

    assert lead([how_many, definition]) == 0
    assert lead([definition, how_many]) is None  # the matching record must be the one retrieval ranked first


def test_a_faq_answer_leads_only_when_its_stored_question_clearly_asks_what_the_patient_asked(monkeypatch):
    import chatbot.answer.choose as choose_module
    from chatbot.answer.choose import ChooseSettings, Context, SentenceVectors, _leading_faq

    def record(n: int, question: str, lang: str = "en") -> Hit:
        chunk = Chunk(id=f"r{n}#0", doc_id=f"r{n}", title=question, section="", text="An answer.", language=lang,
                      start=0, end=10, position=0)
        return Hit(chunk=chunk, score=1.0)

    def lead(sims: list[float], langs: tuple[str, ...] = ("en", "en"), asker: str = "en") -> int | None:
        hits = [record(n, f"Stored question {n}?" if sim is not None else "A leaflet", lang)
                for n, (sim, lang) in enumerate(zip(sims, langs))]
        by_id = {h.chunk.id: sim for h, sim in zip(hits, sims)}
        monkeypatch.setattr(choose_module, "_faq_similarity", lambda ctx, hit, embedders, cache: by_id[hit.chunk.id] or 0.0)
        ctx = Context("a question", asker, [], {}, ())
        return _leading_faq(ctx, hits, set(range(len(hits))), (), SentenceVectors(), ChooseSettings())

    match, margin = ChooseSettings().faq_match, ChooseSettings().faq_lead_margin
    assert lead([match + 0.2, match]) == 0
    assert lead([match + 0.2, None]) == 0  # beside a passage that is no FAQ answer
    assert lead([match + margin / 2, match]) is None  # two stored questions about as close: neither leads
    assert lead([match - 0.01, 0.0]) is None  # not close enough to ask the same thing
    assert lead([match, match + 0.2]) is None  # the closest stored question is not the top passage
    assert lead([match + 0.2, match], ("en", "en"), asker="id") is None  # a FAQ in another language never leads
    assert lead([float("nan"), match + 0.2]) is None  # a broken vector does not make its passage lead


def test_a_sentence_in_the_reply_language_replaces_a_better_one_only_from_a_passage_ranked_as_high():
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, choose

    english = "Blood counts usually improve within weeks to months."
    indonesian = "Ganciclovir diberikan dua kali sehari selama 5-10 hari."
    multi = _Scripted("multi", True, {english: 0.9, indonesian: 0.88}).embedder
    q = [np.array([1.0, 0.0], dtype=np.float32)]
    settings = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, normalise=False,
                              max_sentences=1, follow=0, faq_lead=0.0)

    def first(hits: list[Hit]) -> str:
        return choose("Berapa lama trombositnya normal lagi?", "id", hits, (multi,), q, {}, settings)[0].text

    assert first([_hit(indonesian, "id", n=0), _hit(english, "en", n=1)]) == indonesian  # as high: the reply language
    assert first([_hit(english, "en", n=0), _hit(indonesian, "id", n=1)]) == english  # ranked lower: the better answer


def test_the_best_ranked_passage_gives_the_first_quote_unless_its_sentences_are_far_worse():
    """Retrieval ranked a passage first on its title and stored question as well as its words; a
    sentence of it that scores nearly as well as the best sentence elsewhere is quoted first."""
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, choose

    own, elsewhere = "The own record says how many people are affected.", "Another record names the condition again."
    settings = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, normalise=False,
                              max_sentences=1, follow=0, faq_lead=0.0, margin=0.0)
    q = [np.array([1.0, 0.0], dtype=np.float32)]

    def quoted(own_sim: float) -> list[tuple[int, str]]:
        model = _Scripted("english", False, {own: own_sim, elsewhere: 0.6}).embedder
        hits = [_hit(own, n=0), _hit(elsewhere, n=1)]
        return [(x.n, x.text) for x in choose("How many people have this?", "en", hits, (model,), q, {}, settings)]

    near = 0.6 - settings.top_quote / 2
    assert quoted(near) == [(0, own), (1, elsewhere)]  # nearly as good: the top passage is quoted, first
    assert quoted(0.6 - settings.top_quote - 0.05) == [(1, elsewhere)]  # far worse: it is not
    assert quoted(0.7) == [(0, own)]  # the best sentence is in it already: nothing is added

    same = "Another record names the condition again, once more."  # the same sentence from another source
    model = _Scripted("english", False, {same: 0.6 - settings.top_quote / 2, elsewhere: 0.6}).embedder
    hits = [_hit(same, n=0), _hit(elsewhere, n=1)]
    assert [x.n for x in choose("How many people have this?", "en", hits, (model,), q, {}, settings)] == [1]  # not repeated


def test_a_short_sentence_that_joins_the_answer_brings_the_one_after_it():
    """A short sentence announces more than it says ("NEC, as you know, is just devastating."):
    when it joins the answer beside the best one, the sentence after it comes along."""
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, choose

    best, short, then, last = ("The illness harms the gut of premature babies.", "It is just devastating.",
                               "We are talking inflammation and tissue death in the gut.", "A last sentence on another matter.")
    model = _Scripted("english", False, {best: 0.9, short: 0.88, then: 0.1, last: 0.1}).embedder
    q = [np.array([1.0, 0.0], dtype=np.float32)]
    base = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, normalise=False,
                          follow=1, faq_lead=0.0, top_quote=0.0)

    def quoted(text_: str, settings: ChooseSettings) -> list[str]:
        hits = [_hit(best, n=0), _hit(text_, n=1)]
        return [x.text for x in choose("What is this illness?", "en", hits, (model,), q, {}, settings)]

    assert quoted(f"{short} {then} {last}", base) == [best, short, then]
    assert quoted(f"{short} {then} {last}", ChooseSettings(**{**base.__dict__, "short_words": 3})) == [best, short]  # not short
    long_ = "It is just devastating for every family that has to watch it happen."
    model = _Scripted("english", False, {best: 0.9, long_: 0.88, then: 0.1, last: 0.1}).embedder
    assert [x.text for x in choose("What is this illness?", "en", [_hit(best, n=0), _hit(f"{long_} {then} {last}", n=1)],
                                   (model,), q, {}, base)] == [best, long_]


def test_a_model_that_compares_one_sentence_alone_does_not_outweigh_the_z_scores_of_the_others():
    """An English question over English sentences and one Indonesian sentence: the English model
    judges the English ones (as z-scores), the multilingual one only the Indonesian sentence. A
    single sentence has no spread to be scored against; its raw similarity (0.9, while z-scores
    run about +-0.1) made a drug dose in Indonesian the answer to "How is CMV passed on?"."""
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, choose

    spread, intro, other = ("CMV spreads through saliva, urine and breast milk.", "CMV is a common virus.",
                            "Most adults have mild symptoms.")
    dose = "Ganciclovir intravena 5 mg/kg dua kali sehari."
    english = _Scripted("english", False, {spread: 0.7, intro: 0.5, other: 0.3}).embedder
    multi = _Scripted("multi", True, {dose: 0.9, spread: 0.2, intro: 0.2, other: 0.2}).embedder
    q = [np.array([1.0, 0.0], dtype=np.float32)] * 2
    settings = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, max_sentences=1,
                              follow=0, faq_lead=0.0)
    hits = [_hit(" ".join((intro, spread, other)), "en", n=0), _hit(dose, "id", n=1)]
    assert choose("How is CMV passed on?", "en", hits, (multi, english), q, {}, settings)[0].text == spread


def test_a_sentence_the_build_did_not_read_is_embedded_while_the_patient_waits_only_with_the_questions_words():
    """In a large collection the build reads each sentence in its passage, up to the model's input
    length; a sentence past it is embedded when an answer needs it, read up to its opening words,
    and only when it shares a word with the question (the others count as average): on MedQuAD
    that halved the time spent embedding while the patient waits, with the same answers on the
    tuning sets. A sentence the build read is compared whatever its words."""
    import faiss
    import numpy as np
    from dataclasses import replace

    from chatbot.answer.choose import ANSWER_TIME_WORDS, ChooseSettings, SentenceVectors, choose
    from chatbot.index.vectors import text_key
    from chatbot.search.glossary import Glossary

    read, near, unrelated = ("Most recover fully within weeks.", "Babies catch CMV before birth from their mothers.",
                             "The weather was fine that year in the town.")
    long_ = "Babies who catch CMV " + " ".join(f"word{i}" for i in range(40)) + "."
    opening = " ".join(long_.split()[:ANSWER_TIME_WORDS])
    assert opening != long_
    question = "How do babies get CMV?"
    views = {"en": Glossary.load().view(question, "en", "en")}
    hits = [_hit(" ".join((read, near, unrelated, long_)))]
    q = [np.array([1.0, 0.0], dtype=np.float32)]
    settings = ChooseSettings(topic_weight=0.0, kind_weight=0.0, lexical_weight=0.0, rank_step=0.0, max_sentences=1,
                              follow=0, faq_lead=0.0, top_quote=0.0, unread_cap=0)  # no cap: the next test has it

    def answer(sims: dict[str, float], stored: tuple[str, ...], settings: ChooseSettings = settings) -> tuple[str, list[str]]:
        """The first quote, and the texts embedded while answering."""
        model = _Scripted("english", False, sims).embedder
        asked: list[str] = []
        encode = model._encode

        def recording(texts, is_query):
            asked.extend(texts)
            return encode(texts, is_query)

        built = faiss.IndexFlatIP(2)
        if stored:
            built.add(model.encode_passages(list(stored)))
        store = SentenceVectors({model.id: ({text_key(t): n for n, t in enumerate(stored)}, built)})
        model._encode = recording
        return choose(question, "en", hits, (model,), q, views, settings, store)[0].text, asked

    sims = {read: 0.7, near: 0.6, unrelated: 0.95, opening: 0.1}
    quoted, asked = answer(sims, (read,))
    assert quoted == read  # read at build time: compared although it has none of the question's words
    assert sorted(asked) == sorted([near, opening]) and long_ not in asked  # the long one: its opening only
    assert answer(sims | {read: 0.3}, (read,))[0] == near
    quoted, asked = answer(sims, (read,), replace(settings, embed_unread=True))
    assert quoted == unrelated and unrelated in asked  # embedded too, it would have won
    quoted, asked = answer(sims | {long_: 0.1}, ())  # an index that stores no sentences embeds every one, whole
    assert quoted == unrelated and long_ in asked and opening not in asked


def test_while_the_patient_waits_at_most_unread_cap_sentences_are_embedded_those_with_most_of_the_questions_words():
    """A MedQuAD answer's slowest tenth embedded five or more sentences the build had not read; the
    cap keeps those with the largest share of the question's words, the others count as average."""
    import faiss
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, SentenceVectors, choose
    from chatbot.search.glossary import Glossary

    question = "How do newborn babies get CMV infection?"
    most, fewer, fewest = ("Newborn babies get CMV infection from their mothers.", "Babies get CMV from saliva.",
                           "CMV is common.")
    sims = {most: 0.2, fewer: 0.3, fewest: 0.9}
    views = {"en": Glossary.load().view(question, "en", "en")}
    hits = [_hit(" ".join((fewest, fewer, most)))]
    q = [np.array([1.0, 0.0], dtype=np.float32)]

    def embedded(cap: int) -> tuple[str, list[str]]:
        model = _Scripted("english", False, sims).embedder
        asked: list[str] = []
        encode = model._encode
        model._encode = lambda texts, is_query: (asked.extend(texts), encode(texts, is_query))[1]
        store = SentenceVectors({model.id: ({b"x": 0}, faiss.IndexFlatIP(2))})  # stores sentences, none of these
        settings = ChooseSettings(topic_weight=0.0, kind_weight=0.0, lexical_weight=0.0, rank_step=0.0, max_sentences=1,
                                  follow=0, faq_lead=0.0, top_quote=0.0, unread_cap=cap)
        return choose(question, "en", hits, (model,), q, views, settings, store)[0].text, asked

    quoted, asked = embedded(0)  # no cap: every one with a word of the question, and the closest wins
    assert sorted(asked) == sorted([fewest, fewer, most]) and quoted == fewest
    quoted, asked = embedded(2)  # "CMV is common." has the fewest of the question's words: not embedded, not quoted
    assert sorted(asked) == sorted([most, fewer]) and quoted == fewer
    assert embedded(1)[1] == [most]


def test_a_misspelt_word_is_found_as_difflib_finds_it(corpus_dir):
    import difflib
    import random

    from chatbot.answer.topic import _misspelt
    from chatbot.text import words

    there = frozenset(w for p in sorted(corpus_dir.glob("*.md")) for w in words(p.read_text(encoding="utf-8")))
    rng = random.Random(3)
    terms = ["anemai", "trombositopenai", "ganciclovr", "cytomegalovirus", "preeclampsia", "kehamilan", "xyzzyq"]
    for word in rng.sample(sorted(w for w in there if len(w) >= 5), 60):  # and words with one letter changed
        i = rng.randrange(len(word))
        terms.append(word[:i] + rng.choice("aeiouklmnrst") + word[i + 1:])
    found = [_misspelt(t, there) for t in terms]
    assert found == [bool(difflib.get_close_matches(t, there, n=1, cutoff=0.85)) for t in terms]
    assert any(found) and not all(found)
    at_the_cutoff = frozenset({"abcdefghijklmnopqrstuvw"})  # 17 letters of 23 in common: ratio 34/40, exactly 0.85
    assert _misspelt("abcdefghijklmnopq", at_the_cutoff) is bool(difflib.get_close_matches("abcdefghijklmnopq", at_the_cutoff, cutoff=0.85))
    assert _misspelt("abcdefghijklmnopq", at_the_cutoff)


def test_a_sentence_about_the_source_is_never_quoted_and_an_announced_list_comes_along():
    """MedQuAD's GARD symptom records (2,243 of them): "... provides the following list of signs and
    symptoms for X." then sentences on how to read the site's table, then the table itself in the
    next passage. The sentences about the source are never quoted, however close to the question
    (data/source_talk.toml); the sentence that announces the list brings it, across the passage
    boundary, and "the following day" announces nothing."""
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, choose, says_nothing_on_health

    intro = "The Human Phenotype Ontology provides the following list of signs and symptoms for Foo syndrome."
    table_below = "If the information is available, the table below includes how often the symptom is seen in people with this condition."
    dictionary = "You can use the MedlinePlus Medical Dictionary to look up the definitions for these medical terms."
    table = "Signs and Symptoms Approximate number of patients (when available) Seizures 90% Short stature 50%"
    assert says_nothing_on_health(dictionary) and says_nothing_on_health(table_below)
    assert not says_nothing_on_health(intro) and not says_nothing_on_health(table)
    model = _Scripted("english", False, {dictionary: 0.95, table_below: 0.93, intro: 0.9, table: 0.2}).embedder
    q = [np.array([1.0, 0.0], dtype=np.float32)]
    settings = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, normalise=False,
                              max_sentences=1, follow=0, faq_lead=0.0)
    hits = [_hit(f"{intro} {table_below} {dictionary}", n=0), _hit(table, n=1)]
    quoted = [(x.n, x.text) for x in choose("What are the symptoms of Foo syndrome?", "en", hits, (model,), q, {}, settings)]
    assert quoted == [(0, intro), (1, table)]

    other_doc = Hit(chunk=Chunk(id="e#1", doc_id="e", title="Doc", section="", text=table, language="en", start=0,
                                end=len(table), position=1), score=1.0)
    quoted = [x.n for x in choose("What are the symptoms of Foo syndrome?", "en", [hits[0], other_doc], (model,), q, {}, settings)]
    assert quoted == [0]  # the passage after it in another document is not what it announces

    day = "She developed a rash the following day."
    after = "Fever is common in young children."
    model = _Scripted("english", False, {day: 0.9, after: 0.1}).embedder
    quoted = [x.text for x in choose("When did the rash start?", "en", [_hit(f"{day} {after}")], (model,), q, {}, settings)]
    assert quoted == [day]

    inline = "Treatment may include the following: surgery, radiation and chemotherapy."  # carries its list itself
    model = _Scripted("english", False, {inline: 0.9, after: 0.1}).embedder
    quoted = [x.text for x in choose("How is it treated?", "en", [_hit(f"{inline} {after}")], (model,), q, {}, settings)]
    assert quoted == [inline]

    sign = "Seizures are the main sign of Foo syndrome."  # the sentence after it comes along (follow=1), unless about the source
    model = _Scripted("english", False, {sign: 0.9, dictionary: 0.5}).embedder
    followed = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, normalise=False,
                              max_sentences=1, follow=1, faq_lead=0.0)
    quoted = [x.text for x in choose("What are the signs?", "en", [_hit(f"{sign} {dictionary}")], (model,), q, {}, followed)]
    assert quoted == [sign]


def test_the_writers_asides_are_never_quoted():
    """A blog-style seed article ("Honestly, NEC keeps me up at night.") or a worksheet ("I can have
    _____ ounces of fluid each day.") says nothing on health in its asides: the chooser quotes the
    statement beside the aside, however close the aside comes to the question (data/source_talk.toml,
    `asides`). Roman numerals, first-person instructions, a filler before a statement and an
    interjection before a statement are not asides. "So that ..." leans on the sentence before it:
    it comes with a statement, and says nothing after an aside."""
    import numpy as np

    from chatbot.answer.choose import ChooseSettings, choose, says_nothing_on_health

    aside = "Honestly, NEC keeps me up at night."
    fact = "It is a leading cause of sickness and death in the NICU, hitting preterm babies the hardest."
    for text_ in (aside, "I feel like keeping an eye out for these risk factors is just basic common sense.",
                  "And I think that is all there is to it.",
                  "This is huge, and I can't help think that we may use it.", "I can have _____ ounces of fluid each day.",
                  "I've seen this before.", "Alright, let's talk about this connection."):
        assert says_nothing_on_health(text_), text_
    for text_ in (fact, "I mean, we're talking about intestinal inflammation and tissue death in these infants.",
                  "For instance, I remember reading about a study where they were testing a new antiviral drug.",
                  "People with CDA type I are born with skeletal abnormalities.", "Stage I: There is one tumor.",
                  "Types II and I are the most common forms.", "I cell disease is a severe inherited disorder.",
                  "I should call my doctor if my ankles swell.", "Okay, so NEC is a disease in which the intestine is damaged.",
                  "Call me if you have a fever.", "ME/CFS causes severe fatigue.", "Phlebotomy (fle-BOT-o-me) removes some blood.",
                  "Fingers crossed, but further research is needed to see if antiviral therapies could help, you know?"):
        assert not says_nothing_on_health(text_), text_
    model = _Scripted("english", False, {aside: 0.95, fact: 0.5}).embedder
    settings = ChooseSettings(topic_weight=0.0, lexical_weight=0.0, kind_weight=0.0, rank_step=0.0, normalise=False,
                              max_sentences=1, follow=0, faq_lead=0.0)
    q = [np.array([1.0, 0.0], dtype=np.float32)]
    quoted = [x.text for x in choose("What is NEC?", "en", [_hit(f"{aside} {fact}")], (model,), q, {}, settings)]
    assert quoted == [fact]

    feel = "I feel like keeping an eye out for these risk factors is just basic common sense."
    leaning = "So that we can jump in and do something about it."
    model = _Scripted("english", False, {leaning: 0.95, feel: 0.9, fact: 0.5}).embedder
    quoted = [x.text for x in choose("How can we catch NEC early?", "en", [_hit(f"{fact} {feel} {leaning}")], (model,), q, {}, settings)]
    assert quoted == [fact]  # after an aside, "So that ..." says nothing either
    watch = "Watch your baby's belly and feeding closely."
    model = _Scripted("english", False, {leaning: 0.95, watch: 0.3}).embedder
    quoted = [x.text for x in choose("How can we catch NEC early?", "en", [_hit(f"{watch} {leaning}")], (model,), q, {}, settings)]
    assert quoted == [watch, leaning]  # after a statement it comes with the sentence it leans on
