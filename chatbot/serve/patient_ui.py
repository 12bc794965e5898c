"""The patient chat window around an engine with `.ask` and `.manifest`.

The UI only formats `Answer`s. Everything a user or a document wrote is escaped before it is
shown, so no question or passage can render active HTML, links or scripts. Nothing here shows
what another visitor asked or rated: the staff area (staff_ui.py) is a separate app behind a login.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from ..ingest import langid
from ..answer.compose import message_only
from ..answer.render import to_json
from ..errors import StoreError
from ..store.feedback import COMMENT_LIMIT, REASONS, FeedbackStore
from ..records import Answer
from ..answer.texts import text
from .render import (  # noqa: F401 (format_answer, passages_*: kept importable from here for callers of the former one-app module)
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
ENGINE_CONCURRENCY = max(1, min(os.cpu_count() or 1, 8))  # answers at once: the engine is thread-safe, one thread per answer
CSS = """
.urgent {background:#fde8e8; color:#7f1d1d; border-left:6px solid #b91c1c; border-radius:6px;
         padding:10px 12px; margin:2px 0 10px; font-weight:700;}
.translated {font-size:.88em; margin:-2px 0 8px 22px;} .translated summary {cursor:pointer; color:#0f766e; font-style:italic;}
.dark .translated summary {color:#5eead4;}
.disclaimer {font-size:.88em; opacity:.8; border-top:1px solid var(--border-color-primary); padding-top:6px; margin-top:8px;}
.banner {background:var(--color-accent-soft); border-radius:8px; padding:6px 12px !important;}
#chat .thought-group .title p {font-size:.92rem; color:#0f766e; font-weight:700;} .dark #chat .thought-group .title p {color:#5eead4;}
#chat .thought-group .content p, #chat .thought-group .content li {font-size:.95rem; line-height:1.45;}
#language .wrap {flex-wrap:nowrap;}
.privacy {font-size:.82rem; opacity:.75;}
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


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _answering() -> ThreadPoolExecutor:
    """The threads that work out chat answers (ENGINE_CONCURRENCY: the chat event's own limit)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=ENGINE_CONCURRENCY, thread_name_prefix="answer")
        return _pool


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
            return langid.detect_question(question).language
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
            # the answer is worked out while Gradio sends the progress box (about 5 ms sooner); the
            # event's concurrency limit still bounds how many are worked out at once
            answering = _answering().submit(self.ask, question, lang, [t["question"] for t in turns if not t["notice"]])
            try:
                yield chat + [user, {"role": "assistant", "content": "", "metadata": {"title": title, "status": "pending"}}], "", turns
            except GeneratorExit:  # chat closed or cancelled meanwhile: an answer nobody will read is not begun
                answering.cancel()
                raise
            answer = answering.result()
            self._log(answer)
        turns.append({"index": len(chat) + 1, "question": answer.question, "language": answer.language, "notice": answer.notice,
                      "chunk_ids": [answer.hits[n - 1].chunk.id for n in cited(answer)], "answer": answer.text})
        yield chat + [user] + answer_messages(answer), question if too_long else "", turns

    def _log(self, answer: Answer) -> None:
        if self.store is None or answer.notice:
            return
        try:
            self.store.question(question=answer.question, language=answer.language, abstained=answer.abstained, urgent=answer.urgent,
                                chunk_ids=[answer.hits[n - 1].chunk.id for n in cited(answer)])
        except (StoreError, OSError) as exc:  # the patient still gets the answer
            log.warning("could not log the question: %s", exc)

    def like(self, turns: list | None, index: int | Sequence[int], liked: bool) -> dict | None:
        """Store a like or dislike for the answer at chat position `index`; returns the record (None if not stored)."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        turn = next((t for t in reversed(turns or []) if t["index"] <= index), None)
        if turn is None or self.store is None:
            return None
        try:
            return self.store.feedback(liked=liked, question=turn["question"], language=turn["language"],
                                       chunk_ids=turn["chunk_ids"], answer=turn["answer"])
        except (StoreError, OSError) as exc:
            log.warning("could not store feedback: %s", exc)
            return None

    def explain(self, feedback_id: int | None, reason: str | None, comment: str | None, lang: str) -> str:
        """Add why a thumbs-down was given (reason code, masked comment); returns the message to show."""
        lang = lang if lang in langid.SUPPORTED else "en"
        if self.store is None or feedback_id is None:
            return ui_text("not_saved", lang)
        try:
            result = self.store.explain(feedback_id, reason if reason in REASONS else None, str(comment or ""))
        except (StoreError, OSError) as exc:
            log.warning("could not store the reason of a thumbs-down: %s", exc)
            return ui_text("not_saved", lang)
        if result is None:
            return ui_text("not_saved", lang)
        return ui_text("thanks_shortened", lang, limit=COMMENT_LIMIT) if result["shortened"] else ui_text("thanks", lang)

    def api_ask(self, question: str, lang: str = "auto") -> dict:
        """Answer one question; returns the JSON contract of `chatbot ask --json`."""
        return to_json(self.ask(question, lang if lang in ("auto", "en", "id") else "auto"))


def make_i18n(retention_days: int = 90) -> Any:
    """`gr.I18n` with every UI string in English and Indonesian, following the browser locale."""
    import gradio as gr

    tables = {lang: {k: v.replace("{days}", str(retention_days)) for k, v in table.items()} for lang, table in translations().items()}
    return gr.I18n(**tables)


def build_app(bot: Engine, store: FeedbackStore | None = None, retention_days: int | None = None) -> Any:
    """The patient chat Blocks, not launched. Launch with `make_i18n(retention_days)` and `CSS`."""
    import gradio as gr

    h = Handlers(bot, store)
    days = retention_days or getattr(store, "retention_days", None) or getattr(getattr(bot, "settings", None), "retention_days", 90)
    i18n = make_i18n(days)
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
        note_key = "privacy_note_none" if store is None else "privacy_note" if store.log_questions else "privacy_note_off"
        _chat(gr, h, lang, i18n, tr, lambda reader: ui_text(note_key, reader, days=days), note_key)
        relabel = _relabeler(gr, i18n, strings, lang)
        lang.change(relabel, [lang], [c for c, _ in strings.values()], api_visibility="private", queue=False)
        demo.load(relabel, [lang], [c for c, _ in strings.values()], api_visibility="private", queue=False)
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


def _chat(gr: Any, h: Handlers, lang: Any, i18n: Any, tr: Any, note_text: Callable[[str], str], note_key: str) -> None:
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
    note = tr(gr.Markdown(i18n(note_key), elem_id="privacy-note", elem_classes="privacy"), "value", note_text)
    why, pending = _why_panel(gr, h, lang, i18n, tr)
    examples = gr.Examples(EXAMPLES, inputs=[question], label=i18n("examples_label"), api_visibility="private")
    tr(examples.dataset, "label", "examples_label")
    clear = tr(gr.Button(i18n("clear"), size="sm", variant="secondary"), "value", "clear")
    asked = gr.on([question.submit, send.click], h.respond, [question, lang, chat, turns], [chat, question, turns],
                  api_name="chat", concurrency_limit=ENGINE_CONCURRENCY, concurrency_id="engine", show_progress="minimal")
    # the privacy line follows the language of the latest reply
    asked.then(lambda t: gr.update(value=note_text(t[-1]["language"])) if t else gr.update(), [turns], [note],
               api_visibility="private", queue=False)
    hide = (gr.update(visible=False), None)
    clear.click(lambda: ([], "", [], *hide), None, [chat, question, turns, why, pending], api_visibility="private", queue=False)
    chat.clear(lambda: ([], *hide), None, [turns, why, pending], api_visibility="private", queue=False)  # the chat's own trash button

    def on_like(turns_value: list, choice: str, data: Any, request: Any) -> tuple:
        record = h.like(turns_value, data.index, bool(data.liked))
        reader = reader_language(choice, request)
        if record is None:
            gr.Warning(ui_text("not_saved", reader), duration=4)
            return hide
        if record["liked"]:
            gr.Info(ui_text("thanks", reader), duration=3)
            return hide
        return gr.update(visible=True), record["id"]  # a thumbs-down asks why (optionally)

    # gradio finds the LikeData and Request parameters by type hint, which postponed annotations leave unresolvable here
    on_like.__annotations__ = {"turns_value": list, "choice": str, "data": gr.LikeData, "request": gr.Request, "return": tuple}
    chat.like(on_like, [turns, lang], [why, pending], api_visibility="private")


def _why_panel(gr: Any, h: Handlers, lang: Any, i18n: Any, tr: Any) -> tuple[Any, Any]:
    """The optional "what was wrong?" box shown after a thumbs-down: a reason and a comment (masked when stored)."""
    pending = gr.State(None)  # the id of the dislike waiting for its reason; kept on the server, per visitor
    with gr.Group(visible=False, elem_id="why") as why:
        tr(gr.Markdown(i18n("why_heading")), "value", "why_heading")
        reason = tr(gr.Radio(_reason_choices(i18n), label=i18n("why_label"), elem_id="why-reason"), "label", "why_label")
        tr(reason, "choices", lambda reader: _reason_choices(lambda key: ui_text(key, reader)))
        comment = tr(gr.Textbox(label=i18n("why_comment"), lines=2, max_length=COMMENT_LIMIT, elem_id="why-comment"), "label", "why_comment")
        with gr.Row():
            send = tr(gr.Button(i18n("why_send"), variant="primary", size="sm", elem_id="why-send"), "value", "why_send")
            skip = tr(gr.Button(i18n("why_skip"), size="sm", elem_id="why-skip"), "value", "why_skip")

    def on_send(feedback_id: Any, code: str, text_: str, choice: str, request: Any) -> tuple:
        gr.Info(h.explain(feedback_id, code, text_, reader_language(choice, request)), duration=4)
        return gr.update(visible=False), None, gr.update(value=None), ""

    on_send.__annotations__ = {"feedback_id": Any, "code": str, "text_": str, "choice": str, "request": gr.Request, "return": tuple}
    send.click(on_send, [pending, reason, comment, lang], [why, pending, reason, comment], api_visibility="private")
    skip.click(lambda: (gr.update(visible=False), None, gr.update(value=None), ""), None, [why, pending, reason, comment],
               api_visibility="private", queue=False)
    return why, pending


def _reason_choices(pick: Any) -> list[tuple[Any, str]]:
    return [(pick(f"reason_{code}"), code) for code in REASONS]


def _language_choices(pick: Any) -> list[tuple[Any, str]]:
    return [(pick("language_auto"), "auto"), ("English", "en"), ("Bahasa Indonesia", "id")]
