"""The staff area, a Blocks app served at /staff behind the login (serve/login.py).

Content gaps from the database (filterable, paged), documents (add, preview, publish, replace,
retire; staff_documents.py), passage translations and the worklist (staff_translations.py), the
both-language comparison, the audit trail, export and deletion. Every view of the question log
or the audit trail, every change to the content, every export and every deletion is written to
the audit table with the signed-in staff name.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..ingest import langid
from ..store import Store
from ..store.feedback import GAP_FILTERS
from .patient_ui import EXAMPLES, ENGINE_CONCURRENCY, Engine, Handlers, reader_language
from .render import format_answer, passages_markdown, passages_table, ui_text

PAGE_SIZE = 25
STAFF_PATH = "/staff"


class StaffHandlers:
    """The staff area's event handlers, apart from the layout so that tests can call them directly."""

    def __init__(self, bot: Engine, store: Store) -> None:
        self.bot, self.store = bot, store
        self.answers = Handlers(bot)  # its `ask` turns engine failures into the friendly message

    def compare(self, question: str) -> tuple:
        """The question answered in English and in Indonesian, each with its passages."""
        out: list[Any] = []
        for lang in ("en", "id"):
            answer = self.answers.ask(question or "", lang)
            out += [format_answer(answer), passages_table(answer), passages_markdown(answer)]
        return tuple(out)

    def gaps(self, user: str, language: str, reason: str, page: int, reader: str) -> tuple[list[list[str]], str, int]:
        """A page of content gaps (newest first) under the filters, and the page line; audited as viewing the question log."""
        language = language if language in langid.SUPPORTED else None
        reason = reason if reason in GAP_FILTERS else None
        result = self.store.feedback.gaps(language=language, reason=reason, page=page, page_size=PAGE_SIZE)
        if result.page > result.pages:  # past the end (records were deleted meanwhile): show the last page
            result = self.store.feedback.gaps(language=language, reason=reason, page=result.pages, page_size=PAGE_SIZE)
        self.store.audit.record(user, "view_gaps", f"language={language or 'all'} reason={reason or 'all'} page={result.page}")
        rows = [[r["time"], ui_text(f"reason_{r['reason']}", reader), r["language"], r["question"], r["comment"]] for r in result.rows]
        return rows, _page_line(result, reader), result.page

    def audit_trail(self, user: str, page: int, reader: str) -> tuple[list[list[str]], str, int]:
        """A page of the audit trail, newest first; viewing it is audited too."""
        self.store.audit.record(user, "view_audit", f"page={max(1, int(page))}")
        result = self.store.audit.recent(page=page, page_size=PAGE_SIZE)
        rows = [[r["time"], r["actor"], r["action"], r["detail"]] for r in result.rows]
        return rows, _page_line(result, reader), result.page

    def purge(self, user: str, before: str, confirmed: bool, reader: str) -> str:
        """Delete question and feedback records older than the date (YYYY-MM-DD, UTC midnight); audited."""
        try:
            moment = datetime.strptime((before or "").strip(), "%Y-%m-%d")
        except ValueError:
            return ui_text("purge_bad_date", reader)
        if not confirmed:
            return ui_text("purge_not_confirmed", reader)
        deleted = self.store.feedback.purge(moment, user)
        return ui_text("purge_done", reader, before=moment.date().isoformat(), **deleted)

    def index_info(self, lang: str = "en") -> str:
        """One line describing the loaded index."""
        m = getattr(self.bot, "manifest", {}) or {}
        counts = m.get("counts", {})
        return ui_text("index_info", lang if lang in langid.SUPPORTED else "en", documents=counts.get("documents", "?"),
                       chunks=counts.get("chunks", "?"), built_at=m.get("built_at", "?"),
                       embedders="+".join(e.get("id", "?") for e in m.get("embedders", [])))


def _link_content_tabs(gr: Any, demo: Any, tabs: Any, documents: Any, docs: dict, trans: dict) -> None:
    """The document list loads with its tab; "Translate passages" opens the Translations tab on that document."""
    if not docs:
        return
    documents.select(*docs["load"], api_visibility="private", queue=False)
    if docs["warm"] is not None:  # a staff member here may publish soon: embed the calibration questions now
        demo.load(docs["warm"], None, None, api_visibility="private", queue=False)
    listing, inputs, outputs = trans["listing"]
    docs["translate"].click(lambda doc_id: (gr.Tabs(selected="translations-tab"), doc_id), [docs["selected"]],
                            [tabs, trans["doc_id"]], api_visibility="private", queue=False
                            ).then(listing, inputs, outputs, api_visibility="private")


def _page_line(result: Any, reader: str) -> str:
    return ui_text("page_info", reader, page=result.page, pages=result.pages, total=result.total)


def headers(*keys: str) -> Callable[[str], list[str]]:
    return lambda lang: [ui_text(k, lang) for k in keys]


GAP_COLUMNS = headers("col_time", "col_reason", "col_language", "col_question", "col_comment")
AUDIT_COLUMNS = headers("col_time", "col_actor", "col_action", "col_detail")
PASSAGE_COLUMNS = headers("col_rank", "col_score", "col_title", "col_doc", "col_language", "col_section")


def build_staff_app(bot: Engine, store: Store, rebuilder: Any = None) -> Any:
    """The staff Blocks, not launched; mount it behind the login (serve/login.py), which sets `request.username`.
    `rebuilder` (serve/rebuild.py) updates the index after documents change; without it documents cannot be published."""
    import gradio as gr

    from .documents_desk import DocumentDesk
    from .patient_ui import make_i18n
    from .staff_documents import documents_tab
    from .staff_translations import translations_tab, worklist_tab
    from .translation_desk import TranslationDesk
    from .worklist import Worklist

    h = StaffHandlers(bot, store)
    i18n = make_i18n(store.feedback.retention_days)
    desk = DocumentDesk(bot, store, rebuilder) if getattr(bot, "settings", None) is not None and rebuilder is not None else None

    def reader(request: gr.Request) -> str:
        return reader_language("auto", request)

    # uploads are converted at once and kept in the corpus folder: gradio's copies go after an hour
    with gr.Blocks(title=ui_text("staff_title", "en") + " · " + ui_text("staff_title", "id"), fill_width=True,
                   delete_cache=(3600, 3600)) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown(i18n("staff_heading"))
            signed_in = gr.Markdown(elem_id="signed-in")
            gr.Button(i18n("logout"), link=f"{STAFF_PATH}/logout", link_target="_self", size="sm", scale=0, min_width=120,
                      elem_id="logout")
        with gr.Tabs() as tabs:
            with gr.Tab(i18n("tab_gaps"), id="gaps-tab"):
                load_gaps = _gaps_tab(gr, h, i18n, reader)
            with gr.Tab(i18n("tab_documents"), id="documents-tab") as documents:
                docs = documents_tab(gr, desk, rebuilder, bot, i18n, reader)
            with gr.Tab(i18n("tab_translations"), id="translations-tab"):
                trans = translations_tab(gr, TranslationDesk(bot, store), i18n, reader)
            with gr.Tab(i18n("tab_worklist"), id="worklist-tab") as worklist:
                load_worklist = worklist_tab(gr, Worklist(bot, store), store, i18n, reader)
            with gr.Tab(i18n("tab_compare"), id="compare-tab"):
                _compare_tab(gr, h, i18n)
            with gr.Tab(i18n("tab_audit"), id="audit-tab") as audit_tab:
                load_audit = _audit_tab(gr, h, i18n, reader)
            with gr.Tab(i18n("tab_records"), id="records-tab"):
                _records_tab(gr, h, i18n, reader)

        def welcome(request: gr.Request) -> str:
            return ui_text("staff_signed_in", reader(request), name=request.username or "?")

        demo.load(welcome, None, [signed_in], queue=False, api_visibility="private")
        demo.load(*load_gaps, api_visibility="private")
        audit_tab.select(*load_audit, api_visibility="private")
        worklist.select(*load_worklist, api_visibility="private")
        _link_content_tabs(gr, demo, tabs, documents, docs, trans)
    return demo


def _pager(gr: Any, i18n: Any, prefix: str) -> tuple[Any, Any, Any, Any]:
    with gr.Row(equal_height=True):
        newer = gr.Button(i18n("previous"), size="sm", scale=0, min_width=120, elem_id=f"{prefix}-newer")
        line = gr.Markdown(elem_id=f"{prefix}-page")
        older = gr.Button(i18n("next"), size="sm", scale=0, min_width=120, elem_id=f"{prefix}-older")
    return newer, line, older, gr.State(1)


def _gaps_tab(gr: Any, h: StaffHandlers, i18n: Any, reader: Callable) -> tuple:
    gr.Markdown(i18n("gaps_heading"))
    with gr.Row(equal_height=True):
        language = gr.Dropdown([(i18n("language_all"), "all"), ("English", "en"), ("Bahasa Indonesia", "id")], value="all",
                               label=i18n("filter_language"), elem_id="gaps-language")
        reason = gr.Dropdown([(i18n("reason_all"), "all")] + [(i18n(f"reason_{r}"), r) for r in GAP_FILTERS], value="all",
                             label=i18n("filter_reason"), elem_id="gaps-reason")
        refresh = gr.Button(i18n("refresh"), size="sm", scale=0, min_width=120, elem_id="gaps-refresh")
    table = gr.Dataframe(headers=GAP_COLUMNS("en"), datatype="str", wrap=True, interactive=False, label=i18n("gaps_label"),
                         elem_id="gaps-table")
    newer, line, older, page = _pager(gr, i18n, "gaps")

    def show(language_: str, reason_: str, page_: int, request: gr.Request) -> tuple:
        rows, text, shown = h.gaps(request.username, language_, reason_, page_, reader(request))
        return gr.update(value=rows, headers=GAP_COLUMNS(reader(request))), text, shown

    def step(delta: int | None) -> Callable:
        """A handler showing the page `delta` away from the current one (None: the first page)."""
        def move(language_: str, reason_: str, page_: int, request: gr.Request) -> tuple:
            return show(language_, reason_, 1 if delta is None else max(1, int(page_ or 1) + delta), request)
        return move

    outputs = [table, line, page]
    for trigger in (refresh.click, language.change, reason.change):
        trigger(step(None), [language, reason, page], outputs, api_visibility="private")
    newer.click(step(-1), [language, reason, page], outputs, api_visibility="private")
    older.click(step(1), [language, reason, page], outputs, api_visibility="private")
    return step(None), [language, reason, page], outputs


def _compare_tab(gr: Any, h: StaffHandlers, i18n: Any) -> None:
    gr.Markdown(i18n("staff_intro"))
    gr.Markdown(h.index_info("en"))
    with gr.Row(equal_height=True):
        question = gr.Textbox(label=i18n("staff_question"), value=EXAMPLES[0], scale=5, elem_id="compare-question")
        compare = gr.Button(i18n("compare"), variant="primary", scale=1, elem_id="compare")
    outputs = []
    with gr.Row():
        for key in ("answer_en", "answer_id"):
            with gr.Column():
                gr.Markdown(i18n(key))
                outputs.append(gr.Markdown(line_breaks=True))
                outputs += [gr.Dataframe(headers=PASSAGE_COLUMNS("en"), datatype="str", wrap=True, interactive=False,
                                         label=i18n("passages_label")), gr.Markdown()]
    gr.on([question.submit, compare.click], h.compare, [question], outputs, api_name="compare",
          concurrency_limit=ENGINE_CONCURRENCY, concurrency_id="engine")


def _audit_tab(gr: Any, h: StaffHandlers, i18n: Any, reader: Callable) -> tuple:
    gr.Markdown(i18n("audit_heading"))
    table = gr.Dataframe(headers=AUDIT_COLUMNS("en"), datatype="str", wrap=True, interactive=False, elem_id="audit-table")
    newer, line, older, page = _pager(gr, i18n, "audit")

    def show(page_: int, request: gr.Request) -> tuple:
        rows, text, shown = h.audit_trail(request.username, page_, reader(request))
        return gr.update(value=rows, headers=AUDIT_COLUMNS(reader(request))), text, shown

    def step(delta: int | None) -> Callable:
        def move(page_: int, request: gr.Request) -> tuple:
            return show(1 if delta is None else max(1, int(page_ or 1) + delta), request)
        return move

    outputs = [table, line, page]
    newer.click(step(-1), [page], outputs, api_visibility="private")
    older.click(step(1), [page], outputs, api_visibility="private")
    return step(None), [page], outputs


def _records_tab(gr: Any, h: StaffHandlers, i18n: Any, reader: Callable) -> None:
    gr.Markdown(i18n("records_heading"))
    gr.Button(i18n("export"), link=f"{STAFF_PATH}/export", link_target="_self", elem_id="export")
    with gr.Row(equal_height=True):
        before = gr.Textbox(label=i18n("purge_before"), placeholder="2026-01-31", elem_id="purge-before")
        confirmed = gr.Checkbox(label=i18n("purge_confirm"), elem_id="purge-confirm")
        purge = gr.Button(i18n("purge"), variant="stop", scale=0, min_width=120, elem_id="purge")
    result = gr.Markdown(elem_id="purge-result")

    def on_purge(before_: str, confirmed_: bool, request: gr.Request) -> str:
        return h.purge(request.username, before_, bool(confirmed_), reader(request))

    purge.click(on_purge, [before, confirmed], [result], api_visibility="private")
