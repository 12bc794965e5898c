"""What kind of answer a question asks for (a dose, a duration, a drug, a test, a reason, ...)
and whether a sentence gives that kind of answer. The rules are data: data/answer_kinds.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KINDS_FILE = Path(__file__).resolve().parent.parent / "data" / "answer_kinds.toml"


@dataclass(frozen=True)
class Kind:
    """One kind of answer: patterns that mark a question asking for it and a sentence giving it."""

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
