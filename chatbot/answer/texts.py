"""Fixed texts in English and Indonesian (from `data/messages.toml`)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

MESSAGES = Path(__file__).resolve().parent.parent / "data" / "messages.toml"


@lru_cache(maxsize=1)
def _all() -> dict[str, dict[str, str]]:
    return tomllib.loads(MESSAGES.read_text(encoding="utf-8"))


def text(key: str, lang: str, **values: object) -> str:
    """The fixed text `key` in `lang` ("en" or "id"), with placeholders filled."""
    table = _all().get(lang) or _all()["en"]
    return table[key].format(**values)


def language_name(code: str, in_lang: str) -> str:
    """The name of language `code` written in `in_lang` ("Indonesian" / "Inggris")."""
    return text(f"language_{code}", in_lang) if f"language_{code}" in _all()["en"] else code


def fixed_phrases() -> set[str]:
    """Every fixed text in both languages (placeholders unfilled), for tests of grounding."""
    return {v for table in _all().values() for v in table.values()}
