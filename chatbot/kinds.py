"""What kind of answer a question asks for (a dose, a duration, a drug, a test, a reason, ...)
and whether a sentence gives that kind of answer. The rules are data: data/answer_kinds.toml.

The answer chooser prefers sentences that give the kind asked for. Retrieval compares the kinds
a patient's question asks for with those its candidates' stored questions ask for (a FAQ item's
question, a MedQuAD record's title): "Does it run in the family?" is answered by "Is Tietze
syndrome inherited?", not by "What is Tietze syndrome?" beside it (`asks_otherwise`)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KINDS_FILE = Path(__file__).resolve().parent / "data" / "answer_kinds.toml"
NOT_COMPARED = frozenset({"yesno"})  # "Is it inherited?" and "Is it contagious?" ask different things


@dataclass(frozen=True)
class Kind:
    """One kind of answer: patterns that mark a question asking for it and a sentence giving it
    (none for a kind that only tells questions apart: "is it inherited", "how common")."""

    name: str
    question: tuple[re.Pattern, ...]
    answer: tuple[re.Pattern, ...]


@lru_cache(maxsize=4)
def load_kinds(path: Path = KINDS_FILE) -> tuple[Kind, ...]:
    """The kinds of answer defined in `path`, in file order."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    flags = re.IGNORECASE | re.UNICODE
    return tuple(Kind(name, tuple(re.compile(p, flags) for p in spec.get("question", ())),
                      tuple(re.compile(p, flags) for p in spec.get("answer", ())))
                 for name, spec in data["kind"].items())


def asked(question: str, kinds: tuple[Kind, ...] | None = None) -> tuple[Kind, ...]:
    """The kinds of answer the question asks for (often none, sometimes several)."""
    return tuple(k for k in kinds or load_kinds() if any(p.search(question) for p in k.question))


def gives(sentence: str, kind: Kind) -> bool:
    """True when the sentence carries the kind of answer (a dose with its unit, a duration, ...)."""
    return any(p.search(sentence) for p in kind.answer)


_ASKING = re.compile(r"[^.!?？\n]*[?？]")  # a clause that ends with a question mark, whatever its case


def patient_asks(message: str, kinds: tuple[Kind, ...] | None = None) -> frozenset[str]:
    """What a patient's message asks for, read from its clauses that end with a question mark
    (the whole message when none does): the story before the question ("she was diagnosed with
    ...") asks nothing."""
    return frozenset(k.name for k in asked(asking_part(message), kinds)) - NOT_COMPARED


def asking_part(message: str) -> str:
    """The clauses of a message that end with a question mark (the whole message when none does)."""
    return " ".join(m.group(0).strip() for m in _ASKING.finditer(message)) or message


@lru_cache(maxsize=65536)
def stored_asks(heading: str, kinds: tuple[Kind, ...] | None = None) -> frozenset[str]:
    """What a stored question asks for (nothing when `heading` does not end with a question mark:
    a heading that asks nothing). "What are the treatments for X?" and "What is the outlook for
    X?" begin like a definition but ask for something else: a definition counts only when nothing
    else is asked."""
    if not heading.rstrip().endswith("?"):
        return frozenset()
    found = frozenset(k.name for k in asked(heading, kinds)) - NOT_COMPARED
    return found - {"definition"} if len(found) > 1 else found


def asks_otherwise(patient: frozenset[str], stored: frozenset[str]) -> bool:
    """True when the patient and a stored question both ask for kinds we know, none in common:
    that stored question's answer is not the answer, however close its topic."""
    return bool(patient and stored) and not patient & stored
