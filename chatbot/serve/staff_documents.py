"""The staff area's Documents tab: upload or paste, preview, publish, edit (replace), retire, the
document list and the progress line of the background rebuild. Handlers live in documents_desk.py.

Handlers are nested functions with real annotations (no postponed evaluation in this module):
gradio finds the gr.Request and gr.SelectData parameters by their type hints.
"""

import hashlib
import os
from collections.abc import Callable
from typing import Any

from .documents_desk import FIELDS, PAGE_SIZE, DocumentDesk, Listed, progress_line
from .render import escape_md, ui_text

UPLOAD_TYPES = [".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"]
MAX_PASTE = 2_000_000  # characters of pasted text
TICK = 1.0  # seconds between two looks at the rebuild's progress


def document_columns(lang: str) -> list[str]:
    return [ui_text(k, lang) for k in ("col_id", "col_title", "col_language", "col_passages", "col_changed", "col_review_by",
                                       "col_state")]


def document_rows(rows: list[Listed], lang: str) -> list[list[Any]]:
    return [[r.id, r.title, r.language, r.passages, r.changed, r.review_by,
             ui_text("doc_overdue", lang) if r.overdue else ("" if r.passages else ui_text("doc_waiting", lang))] for r in rows]


def signature(file: str | None, text: str, values: list[str], replace_id: str) -> str:
    """What the form held when it was previewed: publishing takes the preview only while it is unchanged."""
    try:
        st = os.stat(file) if file else None
    except OSError:
        st = None
    parts = [file or "", f"{st.st_size}:{st.st_mtime_ns}" if st else "", text or "", *map(str, values), replace_id or ""]
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def documents_tab(gr: Any, desk: DocumentDesk | None, rebuilder: Any, bot: Any, i18n: Any, reader: Callable) -> dict:
    """Lay out the tab and wire it; returns what other tabs link to (`selected`, `translate`, `load`, `warm`)."""
    gr.Markdown(i18n("docs_heading"))
    if desk is None:
        gr.Markdown(i18n("doc_no_rebuild"))
        return {}
    form = _form(gr, i18n)
    listed = _document_list(gr, i18n)
    load = _wire_list(gr, desk, rebuilder, bot, reader, form, listed)
    _wire_form(gr, desk, rebuilder, bot, reader, form, listed)
    return {"selected": listed["selected"], "translate": listed["translate"], "load": load,
            "warm": rebuilder.warm if rebuilder is not None else None}


def _form(gr: Any, i18n: Any) -> dict:
    """Upload or paste, the fields, Preview and Publish, the message and progress lines, the preview."""
    with gr.Row():
        with gr.Column(scale=3):
            file = gr.File(label=i18n("doc_file"), file_types=UPLOAD_TYPES, type="filepath", elem_id="doc-file")
            text = gr.Textbox(label=i18n("doc_text"), lines=6, max_lines=18, max_length=MAX_PASTE, elem_id="doc-text")
        with gr.Column(scale=2):
            fields = [gr.Textbox(label=i18n("doc_title"), elem_id="doc-title", max_length=400),
                      gr.Dropdown([(i18n("language_detect"), "auto"), ("English", "en"), ("Bahasa Indonesia", "id")], value="auto",
                                  label=i18n("doc_language"), elem_id="doc-language"),
                      gr.Textbox(label=i18n("doc_source"), elem_id="doc-source", max_length=400),
                      gr.Textbox(label=i18n("doc_url"), elem_id="doc-url", max_length=2000),
                      gr.Textbox(label=i18n("doc_date"), elem_id="doc-date", max_length=40),
                      gr.Textbox(label=i18n("doc_review_by"), elem_id="doc-review-by", max_length=40),
                      gr.Textbox(label=i18n("doc_translation_of"), elem_id="doc-translation-of", max_length=200)]
            replace_id = gr.Textbox(label=i18n("doc_replace_id"), elem_id="doc-replace-id", max_length=200)
    with gr.Row():
        preview = gr.Button(i18n("doc_preview_button"), elem_id="doc-preview")
        publish = gr.Button(i18n("doc_publish_button"), variant="primary", elem_id="doc-publish")
    return {"file": file, "text": text, "fields": fields, "replace_id": replace_id, "preview": preview, "publish": publish,
            "message": gr.Markdown(elem_id="doc-message"), "progress": gr.Markdown(elem_id="doc-progress", elem_classes="banner"),
            "shown": gr.HTML(elem_id="doc-preview-box", js_on_load=None), "previewed": gr.State(None)}  # (form signature, Document)


def _document_list(gr: Any, i18n: Any) -> dict:
    """The search box, the selected id with its buttons, the table of documents and its pager."""
    gr.Markdown(i18n("doc_list_heading"))
    with gr.Row(equal_height=True):
        search = gr.Textbox(label=i18n("doc_search"), elem_id="doc-search", scale=2, max_length=200)
        selected = gr.Textbox(label=i18n("doc_selected"), elem_id="doc-selected", scale=2, max_length=200)
        edit = gr.Button(i18n("doc_edit_button"), size="sm", scale=1, elem_id="doc-edit")
        translate = gr.Button(i18n("doc_translate_button"), size="sm", scale=1, elem_id="doc-translate")
    with gr.Row(equal_height=True):
        confirm = gr.Checkbox(label=i18n("doc_retire_check"), elem_id="doc-retire-confirm")
        retire = gr.Button(i18n("doc_retire_button"), variant="stop", size="sm", scale=0, min_width=120, elem_id="doc-retire")
    table = gr.Dataframe(headers=document_columns("en"), datatype="str", wrap=True, interactive=False, elem_id="doc-table",
                         column_widths=["20%", "33%", "7%", "8%", "11%", "10%", "11%"])
    with gr.Row(equal_height=True):
        newer = gr.Button(i18n("previous"), size="sm", scale=0, min_width=120, elem_id="doc-prev")
        page_line = gr.Markdown(elem_id="doc-page")
        older = gr.Button(i18n("next"), size="sm", scale=0, min_width=120, elem_id="doc-next")
    return {"search": search, "selected": selected, "edit": edit, "translate": translate, "confirm": confirm, "retire": retire,
            "table": table, "newer": newer, "older": older, "page_line": page_line, "page": gr.State(1), "seen": gr.State(0.0)}


def _wire_list(gr: Any, desk: DocumentDesk, rebuilder: Any, bot: Any, reader: Callable, form: dict, listed: dict) -> tuple:
    """Searching, paging and selecting in the list; the progress line (refreshing the list when a build ends)."""
    outputs = [listed["table"], listed["page_line"], listed["page"]]

    def listing(query: str, page_: int, request: gr.Request) -> tuple:
        lang = reader(request)
        rows, number, total = desk.documents(query, page_)
        return (gr.update(value=document_rows(rows, lang), headers=document_columns(lang)),
                ui_text("page_info", lang, page=number, pages=max(1, -(-total // PAGE_SIZE)), total=total), number)

    def first(query: str, request: gr.Request) -> tuple:
        return listing(query, 1, request)

    def on_tick(query: str, page_: int, last: float, request: gr.Request) -> tuple:
        status = rebuilder.status() if rebuilder is not None else None
        line = progress_line(status, getattr(bot, "manifest", {}) or {}, reader(request))
        if status is None or status.stage not in ("done", "failed") or status.started == last:
            return line, gr.update(), gr.update(), gr.update(), last
        return (line, *listing(query, page_, request), status.started)

    def on_select(evt: gr.SelectData) -> str:
        row = evt.row_value or []
        return str(row[0]) if row else gr.update()

    gr.Timer(TICK).tick(on_tick, [listed["search"], listed["page"], listed["seen"]], [form["progress"], *outputs, listed["seen"]],
                        api_visibility="private", queue=False, show_progress="hidden")
    listed["table"].select(on_select, None, [listed["selected"]], api_visibility="private", queue=False)
    for trigger in (listed["search"].submit, listed["search"].change):
        trigger(first, [listed["search"]], outputs, api_visibility="private", queue=False)
    for button, delta in ((listed["newer"], -1), (listed["older"], 1)):
        def move(query: str, page_: int, request: gr.Request, delta: int = delta) -> tuple:
            return listing(query, max(1, int(page_ or 1) + delta), request)
        button.click(move, [listed["search"], listed["page"]], outputs, api_visibility="private")
    return first, [listed["search"]], outputs


def _wire_form(gr: Any, desk: DocumentDesk, rebuilder: Any, bot: Any, reader: Callable, form: dict, listed: dict) -> None:
    """Preview, publish (only what was previewed), edit (replace) and retire."""
    inputs = [form["file"], form["text"], *form["fields"], form["replace_id"]]
    keep = (gr.update(),) * (len(inputs) + 1)  # the form and the preview stay as they are
    cleared = (None, "", *[("auto" if f == "language" else "") for f in FIELDS], "", "")

    def on_preview(file_: str | None, text_: str, title: str, language: str, source: str, url: str, date: str, review_by: str,
                   translation_of: str, replace_: str, request: gr.Request) -> tuple:
        values = [title, language, source, url, date, review_by, translation_of]
        doc, html_, note = desk.preview(request.username, file_, text_, dict(zip(FIELDS, values)), replace_ or "", reader(request))
        return ((signature(file_, text_, values, replace_), doc) if doc is not None else None), html_, escape_md(note)

    def on_publish(state: Any, file_: str | None, text_: str, title: str, language: str, source: str, url: str, date: str,
                   review_by: str, translation_of: str, replace_: str, request: gr.Request) -> tuple:
        lang = reader(request)
        if state is not None and state[0] != signature(file_, text_, [title, language, source, url, date, review_by,
                                                                       translation_of], replace_):
            return (state, escape_md(ui_text("doc_changed_since_preview", lang)), gr.update(), *keep)
        done, note = desk.publish(request.username, state[1] if state else None, replace_ or "", lang)
        line = progress_line(rebuilder.status() if rebuilder else None, getattr(bot, "manifest", {}) or {}, lang)
        return (None, escape_md(note), line, *cleared) if done else (state, escape_md(note), line, *keep)

    def on_edit(doc_id: str, request: gr.Request) -> tuple:
        body, values, note = desk.edit(doc_id or "", reader(request))
        if not values:
            return (*keep[:-1], escape_md(note))
        return (None, body, *[values.get(f) or ("auto" if f == "language" else "") for f in FIELDS], doc_id.strip(), escape_md(note))

    def on_retire(doc_id: str, confirmed: bool, request: gr.Request) -> tuple:
        return escape_md(desk.retire(request.username, doc_id or "", bool(confirmed), reader(request))), False

    form["preview"].click(on_preview, inputs, [form["previewed"], form["shown"], form["message"]], api_visibility="private")
    form["publish"].click(on_publish, [form["previewed"], *inputs],
                          [form["previewed"], form["message"], form["progress"], *inputs, form["shown"]], api_visibility="private")
    listed["edit"].click(on_edit, [listed["selected"]], [*inputs, form["message"]], api_visibility="private")
    listed["retire"].click(on_retire, [listed["selected"], listed["confirm"]], [form["message"], listed["confirm"]],
                           api_visibility="private")
