"""PDF: text with pdfplumber (pdfminer.six's layout analysis), as paragraphs, headings and lists.

pdfminer groups lines into text boxes and orders the boxes for reading (columns of a leaflet
included). From the characters' sizes and fonts: a line clearly larger than the body text, or
all bold and short, is a heading; a line starting with a bullet sign is a "- " item; a line
repeated at the top or bottom of most pages (page numbers ignored) is a running header or footer
and is dropped; a word hyphenated at a line end is joined. Scanned pages have no text layer:
that needs OCR, which this does not do.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from ..errors import CorpusError
from .documents import MAX_FILE_BYTES
from .formats import Extracted, Metadata, join_blocks

MAX_PAGES = 2000
_BULLET = re.compile(r"^(?:[•●▪■◦○‣∙·\uf0b7\uf0a7\uf076\uf0d8]\s*|[-–—*]\s+)(?=\S)")  # \uf0..: Word's Symbol bullets
_LONE_BULLET = re.compile(r"^[•●▪■◦○‣∙·\uf0b7\uf0a7\uf076\uf0d8]$")
_DOT_LEADER = re.compile(r"(?:\.\s?){5,}\s*[\divxlc]*$")  # "Introduction . . . . . . 1": a table of contents line
_CID = re.compile(r"\(cid:\d+\)")  # a glyph pdfminer could not map to a character
_NUMBERED = re.compile(r"^(?:\d{1,2}|[a-z])[.)]\s+\S")
_PAGE_NUMBER = re.compile(r"(?i)^[-–(\s]*(?:page|halaman|hal\.?)?\s*\d{1,4}(?:\s*(?:of|/|dari)\s*\d{1,4})?[-–)\s]*$")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_MARGIN = 0.12  # share of the page height at top and bottom where running headers and footers sit
_BAD_TITLES = re.compile(r"(?i)^(untitled|microsoft word\b.*|.*\.(docx?|pdf|indd|pptx?)|document\d*)$")


@dataclass(frozen=True)
class _Line:
    text: str
    size: float
    bold: bool
    x0: float
    top: float  # distance from the top of the page
    bottom: float
    page: int
    box: int
    zone: bool  # in the top or bottom margin


def read_pdf(data: bytes, name: str) -> Extracted:
    """The text of a PDF with its metadata title."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    if b"%%EOF" not in data[-8192:]:
        raise CorpusError(f"{name} is incomplete (the end of the PDF is missing): download or copy the file again")
    try:
        # line_margin 0.8 (default 0.5): lines of a loosely spaced paragraph stay in one text box
        with pdfplumber.open(io.BytesIO(data), laparams={"line_margin": 0.8}) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise CorpusError(f"{name} has {len(pdf.pages)} pages, over the {MAX_PAGES}-page limit: split it")
            title = str(pdf.metadata.get("Title") or "")
            lines = []
            for n, page in enumerate(pdf.pages):
                lines += _page_lines(page, n)
                page.close()  # frees the page's parsed objects: long files stay small in memory
    except CorpusError:
        raise
    except Exception as exc:  # pdfminer raises many kinds (syntax, stream, struct errors) on damaged files
        inner = exc.args[0] if exc.args else exc
        if isinstance(inner, PDFPasswordIncorrect) or b"/Encrypt" in data:
            raise CorpusError(f"{name} is protected with a password: open it, save a copy without the password "
                              "(or print it to PDF) and upload that") from exc
        raise CorpusError(f"{name} is a damaged PDF ({type(exc).__name__}): open it and save or print it to PDF again") from exc
    kept = _without_running_lines(lines)
    pages = max((line.page for line in lines), default=0) + 1
    if sum(len(line.text) for line in kept) < max(20, 10 * pages):  # page numbers and stamps are not a text layer
        raise CorpusError(f"{name} has no text layer (it looks like a scan or a picture, or its fonts carry no text): "
                          "run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`), or paste the text")
    body = _body_font(kept)
    text = join_blocks(_blocks(kept, body))
    if len(text) > MAX_FILE_BYTES:
        raise CorpusError(f"{name} holds more text than the {MAX_FILE_BYTES // 2**20} MiB limit: split it")
    first_page = [line for line in kept if line.page == 0 and _is_heading(line, body)]
    heading = max(first_page, key=lambda line: line.size).text if first_page else ""
    return Extracted(text, Metadata(title=title if title.strip() and not _BAD_TITLES.match(title.strip()) else heading))


def _page_lines(page, n: int) -> list[_Line]:
    """The text lines of a page in pdfminer's reading order, with size, weight and position."""
    from pdfminer.layout import LTTextBoxHorizontal

    height = float(page.height) or 1.0
    out = []
    for b, box in enumerate(o for o in page.layout if isinstance(o, LTTextBoxHorizontal)):
        for pieces in _visual_lines(box):
            text = " ".join(_CID.sub("", " ".join(p.get_text() for p in pieces)).translate(_LIGATURES).split())
            chars = [c for p in pieces for c in p if hasattr(c, "fontname") and c.get_text().strip()]
            if not text or not chars:
                continue
            bold = sum(_is_bold(c.fontname) for c in chars) >= 0.9 * len(chars)
            top, bottom = height - max(p.y1 for p in pieces), height - min(p.y0 for p in pieces)
            out.append(_Line(text, round(statistics.median(c.size for c in chars), 1), bold, min(p.x0 for p in pieces),
                             top, bottom, n, b, top < _MARGIN * height or bottom > (1 - _MARGIN) * height))
    return out


def _visual_lines(box) -> list[list]:
    """The box's lines, with pieces on one baseline joined left to right (pdfminer splits a justified
    line with wide word gaps into pieces, and may list them out of order)."""
    from pdfminer.layout import LTTextLineHorizontal

    rows: list[list] = []
    for line in (x for x in box if isinstance(x, LTTextLineHorizontal)):
        row = next((r for r in rows if abs(r[0].y0 - line.y0) < 1.0), None)
        if row is None:
            rows.append([line])
        else:
            row.append(line)
    return [sorted(row, key=lambda piece: piece.x0) for row in rows]


def _is_bold(fontname: str) -> bool:
    return bool(re.search(r"(?i)bold|black|heavy|semibold|demi", fontname or ""))


def _without_running_lines(lines: list[_Line]) -> list[_Line]:
    """Drop page numbers and the header/footer lines that repeat in the margins of most pages."""
    pages = max((line.page for line in lines), default=0) + 1
    key = lambda line: re.sub(r"\d+", "#", line.text.lower())  # noqa: E731  page numbers differ from page to page
    counts = Counter(k for k, _ in {(key(line), line.page) for line in lines if line.zone})
    repeated = {k for k, c in counts.items() if pages >= 2 and c >= max(2, (pages + 1) // 2)}
    return [line for line in lines if not (line.zone and (key(line) in repeated or _PAGE_NUMBER.match(line.text)))]


def _body_font(lines: list[_Line]) -> tuple[float, bool]:
    """The size of most of the text, and whether most of it is bold (then bold marks no heading)."""
    fonts: Counter = Counter()
    for line in lines:
        fonts[(line.size, line.bold)] += len(line.text)
    size = max({s for s, _ in fonts}, key=lambda s: fonts[(s, True)] + fonts[(s, False)], default=0.0)
    return size, fonts[(size, True)] > fonts[(size, False)]


def _is_heading(line: _Line, body: tuple[float, bool]) -> bool:
    words = len(line.text.split())
    if words > 20 or _BULLET.match(line.text) or line.text.endswith((".", ",", ";")):
        return False
    return line.size >= body[0] * 1.15 or (line.bold and not body[1] and words <= 15)


def _blocks(lines: list[_Line], body: tuple[float, bool]) -> list[tuple[str, str]]:
    """(kind, text) blocks: a heading, a paragraph or a list item each, its wrapped lines joined."""
    blocks: list[list] = []  # [kind, text, first line, last line]
    bullet = False  # a bullet sign on a line of its own: the next line is the item
    for line in lines:
        if _LONE_BULLET.match(line.text) or _DOT_LEADER.search(line.text):  # a table of contents is no content
            bullet = bool(_LONE_BULLET.match(line.text))
            continue
        numbered = _BULLET.match(line.text) or _NUMBERED.match(line.text)
        kind = "item" if bullet else "heading" if _is_heading(line, body) else "item" if numbered else "text"
        if blocks and not bullet and _continues(blocks[-1], kind, line):
            blocks[-1][1] = _join(blocks[-1][1], line.text)
            blocks[-1][3] = line
            continue
        text = "- " + _BULLET.sub("", line.text) if bullet or _BULLET.match(line.text) else line.text
        blocks.append([kind, text, line, line])
        bullet = False
    return [(kind, text) for kind, text, _, _ in blocks]


def _continues(prev: list, kind: str, line: _Line) -> bool:
    """Does `line` go on the block before it (a wrapped heading, paragraph or list item)?"""
    pkind, ptext, first, last = prev
    if kind != "text" and not (kind == "heading" and pkind == "heading"):
        return False
    if last.page != line.page:  # a paragraph running over the page break
        return pkind == "text" and not ptext.endswith((".", "!", "?", ":")) and line.text[:1].islower()
    gap = line.top - last.bottom
    if pkind == "heading":
        return kind == "heading" and line.size == last.size and 0 <= gap < last.size
    if abs(line.size - last.size) > 0.5 or gap < -0.5 * line.size:
        return False  # another font, or back up the page: a new column
    if line.box == last.box:  # pdfminer put them in one text box: one paragraph unless clearly spaced
        return gap <= line.size and (pkind == "text" or line.x0 >= first.x0 - 2)
    if gap > 0.6 * line.size:  # in another box: only the next line at ordinary line spacing
        return False
    if pkind == "item":
        return line.x0 > first.x0 + 2  # the hanging indent of an item's wrapped line
    return abs(line.x0 - last.x0) <= 2


def _join(before: str, after: str) -> str:
    """Two wrapped lines as one: "treat-" + "ment" is "treatment"; "long-" + "Term" keeps its hyphen."""
    if re.search(r"[^\W\d_]-$", before) and after[:1].islower():
        return before[:-1] + after
    return f"{before} {after}"
