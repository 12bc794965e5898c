"""all-MiniLM-L6-v2 on ONNX Runtime: its vectors, the life of the exported file, and no torch on the query path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from chatbot.embeddings import load_embedders
from chatbot.embeddings import onnx_export
from chatbot.embeddings.minilm import FOLDER, META_FILE, MODEL_FILE, MODEL_ID, OnnxMiniLMEmbedder, check_export
from chatbot.errors import ModelError

REPO = Path(__file__).resolve().parent.parent
LONG = " ".join(["Cytomegalovirus spreads through saliva, urine and breast milk of people who carry it."] * 20)
SENTENCES = [
    "How is CMV transmitted?",
    "How does cytomegalovirus spread from person to person?",
    "What is a good recipe for chicken fried rice?",
    "Apakah ada vaksin untuk CMV?",
    LONG,  # well past 128 tokens: truncated as sentence-transformers truncates
    "Fever > 38.5 °C in a newborn — call the clinic ☎ now!",
]
HEAVY = ("torch", "transformers", "sentence_transformers")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.fixture(scope="module")
def onnx_minilm(real_embedders) -> OnnxMiniLMEmbedder:
    """The ONNX MiniLM of the default spec (exported into the user's model cache by `real_embedders`)."""
    emb = real_embedders[1]
    assert isinstance(emb, OnnxMiniLMEmbedder)
    return emb


@pytest.fixture(scope="module")
def st_minilm_128():
    """The same model through sentence-transformers, float32, cut at 128 tokens like the ONNX one."""
    from chatbot.embeddings.minilm import packaged_model
    from chatbot.embeddings.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(packaged_model()), model_id="st-fp32-128", cross_lingual=False, max_tokens=128)


@pytest.fixture
def cache_copy(tmp_path, onnx_minilm) -> Path:
    """A model cache holding a copy of the good export, free to damage."""
    cache = tmp_path / "models"
    shutil.copytree(onnx_minilm.folder, cache / FOLDER)
    return cache


def copy_export(good: Path, calls: list):
    """A stand-in for the export process: copies a good export into the staging folder (fast)."""

    def fake(source: Path, dest: Path) -> None:
        calls.append(dest)
        time.sleep(0.2)  # long enough for a second builder to arrive while this one holds the lock
        for name in (MODEL_FILE, META_FILE):
            shutil.copy(good / name, dest / name)

    return fake


# --- vectors -----------------------------------------------------------------------------------


@pytest.mark.models
def test_vectors_match_sentence_transformers(onnx_minilm, st_minilm_128):
    for encode in ("encode_queries", "encode_passages"):
        ours = getattr(onnx_minilm, encode)(SENTENCES)
        theirs = getattr(st_minilm_128, encode)(SENTENCES)
        cos = cosines(ours, theirs)
        assert cos.min() > 0.98 and cos.mean() > 0.99, cos


@pytest.mark.models
def test_int8_products_are_exact_on_this_cpu(onnx_minilm):
    """Every int8 matrix product of the exported model gives the exact integer result on this
    machine's CPU, so the products are the same on every x86 CPU (what is computed in float may
    still differ in its last bits). With 8-bit weights, a CPU without VNNI (EPYC before Zen 4,
    Xeon before Cascade Lake) adds pairs of products in 16 bits and saturates: on an AMD EPYC,
    68,091 of 15.3 million dot products of 40 questions and one long passage differed, by up to
    19,060, so a text's vector depended on the CPU. 7-bit weights (`reduce_range`) cannot
    saturate there: 255 x 64 x 2 < 32,767. The comparison fails with 8-bit weights only on a CPU
    without VNNI; the bound on the weights fails on every CPU."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(onnx_minilm.folder / MODEL_FILE))
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    products = [n for n in model.graph.node if n.op_type == "MatMulInteger"]
    assert len(products) == 36  # six layers: query, key, value, attention output, two feed-forward
    widest = max(int(np.abs(weights[n.input[1]].astype(np.int16)).max()) for n in products)
    assert widest <= 64, f"weights up to {widest}: 8 bits, whose products saturate on CPUs without VNNI"
    seen = {n.input[0]: TensorProto.UINT8 for n in products} | {n.input[2]: TensorProto.UINT8 for n in products}
    seen |= {n.output[0]: TensorProto.INT32 for n in products}
    model.graph.output.extend(helper.make_tensor_value_info(name, kind, None) for name, kind in seen.items() if name not in weights)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    differ = 0
    for text in SENTENCES:
        ids = np.array([onnx_minilm._tokenizer.encode(text).ids], dtype=np.int64)
        out = dict(zip(names, session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                                 "token_type_ids": np.zeros_like(ids)})))
        for n in products:
            a = out[n.input[0]].astype(np.int64) - out[n.input[2]].astype(np.int64)
            w = weights[n.input[1]].astype(np.int64) - weights[n.input[3]].astype(np.int64)
            differ += int((a @ w != out[n.output[0]]).sum())
    assert differ == 0, f"{differ} int8 products differ from their exact result on this CPU"


@pytest.mark.models
def test_unit_float32_rows_of_384(onnx_minilm):
    odd = ["", "   ", "\u202eevil\u202c", "<script>alert(1)</script>", "🦠" * 400, "x" * 20_000]
    vecs = onnx_minilm.encode_passages(odd)
    assert vecs.dtype == np.float32 and vecs.shape == (len(odd), 384) and vecs.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert onnx_minilm.encode_queries([]).shape == (0, 384)
    assert (onnx_minilm.id, onnx_minilm.cross_lingual) == (MODEL_ID, False)


@pytest.mark.models
def test_sentences_read_in_their_passage(onnx_minilm):
    """encode_with_spans: the passage vector is exactly encode_passages'; each sentence's vector,
    pooled from the passage's run, is nearest to that sentence embedded alone; a sentence past the
    128 tokens the model reads is NaN, not a vector of half a sentence."""
    parts = ["Cytomegalovirus is a common virus that infects people of all ages.",
             "It spreads through saliva, urine and breast milk.",
             "Ganciclovir is the drug used to treat severe infections."]
    passage = " ".join(parts)
    spans = [(passage.index(t), passage.index(t) + len(t)) for t in parts]
    tail = LONG + " The end of a long passage is never read."
    texts = [passage, "No spans here.", tail]
    vecs, pooled = onnx_minilm.encode_with_spans(texts, [spans, [], [(0, 20), (len(tail) - 20, len(tail))]])
    np.testing.assert_array_equal(vecs, onnx_minilm.encode_passages(texts))
    alone = onnx_minilm.encode_passages(parts)
    sims = pooled[0] @ alone.T
    assert (sims.argmax(axis=1) == np.arange(3)).all() and sims.diagonal().min() > 0.6, sims
    np.testing.assert_allclose(np.linalg.norm(pooled[0], axis=1), 1.0, rtol=1e-5)
    assert pooled[1].shape == (0, 384)
    assert not np.isnan(pooled[2][0]).any() and np.isnan(pooled[2][1]).all()


@pytest.mark.models
def test_a_large_collection_stores_its_sentences_as_read_in_their_passages(tmp_path, corpus_copy, make_settings,
                                                                            onnx_minilm, monkeypatch):
    """Over the sentence budget (MedQuAD: 130,000 sentences, minutes to embed alone) the build keeps
    the sentence vectors of the passage runs; the answer chooser then embeds only sentences the
    model did not read whole. A cache from before (no sentence vectors) runs the passages again;
    a rebuild from the cache embeds nothing."""
    from chatbot.answer.choose import SentenceVectors
    from chatbot.index import directory
    from chatbot.index.build import build
    from chatbot.index.directory import load_index
    from chatbot.index.vectors import text_key
    from chatbot.ingest.chunking import embedding_text
    from chatbot.serve.rebuild import Remembering
    from chatbot.ingest.sentences import sentence_places

    monkeypatch.setattr(directory, "SENTENCE_BUDGET", 10)
    settings = make_settings(index_dir=tmp_path / "idx" / "index", corpus=(corpus_copy,))
    logs: list[str] = []
    with monkeypatch.context() as m:  # a cache as an older build left it: passages only
        m.setattr(OnnxMiniLMEmbedder, "pools_spans", False)
        build(settings, embedders=(onnx_minilm,), progress=logs.append)
    loaded = load_index(settings.index_dir, (onnx_minilm,))
    assert loaded.sentences[0][1].ntotal == 0
    n = len(loaded.chunks)

    logs.clear()
    build(settings, embedders=(onnx_minilm,), force=True, progress=logs.append)
    assert any(f"embedded {n} new passages, 0 new headings" in line for line in logs), logs
    loaded = load_index(settings.index_dir, (onnx_minilm,))
    rows, vectors = loaded.sentences[0]
    places = [(c, embedding_text(c), t, a, b) for c in loaded.chunks for t, a, b in sentence_places(c, embedding_text(c))]
    assert 0.7 * len({t for *_, t, _, _ in places}) < len(rows) < len({t for *_, t, _, _ in places})  # most, not all

    class Refuses(OnnxMiniLMEmbedder):
        def encode_passages(self, texts):
            raise AssertionError(f"embedded at answer time: {texts[:1]}")

    refuse = object.__new__(Refuses)
    refuse.__dict__.update(onnx_minilm.__dict__)
    store = SentenceVectors.of_index(loaded, (onnx_minilm,))
    chunk, text, sentence, a, b = next(p for p in places if text_key(p[2]) in rows and p[2].startswith("CMV"))
    _, pooled = onnx_minilm.encode_with_spans([text], [[(a, b)]])
    np.testing.assert_allclose(store.encode(refuse, [sentence])[0], pooled[0][0], atol=1e-6)  # one text a call: the same run
    # a FAQ item's stored question, read in its passage too: its heading's vector (the question read
    # alone, as the FAQ match threshold was set on), not the one read in the passage
    head = next(h for h in loaded.heads if h.endswith("?") and text_key(h) in rows)
    in_passage = vectors.reconstruct(rows[text_key(head)])
    np.testing.assert_allclose(store.encode(refuse, [head])[0], loaded.head_vectors[0].reconstruct(loaded.heads.index(head)))
    assert not np.allclose(store.encode(refuse, [head])[0], in_passage)

    logs.clear()  # as the staff area's background rebuild wraps each model
    build(settings, embedders=(Remembering(onnx_minilm),), force=True, progress=logs.append)
    assert any("embedded 0 new passages, 0 new headings and 0 new sentences" in line for line in logs), logs
    assert load_index(settings.index_dir, (onnx_minilm,)).sentences[0][1].ntotal == len(rows)


@pytest.mark.models
def test_a_text_gets_one_vector_whatever_is_embedded_beside_it(onnx_minilm):
    """A text embedded in a batch of 40 (many-thread session) gets exactly the vector it gets alone
    (one-thread session), in any order: dynamic int8 scales each call's activations, so each text
    goes through its own call (minilm.GROUP), and an index built in another order, or a piece at a
    time, holds the same vectors."""
    from chatbot.embeddings.threads import one_thread

    texts = (SENTENCES * 7)[:40]
    together = onnx_minilm.encode_passages(texts)
    assert onnx_minilm._many is not None  # the large batch went through the many-thread session
    with one_thread():
        alone = np.vstack([onnx_minilm.encode_passages([t]) for t in SENTENCES])
        backwards = onnx_minilm.encode_passages(texts[::-1])[::-1]
    np.testing.assert_array_equal(together[: len(SENTENCES)], alone)
    np.testing.assert_array_equal(backwards, together)


@pytest.mark.models
def test_both_sessions_run_without_the_skip_layer_norm_fusion(onnx_minilm):
    """The vectors the model id stands for: ONNX Runtime's graph without SkipLayerNormFusion
    (minilm.UNFUSED), bit for bit, in the one-thread session of questions and the many-thread one
    of builds; with the fusion they differ (by about 1e-6 with 7-bit weights)."""
    import onnxruntime as ort

    from chatbot.embeddings.minilm import UNFUSED
    from chatbot.embeddings.threads import one_thread

    def hidden_of(session) -> np.ndarray:
        tokens = [e.ids for e in onnx_minilm._tokenizer.encode_batch(SENTENCES[:4])]
        ids = np.zeros((len(tokens), max(map(len, tokens))), dtype=np.int64)
        mask = np.zeros_like(ids)
        for n, row in enumerate(tokens):
            ids[n, : len(row)], mask[n, : len(row)] = row, 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        names = {i.name for i in session.get_inputs()}
        return session.run(None, {k: v for k, v in feed.items() if k in names})[0]

    path = str(onnx_minilm.folder / MODEL_FILE)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    plain = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"], disabled_optimizers=list(UNFUSED))
    fused = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    with one_thread():
        ours = hidden_of(onnx_minilm._session())
    assert np.array_equal(ours, hidden_of(plain))
    onnx_minilm.encode_passages(SENTENCES * 10)  # a large batch: the many-thread session exists
    assert np.array_equal(hidden_of(onnx_minilm._many), hidden_of(plain))
    if not np.array_equal(hidden_of(fused), hidden_of(plain)):  # the fusion fires (onnxruntime 1.32 here): told apart
        assert not np.array_equal(ours, hidden_of(fused))


@pytest.mark.models
def test_text_is_cut_at_128_tokens(onnx_minilm):
    longer = onnx_minilm.encode_passages([LONG, LONG + " Something entirely different about rice and chickens."])
    np.testing.assert_allclose(longer[0], longer[1], atol=1e-6)


# --- the exported file ----------------------------------------------------------------------------


def test_missing_export_names_the_command_to_run(tmp_path):
    cache = tmp_path / "empty"
    for load in (lambda: OnnxMiniLMEmbedder(cache), lambda: load_embedders("minilm", cache)):
        with pytest.raises(ModelError) as err:
            load()
        message = str(err.value)
        assert str(cache / FOLDER) in message and "is missing" in message and "`chatbot build`" in message


@pytest.mark.models
@pytest.mark.parametrize("damage", ["flipped", "truncated", "record"])
def test_damaged_export_is_refused_with_what_to_run(cache_copy, damage):
    model, meta = cache_copy / FOLDER / MODEL_FILE, cache_copy / FOLDER / META_FILE
    data = bytearray(model.read_bytes())
    if damage == "flipped":  # a weight changed: ONNX Runtime would load it without complaint
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
    elif damage == "truncated":
        model.write_bytes(bytes(data[: len(data) // 3]))
    else:
        meta.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="damaged|cannot be read") as err:
        OnnxMiniLMEmbedder(cache_copy)
    assert "`chatbot build`" in str(err.value)


@pytest.mark.models
def test_export_from_other_weights_is_stale(cache_copy):
    meta_path = cache_copy / FOLDER / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["source"]["weights"] = "1:other"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="another copy or version"):
        OnnxMiniLMEmbedder(cache_copy)


@pytest.mark.models
def test_build_step_exports_again_over_a_damaged_copy(cache_copy, onnx_minilm, monkeypatch):
    model = cache_copy / FOLDER / MODEL_FILE
    model.write_bytes(model.read_bytes()[:1000])
    calls: list = []
    monkeypatch.setattr(onnx_export, "export_in_child", copy_export(onnx_minilm.folder, calls))
    messages: list[str] = []
    assert onnx_export.ensure_minilm(cache_copy, messages.append) == cache_copy / FOLDER
    assert len(calls) == 1 and "damaged" in messages[0]
    OnnxMiniLMEmbedder(cache_copy)  # loads again
    onnx_export.ensure_minilm(cache_copy, messages.append)
    assert len(calls) == 1  # a good copy is left alone
    assert sorted(p.name for p in cache_copy.iterdir()) == [f".{FOLDER}.lock", FOLDER]


@pytest.mark.models
@pytest.mark.parametrize("before", ["empty", "damaged"])
def test_interrupted_export_leaves_nothing_half_written(cache_copy, monkeypatch, before):
    folder = cache_copy / FOLDER
    if before == "empty":
        shutil.rmtree(folder)
    else:
        (folder / MODEL_FILE).write_bytes(b"damaged")
    kept = {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None

    def interrupted(source: Path, dest: Path) -> None:
        (dest / "float32.onnx").write_bytes(b"\x08\x07half an onnx file")
        raise KeyboardInterrupt  # Ctrl-C (or SIGTERM through the CLI) in the middle of the export

    monkeypatch.setattr(onnx_export, "export_in_child", interrupted)
    with pytest.raises(KeyboardInterrupt):
        onnx_export.ensure_minilm(cache_copy, lambda _: None)
    assert [p.name for p in cache_copy.iterdir() if ".tmp-" in p.name or ".old-" in p.name] == []
    assert ({p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None) == kept
    with pytest.raises(ModelError):
        OnnxMiniLMEmbedder(cache_copy)


@pytest.mark.models
def test_leftovers_of_a_killed_export_are_removed(cache_copy, onnx_minilm, monkeypatch):
    shutil.rmtree(cache_copy / FOLDER)
    killed = cache_copy / f".{FOLDER}.tmp-999999"
    killed.mkdir()
    (killed / "float32.onnx").write_bytes(b"half")
    monkeypatch.setattr(onnx_export, "export_in_child", copy_export(onnx_minilm.folder, []))
    onnx_export.ensure_minilm(cache_copy, lambda _: None)
    assert not killed.exists() and not check_export(cache_copy / FOLDER, onnx_minilm._source).problem


@pytest.mark.models
def test_builds_at_the_same_time_export_once(cache_copy, onnx_minilm, monkeypatch):
    shutil.rmtree(cache_copy / FOLDER)
    calls: list = []
    monkeypatch.setattr(onnx_export, "export_in_child", copy_export(onnx_minilm.folder, calls))
    errors: list = []

    def builder() -> None:
        try:
            onnx_export.ensure_minilm(cache_copy, lambda _: None)
            OnnxMiniLMEmbedder(cache_copy)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=builder) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(calls) == 1


def test_export_without_torch_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(ModelError, match="needs torch"):
        onnx_export._export_float32(tmp_path, tmp_path / "x.onnx")


def test_unwritable_cache_says_what_to_set(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelError, match="CHATBOT_MODEL_CACHE"):
        onnx_export.ensure_minilm(blocker / "models", lambda _: None)


@pytest.mark.models
def test_build_exports_into_an_empty_cache_in_a_child_process(tmp_path, corpus_dir, make_settings, onnx_minilm):
    """The real export (torch) through `chatbot build`: torch is loaded by the export's own process
    only, and the index records the ONNX model."""
    from chatbot.index.build import build

    cache, index = tmp_path / "models", tmp_path / "index"
    code = ("from chatbot.cli import main\n"
            f"assert main(['build', '--index', {str(index)!r}, '--corpus', {str(corpus_dir)!r}, '--model', 'minilm']) == 0")
    assert _heavy_modules_after(code, CHATBOT_MODEL_CACHE=str(cache)) == []
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    assert [e["id"] for e in manifest["embedders"]] == [MODEL_ID] and manifest["model"] == "minilm"
    fresh = OnnxMiniLMEmbedder(cache)
    assert cosines(fresh.encode_passages(SENTENCES), onnx_minilm.encode_passages(SENTENCES)).min() > 0.999
    messages: list[str] = []
    settings = make_settings(index_dir=index, corpus=(corpus_dir,), model="minilm", model_cache=cache)
    assert build(settings, progress=messages.append).built is False and messages == []  # exported once


def test_failed_export_process_is_one_model_error(tmp_path):
    with pytest.raises(ModelError, match="exporting all-MiniLM-L6-v2 to ONNX failed: no model to export at .*reinstall"):
        onnx_export.export_in_child(tmp_path / "no-model", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- no torch where patients wait --------------------------------------------------------------


def _heavy_modules_after(code: str, **env_vars: str) -> list[str]:
    """The torch-family modules a fresh Python process has imported after running `code`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")} | {"HF_HUB_OFFLINE": "1"} | env_vars
    probe = code + f"\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.mark.models
def test_loading_and_using_minilm_does_not_import_torch(onnx_minilm):
    code = ("from chatbot.embeddings import load_embedders\n"
            f"[m] = load_embedders('minilm', {str(onnx_minilm.folder.parent)!r})\n"
            "assert m.encode_queries(['How is CMV transmitted?']).shape == (1, 384)\n"
            "assert m.encode_passages(['a passage'] * 40).shape == (40, 384)")
    assert _heavy_modules_after(code) == []


@pytest.mark.models
def test_chatbot_ask_does_not_import_torch(real_index, corpus_dir):
    code = ("from chatbot.cli import main\n"
            f"assert main(['ask', 'How is CMV transmitted?', '--index', {str(real_index.path)!r}, "
            f"'--corpus', {str(corpus_dir)!r}]) == 0")
    assert _heavy_modules_after(code) == []


# --- indexes built with the torch MiniLM ---------------------------------------------------------


@pytest.mark.models
def test_index_of_the_torch_minilm_is_told_apart(tmp_path, corpus_dir, make_settings, onnx_minilm):
    """`minilm-st` (sentence-transformers, torch int8) still builds; its index has its own id, so
    reading it as `minilm` asks for a rebuild, and the default index rebuilds itself."""
    from chatbot.errors import IndexStaleError
    from chatbot.index.build import build, open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(sorted(corpus_dir.glob("*.md"))[0], corpus)
    old = make_settings(index_dir=tmp_path / "index", corpus=(corpus,), model="minilm-st")
    manifest = build(old, progress=lambda _: None).manifest
    assert [e["id"] for e in manifest["embedders"]] == ["all-MiniLM-L6-v2-int8-128"] and manifest["model"] == "minilm-st"
    with pytest.raises(IndexStaleError) as err:
        open_index(make_settings(index_dir=old.index_dir, corpus=(corpus,), model="minilm"), auto_build=False)
    assert "built with all-MiniLM-L6-v2-int8-128" in str(err.value) and f"{MODEL_ID}" in str(err.value)
    assert "`chatbot build --index" in str(err.value)
    rebuilt = open_index(make_settings(index_dir=old.index_dir, corpus=(corpus,), model="minilm"), auto_build=True,
                         progress=lambda _: None)
    assert [e["id"] for e in rebuilt.manifest["embedders"]] == [MODEL_ID]


@pytest.mark.models
@pytest.mark.parametrize("older", ["all-MiniLM-L6-v2-onnx-int8-128", "all-MiniLM-L6-v2-onnx-int8-128-v2"])
def test_index_of_an_earlier_onnx_minilm_is_rebuilt(tmp_path, corpus_dir, make_settings, onnx_minilm, older):
    """An index whose MiniLM vectors came from an earlier export is stale: refused with what to
    run, and the default index rebuilds itself. Without "-v2": the fused graph, four texts a call;
    "-v2": 8-bit weights, whose products saturate on CPUs without VNNI."""
    from chatbot.errors import IndexStaleError
    from chatbot.index.build import build, open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(sorted(corpus_dir.glob("*.md"))[0], corpus)
    settings = make_settings(index_dir=tmp_path / "index", corpus=(corpus,), model="minilm")
    build(settings, progress=lambda _: None)
    manifest_file = settings.index_dir / "manifest.json"
    manifest_file.write_text(manifest_file.read_text(encoding="utf-8").replace(MODEL_ID, older), encoding="utf-8")
    with pytest.raises(IndexStaleError) as err:
        open_index(settings, auto_build=False)
    assert f"built with {older}," in str(err.value) and "`chatbot build --index" in str(err.value)
    rebuilt = open_index(settings, auto_build=True, progress=lambda _: None)
    assert [e["id"] for e in rebuilt.manifest["embedders"]] == [MODEL_ID]


@pytest.mark.models
def test_full_disk_during_export_says_what_to_do(cache_copy, monkeypatch):
    (cache_copy / FOLDER / MODEL_FILE).write_bytes(b"damaged")

    def full(source: Path, dest: Path) -> None:
        (dest / MODEL_FILE).write_bytes(b"part")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(onnx_export, "export_in_child", full)
    with pytest.raises(ModelError, match="No space left.*free some space.*CHATBOT_MODEL_CACHE"):
        onnx_export.ensure_minilm(cache_copy, lambda _: None)
    assert (cache_copy / FOLDER / MODEL_FILE).read_bytes() == b"damaged"  # nothing half-written in its place
    assert [p.name for p in cache_copy.iterdir() if ".tmp-" in p.name] == []


def test_a_sentence_embedded_while_the_patient_waits_gets_the_same_vector_whatever_else_is_embedded(onnx_minilm, monkeypatch):
    """int8 models scale each call's activations: in one call with other sentences a sentence's
    vector could differ a little from its vector alone, and an answer depended on which sentences
    earlier questions had put in the cache (one of 94 measured answers changed with the order of
    the questions). The answer-time cache embeds one text a call, whatever the embedder does
    (MiniLM now runs one text a call itself: test_a_text_gets_one_vector_whatever_is_embedded_beside_it)."""
    import faiss

    from chatbot.answer.choose import SentenceVectors

    sentence = "CMV can remain dormant in the body and reactivate when the immune system is weakened."
    others = ["Babies catch it before birth.", "A very long sentence about blood counts, platelets, transfusions, "
              "bone marrow and many other things that make this call's activations larger than the first one's."]
    monkeypatch.setattr("chatbot.embeddings.minilm.GROUP", 4)  # an embedder whose calls hold several texts
    assert not np.array_equal(onnx_minilm.encode_passages([sentence])[0], onnx_minilm.encode_passages([sentence, *others])[0])
    alone = SentenceVectors().encode(onnx_minilm, [sentence])[0]
    with_others = SentenceVectors().encode(onnx_minilm, [*others, sentence])[2]
    np.testing.assert_array_equal(alone, with_others)
    stored = SentenceVectors({onnx_minilm.id: ({b"x": 0}, faiss.IndexFlatIP(384))})  # a large index: openings, one a call
    np.testing.assert_array_equal(stored.encode(onnx_minilm, [sentence])[0], stored.encode(onnx_minilm, [others[1], sentence])[1])
