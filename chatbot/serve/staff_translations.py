"""The staff area's Translations and Worklist tabs (handlers: translation_desk.py, worklist.py).

No postponed annotations here: gradio finds the gr.Request parameter of a handler by its type hint.
"""

from collections.abc import Callable
from typing import Any

from ..store.translations import TEXT_LIMIT
from .render import escape_md, ui_text
from .translation_desk import TranslationDesk
from .worklist import Worklist


def _columns(lang: str, *keys: str) -> list[str]:
    return [ui_text(k, lang) for k in keys]


PASSAGE_KEYS = ("col_rank", "col_section", "col_language", "col_beginning", "col_translation")
UNTRANSLATED_KEYS = ("col_count", "col_title", "col_passage", "col_readers", "col_chunk")
GAP_KEYS = ("col_count", "col_examples", "col_language", "col_last", "col_reason")


def translations_tab(gr: Any, desk: TranslationDesk, i18n: Any, reader: Callable) -> dict:
    """Lay out the tab; returns its document box and the handler that lists a document's passages."""
    gr.Markdown(i18n("tr_heading"))
    with gr.Row(equal_height=True):
        doc_id = gr.Textbox(label=i18n("tr_doc_id"), elem_id="tr-doc-id", scale=3, max_length=200)
        show = gr.Button(i18n("tr_show"), scale=1, elem_id="tr-show")
    message = gr.Markdown(elem_id="tr-message")
    table = gr.Dataframe(headers=_columns("en", *PASSAGE_KEYS), datatype="str", wrap=True, interactive=False, elem_id="tr-table",
                         column_widths=["6%", "24%", "8%", "40%", "22%"])
    passage = gr.Dropdown(choices=[], value=None, label=i18n("tr_passage"), elem_id="tr-passage", allow_custom_value=False)
    original = gr.HTML(elem_id="tr-original", js_on_load=None)
    note = gr.Markdown(elem_id="tr-note")
    text = gr.Textbox(label=i18n("tr_translation"), lines=6, max_lines=20, max_length=TEXT_LIMIT, elem_id="tr-text")
    reviewed = gr.Checkbox(label=i18n("tr_reviewed_check"), elem_id="tr-reviewed")
    save = gr.Button(i18n("tr_save"), variant="primary", elem_id="tr-save")
    result = gr.Markdown(elem_id="tr-result")
    pairs = gr.HTML(elem_id="tr-pairs", js_on_load=None)

    def listing(doc: str, request: gr.Request) -> tuple:
        lang = reader(request)
        rows, choices, text_ = desk.table(doc or "", lang)
        return (gr.update(value=rows, headers=_columns(lang, *PASSAGE_KEYS)), gr.update(choices=choices, value=None),
                escape_md(text_))

    def on_open(chunk_id: str | None, request: gr.Request) -> tuple:
        if not chunk_id:
            return "", "", "", "", ""
        html_, current, state, pairs_ = desk.open(chunk_id, reader(request))
        return html_, current, escape_md(state), pairs_, ""

    def on_save(chunk_id: str | None, text_: str, ok: bool, doc: str, request: gr.Request) -> tuple:
        lang = reader(request)
        said, pairs_, state = desk.save(request.username, chunk_id or "", text_ or "", bool(ok), lang)
        rows, _, _ = desk.table(doc or "", lang)
        return (escape_md(said), pairs_, gr.update(value=rows, headers=_columns(lang, *PASSAGE_KEYS)), False,
                escape_md(state) if state else gr.update())

    gr.on([show.click, doc_id.submit], listing, [doc_id], [table, passage, message], api_visibility="private")
    passage.change(on_open, [passage], [original, text, note, pairs, result], api_visibility="private")
    save.click(on_save, [passage, text, reviewed, doc_id], [result, pairs, table, reviewed, note], api_visibility="private")
    return {"doc_id": doc_id, "listing": (listing, [doc_id], [table, passage, message])}


def worklist_tab(gr: Any, worklist: Worklist, store: Any, i18n: Any, reader: Callable) -> tuple:
    """Lay out the tab; returns (handler, inputs, outputs) that fill it (audited as viewing the question log)."""
    gr.Markdown(i18n("wl_heading"))
    refresh = gr.Button(i18n("wl_refresh"), size="sm", elem_id="wl-refresh")
    gr.Markdown(i18n("wl_untranslated_heading"))
    untranslated = gr.Dataframe(headers=_columns("en", *UNTRANSLATED_KEYS), datatype="str", wrap=True, interactive=False,
                                elem_id="wl-untranslated", column_widths=["7%", "22%", "45%", "8%", "18%"])
    gr.Markdown(i18n("wl_gaps_heading"))
    gaps = gr.Dataframe(headers=_columns("en", *GAP_KEYS), datatype="str", wrap=True, interactive=False, elem_id="wl-gaps",
                        column_widths=["7%", "53%", "8%", "14%", "18%"])

    def fill(request: gr.Request) -> tuple:
        lang = reader(request)
        store.audit.record(request.username, "view_worklist", "untranslated passages and grouped gaps")
        rows = [[r.count, r.chunk.title, " ".join(r.chunk.text.split())[:160],
                 f"{r.chunk.language} → {r.language}", r.chunk.id] for r in worklist.untranslated()]
        groups = [[g.count, "\n".join((g.example, *g.others)), ", ".join(g.languages), g.last,
                   ", ".join(f"{ui_text('reason_' + reason, lang)} ×{n}" for reason, n in g.reasons)] for g in worklist.gap_groups()]
        return (gr.update(value=rows, headers=_columns(lang, *UNTRANSLATED_KEYS)),
                gr.update(value=groups, headers=_columns(lang, *GAP_KEYS)))

    refresh.click(fill, None, [untranslated, gaps], api_visibility="private")
    return fill, None, [untranslated, gaps]
