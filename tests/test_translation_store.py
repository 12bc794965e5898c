"""Passage translations in the store, on SQLite and PostgreSQL: saved with who and when, keyed by the
passage text so they survive rebuilds, flagged "needs review" when the passage changes, bad input
refused, and a database from before translations (revision 0001) upgraded in place."""

from __future__ import annotations

from datetime import datetime

import pytest
from store_helpers import Clock, clock, db_url, store, store_settings  # noqa: F401 (fixtures)

from chatbot.errors import TranslationError
from chatbot.records import passage_hash
from chatbot.store import open_store
from chatbot.store.translations import NEEDS_REVIEW, REVIEWED, TEXT_LIMIT, Passage

ORIGINAL = Passage("leaflet#0003-aaaaaaaa", "leaflet", 3, "Semua produk darah harus diiradiasi.", "id")
TRANSLATION = "All blood products must be irradiated."
PAIRS = [{"original": ORIGINAL.text, "translated": TRANSLATION, "score": 0.9, "shape": "1-1"}]


def test_a_reviewed_translation_is_found_by_its_passage_text(store, clock):
    saved = store.translations.save(ORIGINAL, "en", TRANSLATION, "nurse.ani", reviewed=True, alignment=PAIRS)
    assert (saved["status"], saved["reviewer"], saved["reviewed_on"], saved["author"]) == (REVIEWED, "nurse.ani", "2026-03-01", "nurse.ani")
    assert saved["alignment"] == PAIRS and saved["source_text"] == ORIGINAL.text and saved["current"]
    assert list(store.translations.reviewed([ORIGINAL.hash], "en")) == [ORIGINAL.hash]
    assert store.translations.reviewed([ORIGINAL.hash], "id") == {} and store.translations.reviewed([], "en") == {}
    assert store.translations.counts() == {REVIEWED: 1, NEEDS_REVIEW: 0}
    audit = store.audit.recent().rows[0]
    assert (audit["actor"], audit["action"]) == ("nurse.ani", "translation_review") and ORIGINAL.chunk_id in audit["detail"]


def test_an_unreviewed_translation_is_kept_but_not_used(store):
    store.translations.save(ORIGINAL, "en", TRANSLATION, "nurse.ani", reviewed=False)
    found = store.translations.find(ORIGINAL, "en")
    assert (found["status"], found["note"], found["reviewer"]) == (NEEDS_REVIEW, "new", None)
    assert store.translations.reviewed([ORIGINAL.hash], "en") == {}
    store.translations.save(ORIGINAL, "en", TRANSLATION + " Always.", "dr.budi", reviewed=True)  # reviewed by someone else
    found = store.translations.find(ORIGINAL, "en")
    assert (found["status"], found["author"], found["reviewer"], found["text"]) == (REVIEWED, "nurse.ani", "dr.budi", TRANSLATION + " Always.")


def test_translations_survive_rebuilds_that_keep_the_passage_and_follow_it_when_it_moves(store):
    store.translations.save(ORIGINAL, "en", TRANSLATION, "nurse.ani", reviewed=True)
    moved = Passage("leaflet#0005-aaaaaaaa", "leaflet", 5, ORIGINAL.text, "id")  # a passage was inserted before it
    assert store.translations.reconcile([moved, Passage("leaflet#0003-bbbb", "leaflet", 3, "Teks baru.", "id")]) == 0
    found = store.translations.find(moved, "en")
    assert (found["chunk_id"], found["position"], found["status"]) == (moved.chunk_id, 5, REVIEWED)
    assert list(store.translations.reviewed([moved.hash], "en")) == [moved.hash]


def test_a_changed_passage_flags_its_translation_which_is_then_no_longer_used(store, clock):
    store.translations.save(ORIGINAL, "en", TRANSLATION, "nurse.ani", reviewed=True)
    changed = Passage("leaflet#0003-cccccccc", "leaflet", 3, "Semua produk darah harus selalu diiradiasi.", "id")
    clock.advance(days=3)
    assert store.translations.reconcile([changed]) == 1
    assert store.translations.reconcile([changed]) == 0  # flagged once
    assert store.translations.reviewed([changed.hash, ORIGINAL.hash], "en") == {}
    found = store.translations.find(changed, "en")  # attached to the passage now in its place, with the old text to compare
    assert (found["status"], found["note"], found["current"], found["source_text"]) == (NEEDS_REVIEW, "source_changed", False, ORIGINAL.text)
    entry = store.audit.recent().rows[0]
    assert (entry["actor"], entry["action"]) == ("system", "translation_flagged") and "source changed" in entry["detail"]
    # reviewing it again files it under the new text
    store.translations.save(changed, "en", "All blood products must always be irradiated.", "nurse.ani", reviewed=True)
    assert list(store.translations.reviewed([changed.hash], "en")) == [changed.hash]
    assert store.translations.counts() == {REVIEWED: 1, NEEDS_REVIEW: 0}
    assert store.translations.find(changed, "en")["reviewed_on"] == "2026-03-04"


def test_a_removed_passage_flags_its_translation(store):
    store.translations.save(ORIGINAL, "en", TRANSLATION, "nurse.ani", reviewed=True)
    assert store.translations.reconcile([Passage("other#0000-x", "other", 0, "Lain.", "id")]) == 1
    assert store.translations.for_document("leaflet")[0]["note"] == "source_removed"


@pytest.mark.parametrize("language,text,message", [
    ("id", TRANSLATION, "already in id"), ("fr", TRANSLATION, "use en or id"), ("en", "  \n ", "empty"),
    ("en", "x" * (TEXT_LIMIT + 1), "over the"),
])
def test_bad_translations_are_refused_with_what_to_do(store, language, text, message):
    with pytest.raises(TranslationError, match=message):
        store.translations.save(ORIGINAL, language, text, "nurse.ani", reviewed=True)
    assert store.translations.counts() == {REVIEWED: 0, NEEDS_REVIEW: 0}


def test_markup_and_sql_in_a_translation_are_stored_as_text(store):
    hostile = "<script>alert('x')</script> '; DROP TABLE translations; -- [link](javascript:alert(1))"
    store.translations.save(ORIGINAL, "en", hostile, "nurse.ani", reviewed=True)
    assert store.translations.find(ORIGINAL, "en")["text"] == hostile
    assert store.translations.counts()[REVIEWED] == 1


def test_questions_keep_the_passages_their_answer_quoted(store):
    store.feedback.question(question="Kenapa darah diiradiasi?", language="en", abstained=False, urgent=False,
                            chunk_ids=[ORIGINAL.chunk_id, "b#1"])
    store.feedback.question(question="off topic", language="en", abstained=True, urgent=False)
    assert store.feedback.quoted() == [("en", [ORIGINAL.chunk_id, "b#1"])]
    assert [r["chunk_ids"] for r in store.feedback.export()] == [[ORIGINAL.chunk_id, "b#1"], []]


def test_a_database_from_before_translations_is_upgraded_in_place(store_settings):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from chatbot.store.db import MIGRATIONS, database_url

    engine = create_engine(database_url(store_settings.database_url, store_settings.data_dir))
    store_settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(text("INSERT INTO questions (created_at, question, language, abstained, urgent) "
                          "VALUES (:t, 'old question', 'en', false, false)"), {"t": datetime(2026, 3, 1)})
    engine.dispose()
    upgraded = open_store(store_settings, clock=Clock())
    try:
        assert [(r["question"], r["chunk_ids"]) for r in upgraded.feedback.export()] == [("old question", [])]
        upgraded.translations.save(ORIGINAL, "en", TRANSLATION, "nurse.ani", reviewed=True)
        assert upgraded.translations.counts()[REVIEWED] == 1
    finally:
        upgraded.close()


def test_passage_hash_is_the_full_sha256_of_the_text():
    assert len(passage_hash("x")) == 64 and passage_hash("x") != passage_hash("x ")
