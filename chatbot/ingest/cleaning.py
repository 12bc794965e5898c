"""Cleaning: drop site chrome (adverts, comment threads, widgets) by readable rules.

Rules are data (`chatbot/data/chrome_rules.toml`, extended by a corpus folder's own
`chrome_rules.toml`). Content lines are kept verbatim; only whole lines are dropped.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import CorpusError
from ..records import Document

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "data" / "chrome_rules.toml"
RULES_FILENAME = "chrome_rules.toml"


@dataclass(frozen=True)
class Rule:
    """One chrome rule: drop a matching line, or a block from `block` up to `until`."""

    name: str
    line: re.Pattern | None = None
    block: re.Pattern | None = None
    until: re.Pattern | None = None


def load_rules(*paths: Path) -> tuple[Rule, ...]:
    """Read the default rules plus any extra rule files given."""
    rules: list[Rule] = []
    for path in (DEFAULT_RULES, *paths):
        rules.extend(_read_rule_file(Path(path)))
    return tuple(rules)


def _read_rule_file(path: Path) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"cannot read cleaning rules {path}: {exc}. Fix or remove that file.") from exc
    rules = []
    for i, raw in enumerate(data.get("rule", []), 1):
        name = str(raw.get("name", f"rule {i}"))
        try:
            compiled = {k: re.compile(raw[k]) for k in ("line", "block", "until") if k in raw}
        except re.error as exc:
            raise CorpusError(f"{path}: rule '{name}' has a bad regex: {exc}") from exc
        if ("line" in compiled) == ("block" in compiled):
            raise CorpusError(f"{path}: rule '{name}' needs exactly one of `line` or `block`")
        rules.append(Rule(name=name, **compiled))
    return rules


def chrome_lines(text: str, rules: tuple[Rule, ...]) -> list[tuple[int, str]]:
    """Indices of the lines to drop, each with the name of the rule that drops it."""
    lines = text.split("\n")
    dropped: dict[int, str] = {}
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        rule = _block_rule(stripped, rules) if stripped else None
        if rule is not None:
            j = i + 1
            while j < len(lines) and not (rule.until and rule.until.match(lines[j].strip())):
                j += 1
            dropped.update({n: rule.name for n in range(i, j)})
            i = j
            continue
        for r in rules:
            if r.line is not None and stripped and r.line.fullmatch(stripped):
                dropped[i] = r.name
                break
        i += 1
    return sorted(dropped.items())


def _block_rule(stripped: str, rules: tuple[Rule, ...]) -> Rule | None:
    for r in rules:
        if r.block is not None and r.block.fullmatch(stripped):
            return r
    return None


def clean_text(text: str, rules: tuple[Rule, ...]) -> str:
    """The text without chrome lines; blank-line runs collapsed, content lines verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    drop = {i for i, _ in chrome_lines(text, rules)}
    kept: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i in drop:
            continue
        line = line.rstrip()
        if not line.strip():
            if kept and kept[-1] != "":
                kept.append("")
            continue
        kept.append(line)
    return "\n".join(kept).strip("\n")


def clean_document(doc: Document, rules: tuple[Rule, ...]) -> Document:
    """A copy of the document whose text has no site chrome."""
    return replace(doc, text=clean_text(doc.text, rules))
