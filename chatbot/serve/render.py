"""Formatting for the chat window: answers, citations and source boxes as escaped Markdown.

Everything a user or a document wrote is escaped before it is shown, so no question or
passage can render active HTML, links or scripts.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..records import Answer, Hit, Quote
from ..answer.render import language_note, original_line, shown_section, source_lines, translation_label
from ..answer.texts import language_name, text

# the renderer turns bare addresses into links: break "scheme://" and "www." with entities (they display the same)
_AUTOLINK = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.\-]*:/+|www\.)")
UI_STRINGS = Path(__file__).resolve().parent.parent / "data" / "ui_strings.toml"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")  # "<", ">", "&" are HTML-escaped instead
_CITATION = re.compile(r"\\\[(\d{1,2})\\\](?!:)")  # "[n]" never followed by ":" (a link definition)


@lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    return tomllib.loads(UI_STRINGS.read_text(encoding="utf-8"))


def ui_text(key: str, lang: str, **values: object) -> str:
    """The UI string `key` in `lang` ("en" or "id"; anything else falls back to English)."""
    table = _strings().get(lang) or _strings()["en"]
    return table[key].format(**values) if values else table[key]


def translations() -> dict[str, dict[str, str]]:
    """UI strings per locale, for `gr.I18n` (the browser locale picks one)."""
    return {lang: dict(table) for lang, table in _strings().items()}


def _no_autolinks(escaped: str) -> str:
    """Break bare addresses with entities, so the renderer shows them as text, not links."""
    return _AUTOLINK.sub(lambda m: m.group(0).replace("/", "&#47;").replace(".", "&#46;"), escaped)


def escape_md(value: str, citations: bool = False) -> str:
    """Text shown literally in markdown: punctuation backslash-escaped, HTML escaped; optionally "[n]" kept readable."""
    escaped = html.escape(_MD_SPECIAL.sub(r"\\\1", value), quote=False)
    escaped = _no_autolinks(escaped)
    return _CITATION.sub(r"[\1]", escaped) if citations else escaped


def format_answer(answer: Answer) -> str:
    """The answer's parts as safe markdown: urgent advice boxed at the top, notes, the quotes as
    bullets with their citations, sources, and the disclaimer last."""
    lang = answer.language
    out = [f'<div class="urgent" role="alert">{html.escape(text("urgent", lang))}</div>\n'] if answer.urgent else []
    out += [escape_md(note) for note in answer.notes]
    if answer.quotes:
        out.append(f"**{escape_md(text('intro', lang))}**")
        note = language_note(answer)
        out += [escape_md(note)] if note else []
        for q in answer.quotes:
            out.append(f"- {escape_md(q.text)} [{q.n + 1}]")
            out += [escape_md(f"   – {item}") for item in q.items]
            out += [_original_box(q)] if q.translation is not None else []
        out += ["", f"**{escape_md(text('sources', lang))}**", *(escape_md(line, citations=True) for line in source_lines(answer))]
    elif answer.abstained and not answer.notice:
        out.append(escape_md(text("no_answer", lang)))
    if answer.disclaimer:
        out += ["", f'<div class="disclaimer">{html.escape(text("disclaimer", lang))}</div>']
    return "\n".join(out)


def _original_box(quote: Quote) -> str:
    """Under a translated quote: its label, opening on a click to the original sentence (escaped)."""
    original = "<br>".join(escape_html(line) for line in (original_line(quote), *(f"– {i}" for i in quote.original_items)))
    return (f'<details class="translated"><summary>{escape_html(translation_label(quote))}</summary>'
            f'<span lang="{escape_html(quote.language)}">{original}</span></details>')


def cited(answer: Answer) -> list[int]:
    """Passage numbers (1-based) the answer quotes, in order of first quote."""
    return list(dict.fromkeys(q.n + 1 for q in answer.quotes if 0 <= q.n < len(answer.hits)))


def escape_html(value: str) -> str:
    """Text shown literally inside raw HTML, with brackets as entities so no markdown link can form either."""
    return _no_autolinks(html.escape(value).translate({ord("["): "&#91;", ord("]"): "&#93;", ord("("): "&#40;", ord(")"): "&#41;"}))


def source_title(n: int, hit: Hit, lang: str, escape: Callable[[str], str] = escape_md) -> str:
    """Title of a patient's source box: number, document title, section and passage language
    (a raw relevance score means nothing to a patient: it is in the staff view)."""
    section = shown_section(hit.chunk)
    key = "source_title" if section else "source_title_no_section"
    return ui_text(key, lang, n=n, title=escape(hit.chunk.title), section=escape(section),
                   language=language_name(hit.chunk.language, lang))


def staff_source_title(n: int, hit: Hit, lang: str, escape: Callable[[str], str] = escape_html) -> str:
    """Title of a staff source box: number, document title, passage language and relevance score."""
    return ui_text("staff_source_title", lang, n=n, title=escape(hit.chunk.title),
                   language=language_name(hit.chunk.language, lang), score=f"{hit.score:.1f}")


def source_body(hit: Hit, lang: str) -> str:
    """The passage as escaped markdown, under its section heading unless the passage starts with it."""
    heading = hit.chunk.section.split(" › ")[-1].strip()
    shown = not heading or hit.chunk.text.lstrip().startswith(heading)
    section = "" if shown else f"*{escape_md(ui_text('section', lang, section=hit.chunk.section))}*\n\n"
    return section + escape_md(hit.chunk.text)


def answer_messages(answer: Answer) -> list[dict[str, Any]]:
    """Chat messages for one answer: the answer, then one collapsed box per cited passage."""
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": format_answer(answer)}]
    for n in cited(answer):
        hit = answer.hits[n - 1]
        messages.append({"role": "assistant", "content": source_body(hit, answer.language),
                         "metadata": {"title": source_title(n, hit, answer.language), "status": "done"}})
    return messages


def passages_table(answer: Answer) -> list[list[Any]]:
    """Rows of the staff passage table: rank, score, document title and id, language, section."""
    return [[n, round(float(h.score), 2), h.chunk.title, h.chunk.doc_id, h.chunk.language, h.chunk.section]
            for n, h in enumerate(answer.hits, 1)]


def passages_markdown(answer: Answer) -> str:
    """Every retrieved passage in a collapsible box, for the staff view (escaped)."""
    boxes = [f"<details><summary>{staff_source_title(n, h, answer.language)}</summary>\n\n"
             f"{source_body(h, answer.language)}\n\n<small>{escape_html(h.chunk.id)}</small>\n\n</details>" for n, h in enumerate(answer.hits, 1)]
    return "\n\n".join(boxes)
