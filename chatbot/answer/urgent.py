"""Danger signs: flag questions that describe an emergency, in English or Indonesian."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SIGNS = Path(__file__).resolve().parent.parent / "data" / "danger_signs.toml"


@dataclass(frozen=True)
class DangerSign:
    name: str
    patterns: tuple[re.Pattern, ...]
    personal: bool
    mention: tuple[str, ...] = ()  # a source quoted for this emergency must mention one of these words
    context: tuple[re.Pattern, ...] = ()  # when given, the message must also match one of these (a pregnancy, a newborn's age)


@lru_cache(maxsize=4)
def load_signs(path: Path = SIGNS) -> tuple[tuple[DangerSign, ...], tuple[re.Pattern, ...], tuple[re.Pattern, ...]]:
    """The danger signs, the 'about someone now' patterns and the 'general question' patterns."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    personal = tuple(re.compile(p, re.IGNORECASE) for p in data.get("personal", []))
    general = tuple(re.compile(p, re.IGNORECASE) for p in data.get("general", []))
    signs = tuple(
        DangerSign(s["name"], tuple(re.compile(p, re.IGNORECASE) for p in s["patterns"]), bool(s.get("personal", True)),
                   tuple(s.get("mention", ())), tuple(re.compile(p, re.IGNORECASE) for p in s.get("context", ())))
        for s in data.get("sign", [])
    )
    return signs, personal, general


def danger_signs(question: str, path: Path = SIGNS) -> list[str]:
    """Names of the danger signs the question describes (empty: not urgent)."""
    return [s.name for s in _described(question, path)]


def must_mention(question: str, path: Path = SIGNS) -> list[tuple[str, ...]]:
    """For each danger sign the question describes that names them, the words of which a source
    quoted for it must mention one ("fever", "demam" for a newborn's fever): a source on another
    illness of newborns is no answer to the emergency."""
    return [s.mention for s in _described(question, path) if s.mention]


def _described(question: str, path: Path) -> list[DangerSign]:
    signs, personal, general = load_signs(path)
    text = re.sub(r"[’`´]", "'", question).strip()
    about_someone = any(p.search(text) for p in personal)
    impersonal_ok = not any(p.search(text) for p in general)
    return [s for s in signs if (about_someone or (impersonal_ok and not s.personal)) and any(p.search(text) for p in s.patterns)
            and (not s.context or any(p.search(text) for p in s.context))]
