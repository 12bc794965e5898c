"""Web pages: the main article of an HTML file, found by trafilatura's boilerplate removal.

trafilatura drops navigation, comment sections, sidebars, cookie banners, scripts and styles;
its XML tree of the article (headings, paragraphs, lists, tables) is written here as the corpus's
plain-text format. Links, images and emphasis marks are dropped (their words stay). lxml parses
the page without fetching anything; no script runs.
"""

from __future__ import annotations

from ..errors import CorpusError
from .formats import Extracted, Metadata

_BLOCKS = {"head", "p", "list", "table", "quote", "code"}


def read_html(data: bytes, name: str) -> Extracted:
    """The article text of a web page, with its title, date, address and site name."""
    import trafilatura

    try:
        found = trafilatura.bare_extraction(data, include_comments=False, include_tables=True, include_images=False,
                                            include_links=False, include_formatting=False, with_metadata=True)
    except Exception as exc:  # lxml and trafilatura raise many kinds on malformed markup
        raise CorpusError(f"cannot read the web page {name} ({type(exc).__name__}): save the page again, or paste its text") from exc
    body = getattr(found, "body", None)
    lines = _render(body) if body is not None else []
    if not any(line.strip() for line in lines):
        raise CorpusError(f"no article text found in {name} (only menus, links or scripts): save the article page itself, or paste its text")
    meta = Metadata(title=found.title or "", date=found.date or "", url=found.url or "", source=found.sitename or found.hostname or "")
    return Extracted("\n".join(lines), meta)


def _render(body) -> list[str]:
    """Blocks in document order, separated by blank lines."""
    out: list[str] = []
    for el in body:
        block = _block(el)
        if block:
            out += [*block, ""]
    return out


def _block(el) -> list[str]:
    tag = el.tag
    if tag == "list":
        return _items(el, 0)
    if tag == "table":
        return _table(el)
    if tag in _BLOCKS:
        return [line for line in (" ".join(part.split()) for part in _text(el).split("\n")) if line]
    return [line for child in el for line in _block(child)]  # a wrapper (div, section): its blocks


def _items(el, depth: int) -> list[str]:
    numbered = el.get("rend", "") == "ol"
    lines: list[str] = []
    for n, item in enumerate((c for c in el if c.tag == "item"), 1):
        nested = [c for c in item if c.tag == "list"]
        own = " ".join(_text(item, skip=("list",)).split())
        if own:
            lines.append(f"{'  ' * depth}{f'{n}.' if numbered else '-'} {own}")
        for sub in nested:
            lines += _items(sub, depth + 1)
    return lines


def _table(el) -> list[str]:
    rows = []
    for row in el.iter("row"):
        cells = [" ".join(_text(c).split()) for c in row if c.tag == "cell"]
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _text(el, skip: tuple[str, ...] = ()) -> str:
    """The words of an element; a line break (<lb/>) stays a line break."""
    parts = [el.text or ""]
    for child in el:
        if child.tag in skip:
            parts.append(child.tail or "")
            continue
        parts.append("\n" if child.tag == "lb" else "")
        parts.append(_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)
