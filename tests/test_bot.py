"""The engine end to end with the real packaged models: odd input, follow-ups, languages."""

from __future__ import annotations

import pytest

from chatbot.answer.choose import asks_something
from chatbot.serve.engine import clean_question
from chatbot.answer.texts import text

pytestmark = pytest.mark.models


def test_clean_question_strips_controls_and_direction_overrides():
    assert clean_question("  How\x00 is\u202e CMV\u200b\ttransmitted?\n") == "How is CMV transmitted?"
    assert clean_question("\udcff\udcfe") == ""  # undecodable argv bytes
    assert clean_question("caf\udcc3\udca9?") == "café?"  # argv bytes that were UTF-8 after all
    assert clean_question(None) == ""


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_questions_get_a_prompt(real_bot, question):
    answer = real_bot.ask(question)
    assert answer.notice == "empty_question" and answer.text == text("empty_question", "en") and not answer.hits


@pytest.mark.parametrize("question", ["\x00\x01", "\u202e\u200b", "\udcff\udcfe"])
def test_unreadable_questions_are_asked_again(real_bot, question):
    answer = real_bot.ask(question)
    assert answer.notice == "unreadable" and answer.text == text("unreadable", "en") and not answer.hits


def test_huge_question_is_refused_politely_in_its_language(real_bot):
    answer = real_bot.ask("Apakah CMV menular? " * 10_000)
    assert answer.notice == "too_long" and answer.language == "id"
    assert "200000" in answer.text or "200.000" in answer.text or str(len("Apakah CMV menular? " * 10_000) - 1) in answer.text


@pytest.mark.parametrize("question", ["🦠🩸❓", "<script>alert(1)</script> How is CMV transmitted?",
                                      "כיצד מועבר CMV?", "**bold** [link](javascript:alert(1)) vaksin CMV"])
def test_odd_questions_answer_without_crashing(real_bot, question):
    answer = real_bot.ask(question)
    assert answer.language in ("en", "id") and answer.text
    assert answer.text.rstrip().endswith(text("disclaimer", answer.language)) or answer.notice


def test_other_language_gets_the_supported_languages_note(real_bot):
    answer = real_bot.ask("Comment le CMV se transmet-il aux bébés pendant la grossesse ?")
    assert text("unsupported_language", answer.language) in answer.text


def test_reply_language_follows_question_or_override(real_bot):
    assert real_bot.ask("Apakah ada vaksin untuk CMV?").language == "id"
    forced = real_bot.ask("Apakah ada vaksin untuk CMV?", lang="en")
    assert forced.language == "en" and forced.text.startswith(text("intro", "en"))


def test_cross_lingual_answer_is_found_and_flagged(real_bot):
    answer = real_bot.ask("Apakah ada vaksin untuk CMV?")
    assert not answer.abstained
    assert "no commercially available vaccine" in answer.text
    assert text("other_language_note", "id", language="Inggris") in answer.text


def test_follow_up_uses_the_previous_question(real_bot):
    alone = real_bot.ask("and in babies?")
    followed = real_bot.ask("and in babies?", history=["Is there a vaccine for CMV?"])
    assert "vaccine" in followed.text
    assert followed.hits[0].chunk.id != (alone.hits[0].chunk.id if alone.hits else None) or "vaccine" not in alone.text


def test_topic_question_about_bleeding_is_not_urgent_but_emergency_is(real_bot):
    assert not real_bot.ask("Can CMV cause bleeding problems?").urgent
    urgent = real_bot.ask("My baby is having a seizure right now")
    assert urgent.urgent and urgent.text.startswith(text("urgent", "en"))


def test_quotes_repeat_no_list_item_and_no_question_stands_alone(real_bot):
    from evaluation.common import load_set

    for record in load_set("independent")[:40] + [{"question": "Could my genes make me more prone to CMV complications?"}]:
        quotes = real_bot.ask(record["question"]).quotes
        items = {(q.n, item) for q in quotes for item in q.items}
        assert not [q.text for q in quotes if (q.n, q.text) in items], record["question"]
        alone = [q.text for k, q in enumerate(quotes) if asks_something(q.text)
                 and not (k + 1 < len(quotes) and quotes[k + 1].n == q.n)]
        assert not alone, record["question"]  # a question in the text is quoted only before the sentence that answers it
        # (a statement that ends with a tag, "... could help, you know?", states something: it may stand alone)


@pytest.mark.parametrize("question", ["How many mg of paracetamol can I give my 2 year old with CMV?",
                                      "What is the dose of paracetamol for my 2 year old with CMV?",
                                      "What is the ibuprofen dose for a baby with NEC?", "Berapa mg amoxicillin untuk anak CMV?"])
def test_a_dose_of_a_medicine_the_sources_do_not_name_is_not_answered(real_bot, question):
    answer = real_bot.ask(question)
    assert answer.abstained and not answer.quotes  # not the ganciclovir dose the CMV leaflet gives


@pytest.mark.parametrize("question", ["What's the IV ganciclovir dose for a CMV infection?", "dosis valganciclovir",
                                      "What is the induction dose of ganciclovir for CMV?"])
def test_a_dose_the_sources_give_is_answered(real_bot, question):
    answer = real_bot.ask(question)
    assert not answer.abstained and any("mg" in q.text for q in answer.quotes)


@pytest.mark.parametrize("question", ["Apakah ibu hamil boleh minum valgansiklovir?", "Is valganciclovir safe while breastfeeding?",
                                      "Saya sedang hamil 5 bulan, dosis ganciclovir untuk saya berapa?",
                                      "Is valganciclovir safe while breast feeding?", "my pregnant wife has CMV, what treatment?"])
def test_a_medicine_for_someone_pregnant_or_breastfeeding_is_not_answered_with_its_usual_dose(real_bot, question):
    """The seed documents give the usual ganciclovir and valganciclovir doses and say nothing of
    either in pregnancy or breastfeeding: quoting the dose would read as a yes."""
    answer = real_bot.ask(question)
    assert answer.abstained and not answer.quotes


def test_a_quote_that_speaks_of_the_pregnancy_stays_and_a_group_said_not_to_apply_changes_nothing(real_bot):
    kept = real_bot.ask("I'm pregnant; besides medicines, how do I avoid CMV?")
    assert any("Pregnant women" in item for q in kept.quotes for item in (q.text, *q.items)), kept.text
    assert all("Pregnant" in " ".join((q.text, *q.items)) for q in kept.quotes), kept.text
    dose = real_bot.ask("Saya tidak hamil, berapa dosis valgansiklovir?")
    assert not dose.abstained and any("900 mg" in q.text for q in dose.quotes)


def test_a_short_follow_up_that_adds_a_pregnancy_to_a_dose_question_is_not_answered_with_the_dose(real_bot):
    assert any("mg" in q.text for q in real_bot.ask("What is the dose of valganciclovir?").quotes)
    answer = real_bot.ask("and while pregnant?", history=["What is the dose of valganciclovir?"])
    assert answer.abstained and not answer.quotes


def test_chat_spelling_is_answered_in_indonesian(real_bot):
    answer = real_bot.ask("hb brp hrs transfusi")  # "at what Hb does one need a transfusion"
    assert not answer.abstained and answer.language == "id" and any("Hb <8" in q.text for q in answer.quotes)


@pytest.mark.parametrize("question", ["bayi saya baru lahir demam tinggi dan tidak mau menyusu",
                                      "my newborn has a fever and won't feed",
                                      "bayi saya demam dan tidak mau menyusu"])  # a baby of any age who will not feed
def test_an_emergency_the_sources_do_not_describe_gets_the_urgent_advice_and_no_loose_quotes(real_bot, question):
    """The seed documents say nothing about a newborn's fever. The NEC risk factors ("Being born
    too early", "Formula feeding (breast milk ...)") share words with the Indonesian message ("lahir",
    "menyusu") but are no answer to it: a source quoted for this emergency must mention a fever."""
    answer = real_bot.ask(question)
    assert answer.urgent and answer.abstained and not answer.quotes


@pytest.mark.parametrize("question, history", [
    # the FAQ answers how CMV spreads and says nothing of a fever: no answer to this emergency,
    # although the message asks the FAQ's own question
    ("My baby is 2 weeks old, has a fever and won't feed, and the doctor said she has CMV. How is CMV transmitted?", ()),
    ("My baby is 2 weeks old, has a fever and won't feed. What should I do?", ()),
    # a short follow-up is searched with the question before it, which it does not ask
    ("my baby stopped breathing", ("How is CMV transmitted?",)),
    # a question someone else asked, quoted in the message
    ('The nurse asked "how is CMV transmitted?" and now my baby is not breathing.', ()),
    # a side question during a fit or while a baby struggles to breathe: no source speaks of either
    ("My son is having a seizure. How is CMV transmitted?", ()),
    ("anak sy kejang dari tadi, cmv nularin lewat apa?", ()),
    ("My baby is not breathing, can you check how CMV is transmitted?", ()),
    # two emergencies: the FAQ speaks of pregnancy, never of breathing; each must be spoken of
    ("I'm 30 weeks pregnant and I can't breathe properly. Can CMV pass to my baby?", ()),
])
def test_an_emergency_gets_no_faq_answer_that_does_not_describe_it(real_bot, question, history):
    answer = real_bot.ask(question, history=history)
    assert answer.urgent and answer.abstained and not answer.quotes


@pytest.mark.parametrize("question", [
    "My husband has CMV and low platelets and now he is bleeding heavily from a cut that won't stop. Can CMV cause bleeding?",
    "Suami saya muntah darah sekarang. Dia kena CMV. Apakah CMV bisa menyebabkan trombosit rendah?",
    # two signs of one event: the source speaks of the bleeding, not of the weakness
    "Suami saya kena CMV dan trombosit rendah, sekarang pendarahan dari luka tidak berhenti dan lemas sekali. Kenapa bisa begitu?",
])
def test_an_emergency_the_sources_speak_of_gets_the_urgent_advice_and_the_source(real_bot, question):
    """The FAQ says that low platelets raise the risk of bleeding: quoted after the urgent advice."""
    answer = real_bot.ask(question)
    assert answer.urgent and not answer.abstained
    assert any("thrombocytopenia" in q.text for q in answer.quotes)


def test_an_emergency_quotes_only_passages_that_speak_of_it_and_nothing_that_calms():
    """Each quoted passage must itself speak of the emergency (not the symptoms of cyclic vomiting
    beside a passage on vomiting blood); in a pregnancy it must speak of pregnancy; and no sentence
    that calms ("usually not painful") follows the urgent advice."""
    from chatbot.answer.urgent import must_mention
    from chatbot.records import Chunk, Hit, Quote
    from chatbot.serve.engine import quotable_in_emergency

    def hit(n: int, title: str, text: str) -> Hit:
        return Hit(chunk=Chunk(id=f"r{n}#0", doc_id=f"r{n}", title=title, section="", text=text, language="en", start=0,
                               end=len(text), position=0), score=1.0)

    hits = [hit(0, "What are the symptoms of Hemorrhoids ?", "The most common symptom of internal hemorrhoids is bright red "
                "blood on stool. Internal hemorrhoids that are not prolapsed are usually not painful."),
            hit(1, "What causes Cyclic vomiting syndrome ?", "The cause of cyclic vomiting syndrome is unknown."),
            hit(2, "Bleeding in pregnancy", "Heavy bleeding in pregnancy needs care at once.")]
    quotes = [Quote(0, "The most common symptom of internal hemorrhoids is bright red blood on stool."),
              Quote(0, "Internal hemorrhoids that are not prolapsed are usually not painful."),
              Quote(1, "The cause of cyclic vomiting syndrome is unknown."),
              Quote(2, "Heavy bleeding in pregnancy needs care at once.")]
    assert [q.n for q in quotable_in_emergency(quotes, hits, must_mention("My dad is vomiting blood and won't stop"))] == [2]
    pregnant = must_mention("I'm 34 weeks pregnant and heavily bleeding. I have hemorrhoids. What are the symptoms of hemorrhoids?")
    assert [q.n for q in quotable_in_emergency(quotes, hits, pregnant)] == [2]
    assert quotable_in_emergency(quotes, hits, must_mention("How is CMV transmitted?")) == [quotes[0], *quotes[2:]]
    benign = [hit(0, "What is (are) benign familial neonatal seizures ?", "The seizures begin around day 3 of life."),
              hit(1, "What is (are) Epilepsy ?", "A seizure that lasts more than five minutes needs emergency care.")]
    fits = [Quote(0, "The seizures begin around day 3 of life."), Quote(1, "A seizure that lasts more than five minutes needs emergency care.")]
    assert [q.n for q in quotable_in_emergency(fits, benign, must_mention("Bayi saya kejang-kejang, apa yang harus saya lakukan?"))] == [1]


def test_a_short_follow_up_to_an_emergency_is_one_too(real_bot):
    """A short follow-up is searched with the message before it; an emergency told there still
    calls for the urgent advice, and the rules of an emergency's quotes."""
    answer = real_bot.ask("and is it dangerous?", history=("My husband has CMV and he is bleeding heavily from a cut that won't stop",))
    assert answer.urgent
    assert not real_bot.ask("and is it dangerous?", history=("My husband has CMV",)).urgent
    # each message is read alone: a general question before does not hide the emergency told after it
    assert real_bot.ask("and bleeding heavily?", history=("Is it normal to feel tired in pregnancy?",)).urgent
    # a longer message after an emergency keeps the advice too
    assert real_bot.ask("do febrile seizures cause any damage to the brain?", history=("My son is having a seizure with a high fever",)).urgent


def test_a_question_in_chat_spelling_that_asks_a_stored_question_across_languages_is_answered(real_bot):
    """"cmv bisa nular lewat asi gak" (can CMV pass through breast milk) asks the English FAQ's "How
    is CMV transmitted?": its answer names breast milk, so the question is covered."""
    answer = real_bot.ask("cmv bisa nular lewat asi gak")
    assert not answer.urgent and not answer.abstained
    assert any("breast milk" in q.text for q in answer.quotes)


def test_asking_a_stored_question_means_its_kind_and_what_it_names():
    from chatbot.answer.topic import asks_the_stored_question
    from chatbot.records import Chunk, Hit
    from chatbot.search.glossary import Glossary

    title = "How to diagnose Hypersensitivity Pneumonitis ?"
    text = f"{title}\nTo diagnose hypersensitivity pneumonitis, your doctor must pinpoint the antigen."
    record = Hit(chunk=Chunk(id="r#0", doc_id="r", title=title, section="", text=text, language="en", start=0,
                             end=len(text), position=0), score=1.0)
    glossary = Glossary.load()
    story = "I keep birds and I'm breathless and feverish; my doctor thinks it's hypersensitivity pneumonitis. "
    assert asks_the_stored_question(story + "How do they diagnose it?", "en", record, glossary)
    assert not asks_the_stored_question(story + "What causes it?", "en", record, glossary)  # another kind
    assert not asks_the_stored_question("I'm breathless and feverish. How do they diagnose it?", "en", record, glossary)
    assert not asks_the_stored_question("I'm breathless and feverish. What should I do?", "en", record, glossary)
    quoted = 'My sister asked "how do they diagnose hypersensitivity pneumonitis?" and I keep birds.'
    assert not asks_the_stored_question(quoted, "en", record, glossary)  # someone else's question


def test_a_danger_sign_names_what_its_sources_must_mention():
    from chatbot.answer.urgent import must_mention

    assert any("seizures" in words for words in must_mention("My son is having a seizure right now").signs)
    assert any("sesak" in words for words in must_mention("bayi saya sesak napas dan bibirnya biru").signs)
    # the first-aid record on choking says "choking", never "breathing": it stays quotable
    assert any("choking" in words for words in must_mention("My toddler is choking on a grape! What do I do?").signs)
    assert any("demam" in words for words in must_mention("bayi saya baru lahir demam tinggi dan tidak mau menyusu").signs)
    assert not must_mention("How is CMV transmitted?")


def test_a_phrase_an_emergency_names_counts_only_as_words_in_a_row():
    """"Formula feeding (breast milk is usually protective)" mentions feeding but no baby who will
    not feed: a danger sign's phrase must stand in a passage as written."""
    from chatbot.answer.topic import mentions_any
    from chatbot.records import Chunk, Hit

    def hit(text: str) -> Hit:
        return Hit(chunk=Chunk(id="d#0", doc_id="d", title="T", section="", text=text, language="en", start=0,
                               end=len(text), position=0), score=1.0)

    assert not mentions_any(("poor feeding", "not feeding"), [hit("Formula feeding (breast milk is usually protective). Poor growth.")])
    assert mentions_any(("poor feeding", "not feeding"), [hit("Signs include lethargy and poor feeding.")])
    assert mentions_any(("fever",), [hit("A fever in the first weeks.")])


def test_a_long_message_is_searched_by_its_focus_only_when_asked_to(real_bot, monkeypatch):
    """Off by default (measured to cost more than it gave); CHATBOT_FOCUS_SEARCH=1 turns it on."""
    from dataclasses import replace

    story = ("My mother is 70 and had a kidney transplant in 2019. Since last month she feels tired all the time "
             "and her blood tests show low platelets. Could CMV be the cause of this?")
    searched = []
    search = real_bot.retriever.search
    monkeypatch.setattr(real_bot.retriever, "search", lambda q, *a, **kw: searched.append(q) or search(q, *a, **kw))
    assert not real_bot.ask(story).abstained
    assert searched == [story]
    searched.clear()
    monkeypatch.setattr(real_bot, "settings", replace(real_bot.settings, focus_search=True))
    assert not real_bot.ask(story).abstained
    assert searched[0] == story and len(searched) == 2 and searched[1].startswith("Could CMV be the cause of this?")
