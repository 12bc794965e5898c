"""The chat window: a patient chat tab and a staff tab around an engine with `.ask` and `.manifest`.

The UI only formats `Answer`s. Everything a user or a document wrote is escaped before it is
shown, so no question or passage can render active HTML, links or scripts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from ..ingest import langid
from ..store.feedback import FeedbackStore
from ..answer.compose import message_only
from ..answer.render import to_json
from ..records import Answer
from ..answer.texts import text
from .render import (
    ui_text,
    translations,
    escape_md,
    format_answer,
    cited,
    answer_messages,
    passages_table,
    passages_markdown,
)

log = logging.getLogger("chatbot")
EXAMPLES = ["How is CMV transmitted?", "Can CMV cause anemia and low platelets?",
            "Apakah ada vaksin untuk CMV?", "Mengapa darah transfusi harus diradiasi?"]
ENGINE_CONCURRENCY = 1  # the engine's sentence cache is not thread-safe; an answer takes ~0.1-1 s
CSS = """
.urgent {background:#fde8e8; color:#7f1d1d; border-left:6px solid #b91c1c; border-radius:6px;
         padding:10px 12px; margin:2px 0 10px; font-weight:700;}
.disclaimer {font-size:.88em; opacity:.8; border-top:1px solid var(--border-color-primary); padding-top:6px; margin-top:8px;}
.banner {background:var(--color-accent-soft); border-radius:8px; padding:6px 12px !important;}
#chat .thought-group .title p {font-size:.92rem; color:#0f766e; font-weight:700;} .dark #chat .thought-group .title p {color:#5eead4;}
#chat .thought-group .content p, #chat .thought-group .content li {font-size:.95rem; line-height:1.45;}
#language .wrap {flex-wrap:nowrap;}
@media (max-width: 640px) {
  #heading h2 {font-size:1.3rem; margin:0;} #heading p {display:none;}
  #language {padding:6px 8px !important;} #language .wrap {gap:3px;} #language label {padding:4px 6px; font-size:.82rem; white-space:nowrap;}
  .banner {font-size:.85rem;} #chat {height:50vh !important;}
}
"""


class Engine(Protocol):
    """What the UI needs from the bot: `ask` and the index manifest."""

    manifest: dict

    def ask(self, question: str, lang: str = "auto", k: int | None = None, history: Sequence[str] = ()) -> Answer: ...


class Handlers:
    """The app's event handlers, apart from the layout so that tests can call them directly."""

    def __init__(self, bot: Engine, store: FeedbackStore | None = None, max_chars: int | None = None) -> None:
        self.bot = bot
        self.store = store
        settings = getattr(bot, "settings", None)
        self.max_chars = max_chars or getattr(settings, "max_question_chars", 2000)

    def reply_language(self, question: str, lang: str) -> str:
        """The selector's language, or the question's when the selector says auto."""
        if lang in langid.SUPPORTED:
            return lang
        try:
            return langid.detect(question).language
        except Exception:  # language detection must never block an answer
            return "en"

    def ask(self, question: str, lang: str, history: Sequence[str] = ()) -> Answer:
        """`bot.ask`, turning any failure into the friendly error message (never a traceback)."""
        try:
            return self.bot.ask(question, lang=lang, history=list(history))
        except Exception:
            log.exception("answering failed")
            reply = self.reply_language(question, lang)
            return message_only(question, reply, "error")

    def respond(self, message: str, lang: str, chat: list | None, turns: list | None) -> Iterator[tuple[list, str, list]]:
        """Chat turn: show the question and a progress box, then the answer with its source boxes."""
        chat, turns, question = list(chat or []), list(turns or []), message or ""
        if not question.strip():
            yield chat, "", turns
            return
        too_long = len(question) > self.max_chars
        user = {"role": "user", "content": escape_md(question[:200] + "…" if too_long else question)}
        if too_long:  # answered without the engine; the question stays in the box to be shortened
            reply = self.reply_language(question[:500], lang)
            answer = message_only(question[:200], reply, "too_long", length=len(question), limit=self.max_chars)
        else:
            title = ui_text("thinking", self.reply_language(question, lang))
            yield chat + [user, {"role": "assistant", "content": "", "metadata": {"title": title, "status": "pending"}}], "", turns
            answer = self.ask(question, lang, history=[t["question"] for t in turns if not t["notice"]])
            self._log(answer)
        turns.append({"index": len(chat) + 1, "question": answer.question, "language": answer.language, "notice": answer.notice,
                      "chunk_ids": [answer.hits[n - 1].chunk.id for n in cited(answer)], "answer": answer.text})
        yield chat + [user] + answer_messages(answer), question if too_long else "", turns

    def _log(self, answer: Answer) -> None:
        if self.store is None or answer.notice:
            return
        try:
            self.store.question(question=answer.question, language=answer.language, abstained=answer.abstained, urgent=answer.urgent)
        except OSError:
            log.exception("could not log the question")

    def like(self, turns: list | None, index: int | Sequence[int], liked: bool) -> dict | None:
        """Store a like or dislike for the answer at chat position `index`; returns the record."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        turn = next((t for t in reversed(turns or []) if t["index"] <= index), None)
        if turn is None or self.store is None:
            return None
        return self.store.feedback(liked=liked, question=turn["question"], language=turn["language"],
                                   chunk_ids=turn["chunk_ids"], answer=turn["answer"])

    def compare(self, question: str) -> tuple[str, list, str, str, list, str]:
        """Staff view: the question answered in English and in Indonesian, each with its passages."""
        out: list[Any] = []
        for lang in ("en", "id"):
            answer = self.ask(question or "", lang)
            out += [format_answer(answer), passages_table(answer), passages_markdown(answer)]
        return tuple(out)  # type: ignore[return-value]

    def gaps(self, lang: str = "en") -> list[list[str]]:
        """Recent questions that abstained or got a thumbs-down, newest first."""
        lang = lang if lang in langid.SUPPORTED else "en"
        reasons = {"abstained": ui_text("abstained", lang), "thumbs-down": ui_text("thumbs_down", lang)}
        rows = self.store.gaps() if self.store is not None else []
        return [[t, reasons.get(r, r), language, q] for t, r, language, q in rows]

    def api_ask(self, question: str, lang: str = "auto") -> dict:
        """Answer one question; returns the JSON contract of `chatbot ask --json`."""
        return to_json(self.ask(question, lang if lang in ("auto", "en", "id") else "auto"))

    def index_info(self, lang: str = "en") -> str:
        """One line describing the loaded index, for the staff view."""
        m = getattr(self.bot, "manifest", {}) or {}
        counts = m.get("counts", {})
        return ui_text("index_info", lang if lang in langid.SUPPORTED else "en", documents=counts.get("documents", "?"),
                       chunks=counts.get("chunks", "?"), built_at=m.get("built_at", "?"),
                       embedders="+".join(e.get("id", "?") for e in m.get("embedders", [])))


def make_i18n() -> Any:
    """`gr.I18n` with every UI string in English and Indonesian, following the browser locale."""
    import gradio as gr

    return gr.I18n(**translations())


def build_app(bot: Engine, store: FeedbackStore | None = None) -> Any:
    """The Blocks app, not launched: a patient chat tab and a staff tab. Launch with `make_i18n()` and `CSS`."""
    import gradio as gr

    h = Handlers(bot, store)
    i18n = make_i18n()
    # component -> {property: i18n key, or a function of the reader's language}: what the selector rewrites
    strings: dict[int, tuple[Any, dict[str, Any]]] = {}

    def tr(component: Any, prop: str, key: str | Callable[[str], Any]) -> Any:
        strings.setdefault(id(component), (component, {}))[1][prop] = key
        return component

    with gr.Blocks(title=f"{ui_text('app_title', 'en')} · {ui_text('app_title', 'id')}", fill_width=False) as demo:
        with gr.Row(equal_height=True):
            tr(gr.Markdown(i18n("heading"), elem_id="heading"), "value", "heading")
            lang = tr(gr.Radio(_language_choices(i18n), value="auto",
                               label=i18n("language_label"), elem_id="language", scale=0, min_width=400), "label", "language_label")
        with gr.Tabs():
            with tr(gr.Tab(i18n("tab_chat"), id="chat-tab"), "label", "tab_chat"):
                _chat_tab(gr, h, lang, i18n, tr)
            with tr(gr.Tab(i18n("tab_staff"), id="staff-tab"), "label", "tab_staff") as staff_tab:
                gaps = _staff_tab(gr, h, lang, i18n, tr)
        relabel = _relabeler(gr, i18n, strings, lang)
        lang.change(relabel, [lang], [c for c, _ in strings.values()], api_visibility="private", queue=False)
        demo.load(relabel, [lang], [c for c, _ in strings.values()], api_visibility="private", queue=False)
        staff_tab.select(_with_request(gr, lambda choice, request: h.gaps(reader_language(choice, request))),
                         [lang], [gaps], api_visibility="private")
        gr.api(h.api_ask, api_name="ask", concurrency_limit=ENGINE_CONCURRENCY, concurrency_id="engine")
    return demo


def reader_language(choice: str, request: Any = None) -> str:
    """The selector's language, else the browser's (Accept-Language: first of en/id listed), else English."""
    if choice in langid.SUPPORTED:
        return choice
    header = (getattr(request, "headers", None) or {}).get("accept-language", "") if request is not None else ""
    for tag in header.split(","):
        code = tag.split(";")[0].strip().lower()[:2]
        if code in langid.SUPPORTED:
            return code
    return "en"


def _with_request(gr: Any, fn: Any) -> Any:
    """`fn(choice, request)` as an event handler that receives the gr.Request."""
    def handler(choice: str, request: Any) -> Any:
        return fn(choice, request)

    # gradio passes the request by type hint; postponed annotations would hide it
    handler.__annotations__ = {"choice": str, "request": gr.Request}
    return handler


def _relabeler(gr: Any, i18n: Any, strings: dict[int, tuple[Any, dict[str, Any]]], lang: Any) -> Any:
    """Event handler rewriting every UI string: the selector's language, or i18n keys (browser locale) on Auto."""
    def relabel(choice: str, request: Any) -> list:
        pick = (lambda key: ui_text(key, choice)) if choice in langid.SUPPORTED else i18n
        reader = reader_language(choice, request)  # for what i18n keys cannot express (table headers, filled-in text)
        updates = []
        for component, props in strings.values():
            values = {p: key(reader) if callable(key) else pick(key) for p, key in props.items()}
            if component is lang:
                values["choices"] = _language_choices(pick)
            updates.append(gr.update(**values))
        return updates

    return _with_request(gr, relabel)


def _chat_tab(gr: Any, h: Handlers, lang: Any, i18n: Any, tr: Any) -> None:
    tr(gr.Markdown(i18n("banner"), elem_classes="banner"), "value", "banner")
    chat = tr(gr.Chatbot(label=i18n("chat_label"), show_label=False, elem_id="chat", height="56vh", min_height=320, latex_delimiters=[],
                         sanitize_html=True, allow_tags=False, buttons=["copy"], feedback_options=("Like", "Dislike"),
                         placeholder=str(i18n("chat_placeholder"))), "label", "chat_label")
    tr(chat, "placeholder", "chat_placeholder")
    turns = gr.State([])
    with gr.Row(equal_height=True):
        question = tr(gr.Textbox(label=i18n("question_label"), show_label=False, container=False, lines=1, max_lines=6, scale=6,
                                 placeholder=str(i18n("question_placeholder")), elem_id="question", autofocus=True), "label", "question_label")
        tr(question, "placeholder", "question_placeholder")
        send = tr(gr.Button(i18n("send"), variant="primary", scale=1, min_width=90, elem_id="send"), "value", "send")
    examples = gr.Examples(EXAMPLES, inputs=[question], label=i18n("examples_label"))
    tr(examples.dataset, "label", "examples_label")
    clear = tr(gr.Button(i18n("clear"), size="sm", variant="secondary"), "value", "clear")
    gr.on([question.submit, send.click], h.respond, [question, lang, chat, turns], [chat, question, turns],
          api_name="chat", concurrency_limit=ENGINE_CONCURRENCY, concurrency_id="engine", show_progress="minimal")
    clear.click(lambda: ([], "", []), None, [chat, question, turns], api_visibility="private", queue=False)
    chat.clear(lambda: [], None, [turns], api_visibility="private", queue=False)  # the chat's own trash button

    def on_like(turns_value: list, data: Any) -> None:
        record = h.like(turns_value, data.index, bool(data.liked))
        if record is not None:
            gr.Info(ui_text("thanks", record["language"]), duration=3)

    # gradio finds the LikeData parameter by its type hint, which postponed annotations leave unresolvable here
    on_like.__annotations__ = {"turns_value": list, "data": gr.LikeData, "return": None}

    chat.like(on_like, [turns], None, api_visibility="private")


def _staff_tab(gr: Any, h: Handlers, lang: Any, i18n: Any, tr: Any) -> Any:
    tr(gr.Markdown(i18n("staff_intro")), "value", "staff_intro")
    tr(gr.Markdown(h.index_info("en")), "value", h.index_info)
    with gr.Row(equal_height=True):
        question = tr(gr.Textbox(label=i18n("staff_question"), value=EXAMPLES[0], scale=5), "label", "staff_question")
        compare = tr(gr.Button(i18n("compare"), variant="primary", scale=1), "value", "compare")
    headers = _headers("col_rank", "col_score", "col_title", "col_doc", "col_language", "col_section")
    outputs = []
    with gr.Row():
        for key in ("answer_en", "answer_id"):
            with gr.Column():
                tr(gr.Markdown(i18n(key)), "value", key)
                outputs.append(gr.Markdown(line_breaks=True))
                table = tr(gr.Dataframe(headers=headers("en"), datatype="str", wrap=True,
                                        interactive=False, label=i18n("passages_label")), "headers", headers)
                outputs += [tr(table, "label", "passages_label"), gr.Markdown()]
    gr.on([question.submit, compare.click], h.compare, [question], outputs, api_name="compare",
          concurrency_limit=ENGINE_CONCURRENCY, concurrency_id="engine")
    tr(gr.Markdown(i18n("gaps_heading")), "value", "gaps_heading")
    columns = _headers("col_time", "col_reason", "col_language", "col_question")
    gaps = tr(gr.Dataframe(headers=columns("en"), datatype="str", wrap=True, interactive=False,
                           label=i18n("gaps_label")), "label", "gaps_label")
    tr(gaps, "headers", columns)
    refresh = tr(gr.Button(i18n("refresh"), size="sm"), "value", "refresh")
    refresh.click(_with_request(gr, lambda choice, request: h.gaps(reader_language(choice, request))),
                  [lang], [gaps], api_visibility="private")
    return gaps


def _headers(*keys: str) -> Callable[[str], list[str]]:
    return lambda lang: [ui_text(k, lang) for k in keys]


def _language_choices(pick: Any) -> list[tuple[Any, str]]:
    return [(pick("language_auto"), "auto"), ("English", "en"), ("Bahasa Indonesia", "id")]
