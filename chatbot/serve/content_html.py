"""HTML of the staff area's content pages: a document's preview, a passage, a translation's sentence
pairs. Everything a document, a file or a person wrote is escaped: nothing in it is rendered active.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..ingest.publish import Preview
from ..records import Chunk
from .render import ui_text

MAX_LINES = 3000  # lines of a document shown in its preview (the rest is counted)
MAX_PASSAGES = 300

CSS = """
.doc-preview .doc-lines {font-family: ui-monospace, monospace; font-size:.85rem; max-height:420px; overflow:auto;
  border:1px solid var(--border-color-primary); border-radius:6px; padding:6px 10px; white-space:pre-wrap;}
.doc-preview .dropped {color:#9f1239; background:#fff1f2;} .dark .doc-preview .dropped {color:#fda4af; background:#4c0519;}
.doc-preview .dropped del {text-decoration-thickness:1px;} .doc-preview .rule {font-style:italic; opacity:.8; font-size:.8rem;}
.doc-preview ol.passages li {margin-bottom:8px;} .doc-preview .passage-text {white-space:pre-wrap; font-size:.9rem;}
.doc-preview .notes {background:var(--color-accent-soft); border-radius:6px; padding:6px 10px;}
.pairs td {vertical-align:top; padding:4px 8px; border-bottom:1px solid var(--border-color-primary);} .pairs .none {opacity:.65; font-style:italic;}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def preview_html(p: Preview, lang: str, notes: Sequence[str] = ()) -> str:
    """The document's fields, its lines with the dropped ones struck through (and why), and its passages."""
    d = p.document
    fields = "".join(f"<li><b>{esc(k)}</b>: {esc(getattr(d, k))}</li>"
                     for k in ("id", "title", "language", "source", "url", "date", "review_by", "translation_of") if getattr(d, k))
    out = ['<div class="doc-preview">']
    out += [f'<p class="notes">{"<br>".join(esc(n) for n in notes)}</p>'] if notes else []
    out += [f"<ul>{fields}</ul>", f"<h4>{esc(ui_text('preview_text', lang, dropped=len(p.dropped)))}</h4>", _lines(p, lang)]
    out.append(f"<h4>{esc(ui_text('preview_passages', lang, n=len(p.passages)))}</h4>")
    items = [f"<li><b>{esc(c.section or ui_text('no_heading', lang))}</b> <small>({esc(c.language)}, "
             f"{len(c.text.split())} {esc(ui_text('words', lang))})</small><div class=\"passage-text\">{esc(c.text)}</div></li>"
             for c in p.passages[:MAX_PASSAGES]]
    out.append(f'<ol class="passages">{"".join(items)}</ol>')
    if len(p.passages) > MAX_PASSAGES:
        out.append(f"<p>{esc(ui_text('preview_more', lang, n=len(p.passages) - MAX_PASSAGES))}</p>")
    return "".join(out) + "</div>"


def _lines(p: Preview, lang: str) -> str:
    dropped = {x.number: x.rule for x in p.dropped}
    lines = p.document.text.split("\n")
    shown = []
    for n, line in enumerate(lines[:MAX_LINES], 1):
        if n in dropped:
            rule = esc(ui_text("preview_dropped_by", lang, rule=dropped[n]))
            shown.append(f'<div class="dropped" title="{rule}"><del>{esc(line)}</del> <span class="rule">← {rule}</span></div>')
        else:
            shown.append(f"<div>{esc(line) or '&nbsp;'}</div>")
    more = f"<p>{esc(ui_text('preview_more_lines', lang, n=len(lines) - MAX_LINES))}</p>" if len(lines) > MAX_LINES else ""
    return f'<div class="doc-lines">{"".join(shown)}</div>{more}'


def passage_html(chunk: Chunk, lang: str) -> str:
    """A passage as staff read it before translating it."""
    return (f'<div class="doc-preview"><p><b>{esc(chunk.title)}</b> · {esc(chunk.section)} · {esc(chunk.language)} · '
            f'<small>{esc(chunk.id)}</small></p><div class="passage-text">{esc(chunk.text)}</div></div>')


def pairs_html(pairs: Sequence[dict], originals: Sequence[str], lang: str) -> str:
    """Each original sentence beside what a patient reading the other language will see for it."""
    shown = {p["original"]: p["translated"] for p in pairs if p.get("shape", "1-1") in ("1-1", "1-2")}
    rows = [f"<tr><td>{esc(o)}</td><td>{esc(shown[o])}</td></tr>" if o in shown else
            f'<tr><td>{esc(o)}</td><td class="none">{esc(ui_text("pair_none", lang))}</td></tr>' for o in originals]
    head = f"<tr><th>{esc(ui_text('pair_original', lang))}</th><th>{esc(ui_text('pair_shown', lang))}</th></tr>"
    return f'<table class="pairs">{head}{"".join(rows)}</table>'
