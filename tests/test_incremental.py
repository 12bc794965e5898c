"""Incremental builds through the embedding cache, interrupted builds, and the approximate index."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from chatbot.index import vectors
from chatbot.ingest.chunking import embedding_text
from chatbot.cli import main as cli_main
from chatbot.embeddings.hashing import HashingEmbedder
from chatbot.index.directory import load_index, read_manifest
from chatbot.index.build import build, cache_dir

QUIET = {"progress": lambda _: None}


class Counting(HashingEmbedder):
    """The hashing embedder, counting the passages it is asked to embed; can fail after a number of them."""

    thread_safe = False  # its count is not: a build gives it one thread at a time

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__(64)
        self.embedded = 0
        self.fail_after = fail_after

    def encode_passages(self, texts):
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise KeyboardInterrupt  # what Ctrl-C raises in the middle of embedding
        self.embedded += len(texts)
        return super().encode_passages(texts)


def write_collection(path: Path, n: int, words: int = 60) -> None:
    """A JSONL collection of n distinct documents, each one passage long."""
    rng = np.random.default_rng(n)
    vocab = [f"term{i}" for i in range(400)]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(f"the {w} of" for w in rng.choice(vocab, size=words // 3)) + f" document{i}."
            fh.write(json.dumps({"id": f"doc-{i}", "title": f"Document {i}", "text": text, "language": "en"}) + "\n")


@pytest.fixture
def collection(tmp_path, make_settings):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_collection(folder / "docs.jsonl", 600)
    return make_settings(index_dir=tmp_path / "indexes" / "idx", corpus=(folder,), model="hashing-64")


def doc_ids(settings) -> set[str]:
    return {c.doc_id for c in load_index(settings.index_dir).chunks}


def edit_line(path: Path, n: int, text: str | None) -> None:
    """Replace the text of record n, or remove it (text None)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if text is None:
        del lines[n]
    else:
        rec = json.loads(lines[n])
        rec["text"] = text
        lines[n] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- incremental updates ----------------------------------------------------------------------


def test_second_build_after_a_change_embeds_only_the_changed_passages(collection):
    first = Counting()
    build(collection, embedders=(first,), **QUIET)
    assert first.embedded == 1200  # 600 passages and their 600 headings (titles)
    edit_line(collection.corpus[0] / "docs.jsonl", 5, "A completely new text about cytomegalovirus in newborn babies and hearing loss.")
    again = Counting()
    assert build(collection, embedders=(again,), **QUIET).built
    assert again.embedded == 1
    index = load_index(collection.index_dir)
    [chunk] = [c for c in index.chunks if c.doc_id == "doc-5"]
    assert "hearing loss" in chunk.text


def test_added_document_is_the_only_one_embedded(collection):
    build(collection, embedders=(Counting(),), **QUIET)
    with open(collection.corpus[0] / "docs.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "new-doc", "text": "Ganciclovir is an antiviral medicine used for CMV disease in transplant patients.", "language": "en"}) + "\n")
    again = Counting()
    build(collection, embedders=(again,), **QUIET)
    assert again.embedded == 2  # its passage and its heading
    assert "new-doc" in doc_ids(collection) and len(doc_ids(collection)) == 601


def test_removed_document_disappears_without_embedding_anything(collection):
    build(collection, embedders=(Counting(),), **QUIET)
    edit_line(collection.corpus[0] / "docs.jsonl", 7, None)
    again = Counting()
    build(collection, embedders=(again,), **QUIET)
    assert again.embedded == 0
    ids = doc_ids(collection)
    assert "doc-7" not in ids and len(ids) == 599


def test_cached_vectors_equal_freshly_embedded_ones(collection):
    build(collection, embedders=(Counting(),), **QUIET)
    cached = load_index(collection.index_dir)
    fresh = Counting().encode_passages([embedding_text(c) for c in cached.chunks[:20]])
    stored = cached.vectors[0].reconstruct_n(0, 20)
    assert np.allclose(stored, fresh, atol=1e-6)


def test_a_damaged_cache_file_is_ignored_and_its_passages_embedded_again(collection):
    build(collection, embedders=(Counting(),), **QUIET)
    for shard in cache_dir(collection).rglob("shard-*.npz"):
        shard.write_bytes(b"not a numpy file")
    again = Counting()
    build(collection, embedders=(again,), force=True, **QUIET)
    assert again.embedded == 1200 and len(doc_ids(collection)) == 600


def test_cache_drops_stale_vectors_once_they_outnumber_the_live_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors, "SHARD_PASSAGES", 10)
    emb = Counting()
    vectors.embed_passages(emb, [f"old text {i}" for i in range(30)], tmp_path)
    vectors.embed_passages(emb, [f"new text {i}" for i in range(5)], tmp_path, prune=False)
    assert len(vectors.EmbeddingCache(tmp_path, emb)) == 35  # a cache shared by several indexes keeps everything
    vectors.embed_passages(emb, [f"new text {i}" for i in range(5)], tmp_path)
    assert len(vectors.EmbeddingCache(tmp_path, emb)) == 5
    assert emb.embedded == 35


# --- interrupted builds -----------------------------------------------------------------------


def test_interrupted_build_keeps_the_previous_index_and_the_finished_work(collection):
    build(collection, embedders=(Counting(),), **QUIET)
    before = read_manifest(collection.index_dir)
    path = collection.corpus[0] / "docs.jsonl"
    for n in range(600):  # every document changes: a long rebuild
        rec = json.loads(path.read_text(encoding="utf-8").splitlines()[n])
        edit_line(path, n, rec["text"] + " revised")
    with pytest.raises(KeyboardInterrupt):
        build(collection, embedders=(Counting(fail_after=300),), **QUIET)
    assert read_manifest(collection.index_dir) == before  # the previous index, untouched and usable
    assert len(load_index(collection.index_dir).chunks) == 600
    assert not list(collection.index_dir.parent.glob(".idx.building-*"))  # no half-written index
    resumed = Counting()
    build(collection, embedders=(resumed,), **QUIET)
    assert resumed.embedded == 600 - 256  # the batch finished before Ctrl-C was kept
    assert all("revised" in c.text for c in load_index(collection.index_dir).chunks)


def test_ctrl_c_during_cli_build_says_the_index_is_unchanged(collection, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("chatbot.index.build.build", interrupted)
    code = cli_main(["build", "--index", str(collection.index_dir), "--corpus", str(collection.corpus[0]), "--model", "hashing-64"])
    err = capsys.readouterr().err
    assert code == 130 and "unchanged" in err and "Traceback" not in err


# --- exact below the threshold, approximate above ---------------------------------------------


def test_small_collections_get_an_exact_index(collection):
    build(collection, embedders=(Counting(),), **QUIET)
    assert [e["type"] for e in read_manifest(collection.index_dir)["embedders"]] == ["flat-ip"]


def test_large_collections_get_an_ivf_index_that_finds_each_passage(collection):
    from dataclasses import replace

    settings = replace(collection, ann_threshold=100)
    build(settings, embedders=(Counting(),), **QUIET)
    [entry] = read_manifest(settings.index_dir)["embedders"]
    assert entry["type"] == "ivf-sq8" and entry["nprobe"] < entry["nlist"]
    assert entry["heads_type"] == "sq-fp16"  # headings are searched whole: in 16 bits a dimension
    index = load_index(settings.index_dir)
    emb = Counting()
    for row in range(0, len(index.chunks), 60):
        _, ids = index.vectors[0].search(emb.encode_queries([index.chunks[row].text]), 1)
        assert ids[0][0] == row  # the approximate index itself finds the passage (titles here are all alike)
    # what fusion reads back is the passage's vector to within the 8-bit steps
    rows = np.arange(0, len(index.chunks), 7)
    stored = index.vectors[0].reconstruct_batch(rows)
    exact = emb.encode_passages([embedding_text(index.chunks[r]) for r in rows])
    assert np.abs(stored - exact).max() < 0.01 and (stored * exact).sum(axis=1).min() > 0.999
    heads = index.head_vectors[0].reconstruct_batch(np.arange(index.head_vectors[0].ntotal))
    assert np.allclose(heads, emb.encode_passages(list(index.heads)), atol=1e-3)


def test_ivf_index_is_rebuilt_from_the_cache_after_a_change(collection):
    from dataclasses import replace

    settings = replace(collection, ann_threshold=100)
    build(settings, embedders=(Counting(),), **QUIET)
    edit_line(settings.corpus[0] / "docs.jsonl", 3, None)
    again = Counting()
    build(settings, embedders=(again,), **QUIET)
    assert again.embedded == 0 and "doc-3" not in doc_ids(settings)


def test_embedders_run_side_by_side_with_the_same_vectors_as_one_after_the_other(tmp_path):
    texts = [f"the term{i} of the blood and the virus" for i in range(700)]
    together = vectors.embed_all([Counting(), HashingEmbedder(32)], texts, tmp_path / "a", workers=2)
    apart = vectors.embed_all([Counting(), HashingEmbedder(32)], texts, tmp_path / "b", workers=1)
    for x, y in zip(together, apart):
        assert np.array_equal(x.vectors, y.vectors) and x.fresh == y.fresh == 700


def test_one_embedder_interrupted_stops_the_other_and_keeps_both_caches(collection, monkeypatch):
    build(collection, embedders=(Counting(), HashingEmbedder(32)), **QUIET)
    before = read_manifest(collection.index_dir)
    path = collection.corpus[0] / "docs.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace(' document', ' changed document'), encoding="utf-8")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with pytest.raises(KeyboardInterrupt):
        build(collection, embedders=(Counting(fail_after=300), HashingEmbedder(32)), **QUIET)
    assert read_manifest(collection.index_dir) == before
    resumed = Counting()
    build(collection, embedders=(resumed, HashingEmbedder(32)), **QUIET)
    assert resumed.embedded == 600 - 256
    assert all("changed document" in c.text for c in load_index(collection.index_dir).chunks)


class Recording(HashingEmbedder):
    """The hashing embedder, slowed down, noting which threads call it and how many at once."""

    def __init__(self, thread_safe: bool, pause: float = 0.01) -> None:
        super().__init__(32)
        self.thread_safe, self.pause = thread_safe, pause
        self.threads: set[int] = set()
        self.now = self.most = 0
        self._lock = threading.Lock()

    def encode_passages(self, texts):
        with self._lock:
            self.threads.add(threading.get_ident())
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.pause)
        try:
            return super().encode_passages(texts)
        finally:
            with self._lock:
                self.now -= 1


def test_a_worker_done_with_its_embedder_helps_with_the_others(tmp_path):
    texts = [f"passage {i} about the virus" for i in range(vectors.BATCH * 12)]
    slow, quick = Recording(thread_safe=True, pause=0.05), Recording(thread_safe=True, pause=0.0)
    done = vectors.embed_all([slow, quick], [texts, texts[:3]], tmp_path, workers=2)
    assert len(slow.threads) == 2 and slow.most == 2  # two threads on the slow one at once
    assert np.array_equal(done[0].vectors, HashingEmbedder(32).encode_passages(texts))
    assert done[0].fresh == len(texts) and done[1].fresh == 3


def test_an_embedder_that_is_not_thread_safe_is_never_called_from_two_threads_at_once(tmp_path):
    texts = [f"passage {i} about the virus" for i in range(vectors.BATCH * 8)]
    single, other = Recording(thread_safe=False), Recording(thread_safe=True, pause=0.0)
    done = vectors.embed_all([single, other], texts, tmp_path, workers=2)
    assert single.most == 1 and done[0].fresh == len(texts)
    assert np.array_equal(done[0].vectors, HashingEmbedder(32).encode_passages(texts))


class Failing(HashingEmbedder):
    thread_safe = False

    def __init__(self) -> None:
        super().__init__(32)
        self.id = "failing"

    def encode_passages(self, texts):
        time.sleep(0.5)  # the other embedder finishes meanwhile
        raise RuntimeError("the model broke")


def test_the_error_of_one_embedder_is_what_the_build_raises_and_the_others_keep_their_work(tmp_path):
    texts = [f"passage {i} about the virus" for i in range(vectors.BATCH * 4)]
    with pytest.raises(RuntimeError, match="the model broke"):  # not the other worker's Stopped
        vectors.embed_all([Failing(), Recording(thread_safe=True, pause=0.0)], texts, tmp_path, workers=2)
    assert len(vectors.EmbeddingCache(tmp_path, Recording(thread_safe=True))) == len(texts)  # its batches were saved
    assert vectors.embed_all([], texts, tmp_path) == []


def test_a_rebuild_with_another_model_drops_the_old_models_cached_vectors(tmp_path, make_settings, corpus_dir):
    """An index's own cache keeps the vectors of the models it uses: after a switch (an earlier
    MiniLM replaced) the old model's folder goes; a cache shared by several indexes
    (CHATBOT_EMBEDDING_CACHE) is never pruned."""
    from chatbot.index.build import build, cache_dir

    first = make_settings(index_dir=tmp_path / "indexes" / "idx", corpus=(corpus_dir,), model="hashing-64")
    build(first, progress=lambda _: None)
    own = cache_dir(first)
    assert sorted(p.name for p in own.iterdir()) == ["hashing-64"]
    said = []
    build(replace(first, model="hashing-32"), progress=said.append)
    assert sorted(p.name for p in own.iterdir()) == ["hashing-32"]
    assert any("no longer uses: hashing-64" in line for line in said)

    shared = tmp_path / "shared"
    build(replace(first, index_dir=tmp_path / "other", embedding_cache=shared), progress=lambda _: None)
    build(replace(first, index_dir=tmp_path / "other", embedding_cache=shared, model="hashing-32"), progress=lambda _: None)
    assert sorted(p.name for p in shared.iterdir()) == ["hashing-32", "hashing-64"]
