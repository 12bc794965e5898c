"""Word (.docx): text with python-docx, headings, list items and tables kept.

Paragraphs and tables are read in document order. A Title or Heading style makes a heading
line; a list paragraph (a List style, or Word numbering) makes a "- " item, or "1. " when its
numbering is a number; a table row makes an "a | b" line. Page headers and footers, text boxes,
footnotes, comments and images are not read. python-docx parses without resolving entities.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import CorpusError
from .documents import MAX_FILE_BYTES
from .formats import Extracted, Metadata, join_blocks

_HEADING = re.compile(r"(?i)^(title|subtitle|heading \d)$")


def read_docx(data: bytes, name: str) -> Extracted:
    """The text of a Word document with its title (document properties, else its Title/first heading)."""
    import docx
    from docx.table import Table

    _check_package(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[tuple[str, str]] = []
        numbers: dict[tuple[str, int], int] = {}
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                blocks.append(("table", "\n".join(_table(block))))
            else:
                blocks.append(_paragraph(document, block, numbers))
        heading = next((text for kind, text in blocks if kind == "heading"), "")
        title = document.core_properties.title or heading
    except CorpusError:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors on damaged parts
        raise CorpusError(f"{name} is a damaged Word file ({type(exc).__name__}): open it in Word and save it again as .docx") from exc
    return Extracted(join_blocks(blocks), Metadata(title=title))


def _check_package(data: bytes, name: str) -> None:
    """A .docx is a zip package with word/document.xml; refuse others, and zip bombs, before parsing."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            unpacked = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorpusError(f"{name} is a damaged or incomplete Word file: open it in Word and save it again as .docx") from exc
    if "word/document.xml" not in names:
        kinds = {"xl/workbook.xml": "an Excel file", "ppt/presentation.xml": "a PowerPoint file", "content.xml": "an OpenDocument file"}
        kind = next((label for part, label in kinds.items() if part in names), "a zip archive")
        raise CorpusError(f"{name} is {kind}, not a Word document: upload the document as .docx, .pdf or text")
    if unpacked > MAX_FILE_BYTES:
        raise CorpusError(f"{name} unpacks to {unpacked // 2**20} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit: split it")


def _paragraph(document, paragraph, numbers: dict[tuple[str, int], int]) -> tuple[str, str]:
    """("heading" | "item" | "text", the paragraph's line)."""
    text = " ".join(paragraph.text.split())
    style = paragraph.style.name if paragraph.style is not None else ""
    if not text:
        return "text", ""
    if _HEADING.match(style or ""):
        return "heading", text
    num = _numbering(paragraph)
    if num is None and not (style or "").lower().startswith("list"):
        return "text", text
    num_id, level = num or ("", 0)
    styled = re.search(r"(?i)^list (?:bullet|number|continue)? ?(\d)$", style or "")  # "List Bullet 2": a sub-list
    level = max(level, int(styled.group(1)) - 1 if styled else 0)
    indent = "  " * level
    if _format(document, num_id, level) == "bullet" and "number" not in (style or "").lower():
        return "item", f"{indent}- {text}"
    numbers[(num_id, level)] = numbers.get((num_id, level), 0) + 1
    for deeper in [k for k in numbers if k[0] == num_id and k[1] > level]:
        del numbers[deeper]  # a sub-list under the next item counts from 1 again
    return "item", f"{indent}{numbers[(num_id, level)]}. {text}"


def _numbering(paragraph) -> tuple[str, int] | None:
    """(numId, level) from the paragraph's own numbering or its style's; None when it has none."""
    for ppr in (paragraph._p.pPr, getattr(paragraph.style.element, "pPr", None) if paragraph.style is not None else None):
        num_pr = getattr(ppr, "numPr", None)
        if num_pr is not None and num_pr.numId is not None:
            level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
            return str(num_pr.numId.val), int(level)
    return None


def _format(document, num_id: str, level: int) -> str:
    """Word's number format for a list level: "bullet", "decimal", "lowerLetter", ...; "bullet" if unknown."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return "bullet"
    abstract = numbering.xpath(f'w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val') if num_id.isdigit() else []
    if not abstract:
        return "bullet"
    fmt = numbering.xpath(f'w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val')
    return fmt[0] if fmt else "bullet"


def _table(table) -> list[str]:
    """A line per row, cells joined by " | " (a merged cell counted once)."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:
                cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows
