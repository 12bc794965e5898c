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
    context_mention: tuple[str, ...] = ()  # of these too, for any emergency in a message that matches `context` (a pregnancy)
    baby: bool = False  # the emergency is a baby's: a source on babies will do instead of one on pregnancy (must_mention)


@dataclass(frozen=True)
class Mentions:
    """What a passage must mention to be quoted for an emergency: a word of one of `signs` (the
    signs described, often one event: vomiting blood and fainting) and a word of each of `each`
    (who it happens to: a pregnancy)."""

    signs: tuple[tuple[str, ...], ...] = ()
    each: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.signs or self.each)

    def __or__(self, other: "Mentions") -> "Mentions":
        """What two messages' emergencies need (a follow-up and the emergency before it)."""
        return Mentions(tuple(dict.fromkeys(self.signs + other.signs)), tuple(dict.fromkeys(self.each + other.each)))


@lru_cache(maxsize=4)
def _data(path: Path = SIGNS) -> dict:
    """The danger-sign file, read once (callers only read it)."""
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def load_signs(path: Path = SIGNS) -> tuple[tuple[DangerSign, ...], tuple[re.Pattern, ...], tuple[re.Pattern, ...]]:
    """The danger signs, the 'about someone now' patterns and the 'general question' patterns."""
    data = _data(path)
    signs = tuple(
        DangerSign(s["name"], tuple(re.compile(p, re.IGNORECASE) for p in s["patterns"]), bool(s.get("personal", True)),
                   tuple(s.get("mention", ())), tuple(re.compile(p, re.IGNORECASE) for p in s.get("context", ())),
                   tuple(s.get("context_mention", ())), bool(s.get("baby", False)))
        for s in data.get("sign", [])
    )
    return signs, _patterns("personal", path), _patterns("general", path)


def _words(key: str, path: Path = SIGNS) -> tuple[str, ...]:
    """A top-level list of words (`baby_mention`)."""
    return tuple(_data(path).get(key, []))


@lru_cache(maxsize=16)
def _patterns(key: str, path: Path = SIGNS) -> tuple[re.Pattern, ...]:
    """A top-level list of patterns (`personal`, `general`, `reassuring`, `a_baby`)."""
    return tuple(re.compile(p, re.IGNORECASE) for p in _data(path).get(key, []))


_UNLESS = re.compile(r"(\b(not|never|if|until|unless|cannot|without|assume|jika|kalau|bila|sampai|tidak|tak|tdk|belum|bukan)|n't)\s+(\w+\s+)?$", re.IGNORECASE)  # in the 2 words before
# "until" a few words before "is normal" ends an instruction ("continue CPR until the baby's breathing is normal"); not
# before "goes away on its own" ("keep your child at home until the fever goes away on its own" still calms)
_UNTIL_NORMAL = re.compile(r"\buntil\s+(the|a|an|his|her|their|your|my|our)\s+([\w']+\s+){1,2}$", re.IGNORECASE)
_IS_NORMAL = re.compile(r"(is|are)\s+normal\b", re.IGNORECASE)
# "don't assume" earlier in the same clause: "don't assume it will get better on its own" warns (not a condition: "if the
# child is well it is usually harmless" calms; nor "until": "wait until it goes away on its own"). The clause ends at a
# reason or a contrast, a dash or a bracket: "don't assume the worst - it is usually harmless" calms.
_ASSUME = re.compile(r"\b(don'?t|do\s+not|never|jangan)\s+(\w+\s+)?(assume|anggap|menganggap)\b"
                     r"(?:(?!\b(because|since|as|but|so|karena|sebab|tapi|tetapi|namun|jadi)\b)[^,;:.!?()\-–—])*$", re.IGNORECASE)


def reassures(sentence: str, path: Path = SIGNS) -> bool:
    """Does a sentence calm ("usually not painful", "will revive", "tidak berbahaya")? Never
    quoted after the urgent advice: it would speak against it. Not where a condition or a negation
    comes just before ("if the seizure does not stop on its own", "is never harmless", "until
    breathing is normal"), nor after "don't assume" ("don't assume it will get better on its own"):
    such a sentence says when to act."""
    sentence = _normal(sentence)  # curly apostrophes as straight ones: "it’s not serious", "don’t assume"
    for p in _patterns("reassuring", path):
        for m in p.finditer(sentence):
            before = sentence[max(0, m.start() - 80):m.start()]
            if _UNLESS.search(before[-40:]) or _ASSUME.search(before):
                continue
            if _IS_NORMAL.match(m.group(0)) and _UNTIL_NORMAL.search(before[-40:]):
                continue
            return True
    return False


def danger_signs(question: str, path: Path = SIGNS) -> list[str]:
    """Names of the danger signs the question describes (empty: not urgent)."""
    return [s.name for s in _described(question, path)]


def must_mention(question: str, path: Path = SIGNS) -> Mentions:
    """What a source quoted for the emergencies the question describes must mention: a word of one
    of their signs ("fever", "demam" for a newborn's fever: a source on another illness of newborns
    is no answer), and, in a message about a pregnancy, a word of pregnancy (not the symptoms of
    hemorrhoids for a pregnant woman who bleeds), or of babies when every sign it describes is a
    baby's and it speaks of the baby ("I gave birth 10 days ago. My baby has a fever"). Empty when
    the question describes none."""
    described = _described(question, path) if question else []
    if not described:
        return Mentions()
    text = _normal(question)
    each = [s.context_mention for s in load_signs(path)[0] if s.context_mention and any(p.search(text) for p in s.context)]
    if each and all(s.baby for s in described) and any(p.search(text) for p in _patterns("a_baby", path)):
        # the baby's emergency a few days after the birth (or the mother's, who mentions the baby in passing):
        # a source on babies will do as well as one on pregnancy, not one on Q fever
        each = [tuple(dict.fromkeys(word for words in each for word in words)) + _words("baby_mention", path)]
    return Mentions(tuple(s.mention for s in described if s.mention), tuple(each))


def _described(question: str, path: Path) -> list[DangerSign]:
    signs, personal, general = load_signs(path)
    text = _normal(question)
    about_someone = any(p.search(text) for p in personal)
    impersonal_ok = not any(p.search(text) for p in general)
    return [s for s in signs if (about_someone or (impersonal_ok and not s.personal)) and any(p.search(text) for p in s.patterns)
            and (not s.context or any(p.search(text) for p in s.context))]


def _normal(question: str) -> str:
    return re.sub(r"[’‘ʼ`´]", "'", question).strip()
