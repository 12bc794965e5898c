"""The question inside a long message.

Patients often tell a story before they ask ("My mother is 70 and had a kidney transplant in
2019. Since last month she ... Is it dangerous?"). The story's incidental words pull search
towards other topics; the question alone ("Is it dangerous?") says too little. The focus of a
message is its (last) question sentence with the message's topic words added: the words rare in
everyday language (the condition, drug or test: "CMV", "prednisone", "CD4"). With
`focus_search` on (CHATBOT_FOCUS_SEARCH=1), search uses the focus as well as the whole message
and each passage keeps the better of its two scores. It is off by default: on the MedQuAD
consumer rewrites' development half it put the question's own record first for 2 more questions
and 7 fewer (the topic words miss a name that is also an everyday word: "Jones syndrome" ->
"gums dentist"), and it changed no answer on the seed tuning sets.
"""

from __future__ import annotations

import re

from ..text import rarity, split_sentences, tokenize, words

MIN_WORDS = 20  # shorter messages are their own focus
TOPIC_RARITY = 2.0  # words rarer than this in everyday language name the topic (see text.rarity)
_QUESTION_WORD = re.compile(
    r"\b(what|which|who|when|where|why|how|can|could|is|are|does|do|should|will|would|may|"
    r"apa|apakah|siapa|kapan|dimana|mengapa|kenapa|bagaimana|gimana|berapa|bisa|boleh|perlu|harus)\b",
    re.IGNORECASE)


def focus(message: str, language: str = "en") -> str:
    """The question of a long message with the message's topic words ("" when the message is
    short or is all question)."""
    if len(message.split()) < MIN_WORDS:
        return ""
    sentences = split_sentences(message.replace("\n", " "))
    if len(sentences) < 2:
        return ""
    asking = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?")]
    if not asking:
        asking = [i for i, s in enumerate(sentences) if _QUESTION_WORD.search(s)] or [len(sentences) - 1]
    question = sentences[asking[-1]]
    said = set(words(question))
    topic = [w for w in dict.fromkeys(tokenize(message)) if w not in said and not w.isdigit() and rarity(w, language) >= TOPIC_RARITY]
    return " ".join([question, *topic])
