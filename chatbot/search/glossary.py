"""The English <-> Indonesian glossary bridge: a question's known terms in the other language.

Used for what only works within one language (BM25, English-only embedders): an Indonesian
question about "kurang darah" can then match an English passage about "anemia"; within one
language the same synonym groups let "penekan imun" find "imunosupresan".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusError
from ..text import words

DEFAULT_GLOSSARY = Path(__file__).resolve().parent.parent / "data" / "glossary.toml"
GLOSSARY_FILENAME = "glossary.toml"
_MAX_PHRASE = 5


@dataclass(frozen=True)
class View:
    """A question seen from one language: terms for lexical search and a text to embed
    (`text` is "" when nothing of the question could be carried into that language)."""

    terms: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Glossary:
    """Phrases per language mapped to the entries they belong to; entries list phrases per language."""

    entries: tuple[dict[str, tuple[str, ...]], ...]
    index: dict[str, dict[tuple[str, ...], tuple[int, ...]]]

    @classmethod
    def load(cls, *paths: Path) -> "Glossary":
        """The built-in glossary plus any extra glossary files."""
        entries: list[dict[str, tuple[str, ...]]] = []
        for path in (DEFAULT_GLOSSARY, *paths):
            try:
                data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise CorpusError(f"cannot read glossary {path}: {exc}. Fix or remove that file.") from exc
            for term in data.get("term", []):
                entries.append({lang: tuple(str(p).lower() for p in phrases) for lang, phrases in term.items()})
        index: dict[str, dict[tuple[str, ...], list[int]]] = {}
        for n, entry in enumerate(entries):
            for lang, phrases in entry.items():
                for phrase in phrases:
                    index.setdefault(lang, {}).setdefault(tuple(words(phrase)), []).append(n)
        return cls(tuple(entries), {lang: {k: tuple(v) for k, v in m.items()} for lang, m in index.items()})

    def view(self, text: str, source: str, target: str) -> "View":
        """The question as seen from `target`: its words (names such as CMV cross over) plus the
        `target` synonyms of every glossary term in it; `text` (to embed) holds only the synonyms."""
        found = words(text)
        phrases = self._phrases(found, source, target)
        terms = tuple(dict.fromkeys([*found, *(t for p in phrases for t in words(p))]))
        if source == target:
            return View(terms, text)
        return View(terms, " ".join(phrases))

    def synonyms(self, text: str, source: str, target: str) -> tuple[tuple[str, ...], ...]:
        """The `target` phrases of every glossary term in `text`, each as its words: a phrase is
        present only with all its words ("asam lambung naik" is reflux; "naik" alone is not)."""
        return tuple(dict.fromkeys(tuple(words(p)) for p in self._phrases(words(text), source, target)))

    def _phrases(self, found: list[str], source: str, target: str) -> list[str]:
        """The `target` phrases of the glossary terms among the words `found`, each once, in order."""
        return list(dict.fromkeys(p for n, _ in self._matches_with_spans(found, source) for p in self.entries[n].get(target, ())))

    def _matches_with_spans(self, words: list[str], lang: str) -> list[tuple[int, tuple[int, int]]]:
        """(entry, word span) for glossary phrases in the words, longest phrase first, each word used once."""
        table = self.index.get(lang, {})
        i, found, seen = 0, [], set()
        while i < len(words):
            for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
                hit = table.get(tuple(words[i : i + size]))
                if hit:
                    found.extend((n, (i, i + size)) for n in hit if n not in seen)
                    seen.update(hit)
                    i += size
                    break
            else:
                i += 1
        return found
